"""The local sandbox provider: plays a payment provider on this machine, so online payment works
end to end on a fresh `make run` and in tests.

Its checkout page (/payments/sandbox/<reference>, app/web/payments) shows the amount with
"pay" and "fail" buttons; a button makes the notification here and POSTs it over HTTP to our
notify endpoint, signed the way a real provider signs (headers Sandbox-Timestamp,
Sandbox-Nonce, Sandbox-Signature = base64 HMAC-SHA256 over `timestamp\\nnonce\\nbody\\n` with
PAYMENTS_SANDBOX_SECRET). The notify endpoint verifies it exactly as it verifies WeChat's."""
from __future__ import annotations

import json
import secrets
import time
from typing import Mapping

import requests
from flask import current_app

from app.services.payments.providers import FAILED, PAID, Checkout, Notice, NotificationRefused, ProviderError
from app.services.payments.signing import fresh, hmac_signature, notification_message

EVENTS = {"TRANSACTION.SUCCESS": PAID, "TRANSACTION.FAILED": FAILED}


def _secret() -> str:
    return current_app.config["PAYMENTS_SANDBOX_SECRET"]


class SandboxProvider:
    name = "sandbox"

    def create(self, intent, notify_url: str) -> Checkout:
        return Checkout(f"{current_app.config['PAYMENTS_SANDBOX_URL'].rstrip('/')}/{intent.reference}")

    def signed_notification(self, intent, outcome: str, reason: str = "") -> tuple[dict[str, str], bytes]:
        """The headers and body the sandbox sends for `intent` paid or failed."""
        event = "TRANSACTION.SUCCESS" if outcome == PAID else "TRANSACTION.FAILED"
        body = json.dumps({"id": secrets.token_hex(8), "event_type": event, "out_trade_no": intent.reference,
                           "transaction_id": "SB" + secrets.token_hex(10) if outcome == PAID else "",
                           "amount": {"total": intent.amount_fen, "currency": "CNY"}, "reason": reason},
                          ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
        signature = hmac_signature(_secret(), notification_message(timestamp, nonce, body))
        return ({"Content-Type": "application/json", "Sandbox-Timestamp": timestamp, "Sandbox-Nonce": nonce,
                 "Sandbox-Signature": signature}, body)

    def send(self, notify_url: str, headers: dict[str, str], body: bytes) -> int:
        """POST the notification like a provider's server does; the status our endpoint answered."""
        try:
            return requests.post(notify_url, data=body, headers=headers, timeout=10).status_code
        except requests.RequestException as error:
            raise ProviderError(str(error)) from None

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notice:
        timestamp = headers.get("Sandbox-Timestamp", "")
        nonce = headers.get("Sandbox-Nonce", "")
        given = headers.get("Sandbox-Signature", "")
        expected = hmac_signature(_secret(), notification_message(timestamp, nonce, body))
        if not given or not secrets.compare_digest(given, expected):
            raise NotificationRefused("bad signature")
        if not fresh(timestamp):
            raise NotificationRefused("stale timestamp")
        try:
            data = json.loads(body)
            return Notice(reference=str(data["out_trade_no"]), outcome=EVENTS[data["event_type"]],
                          amount_fen=int(data["amount"]["total"]), provider_txn_id=str(data.get("transaction_id") or ""),
                          reason=str(data.get("reason") or "")[:200])
        except (ValueError, KeyError, TypeError) as error:
            raise NotificationRefused(f"unreadable body: {error}") from None

    def query(self, intent) -> Notice | None:
        return None  # the sandbox keeps no books of its own: its notifications are the record

    def refund(self, intent, refund) -> str:
        return "SBR" + secrets.token_hex(10)

    def acknowledgement(self) -> tuple[dict | None, int]:
        return {"code": "SUCCESS", "message": "OK"}, 200
