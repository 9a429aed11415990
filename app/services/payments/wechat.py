"""WeChat Pay API v3 (微信支付 APIv3), Native payment (a QR code the payer scans), behind the
provider interface. Configured from the environment (README, "Online payments"):
WECHATPAY_MCHID, WECHATPAY_APPID, WECHATPAY_SERIAL_NO (our merchant certificate's serial),
WECHATPAY_PRIVATE_KEY_PATH (our apiclient_key.pem), WECHATPAY_APIV3_KEY (32 characters),
WECHATPAY_PLATFORM_PUBLIC_KEY_PATH (WeChat Pay's public key / platform certificate key, PEM),
WECHATPAY_PLATFORM_SERIAL (its id, optional: checked against Wechatpay-Serial when set).

The protocol, as WeChat Pay documents it:
- Each request is signed: SHA256withRSA (PKCS#1 v1.5) with our private key over
  "METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n", sent as
  `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",timestamp="..",serial_no=".."`.
- Each answer and each notification is signed by WeChat Pay: Wechatpay-Signature is
  SHA256withRSA over "Wechatpay-Timestamp\\nWechatpay-Nonce\\nBODY\\n", checked with the platform
  public key; a timestamp more than 5 minutes off is refused.
- A notification's `resource` is encrypted with AEAD_AES_256_GCM under the APIv3 key
  (nonce and associated_data given beside the base64 ciphertext, whose last 16 bytes are the tag).
- We answer a notification we accepted with 204 and no body; anything else makes WeChat retry.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path
from typing import Mapping

import requests
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.services.payments.providers import FAILED, PAID, Checkout, Notice, NotificationRefused, ProviderError
from app.services.payments.signing import fresh, notification_message

API_BASE = "https://api.mch.weixin.qq.com"
SCHEMA = "WECHATPAY2-SHA256-RSA2048"
# trade_state → our outcome ("" = still open: NOTPAY, USERPAYING, ACCEPT)
TRADE_STATES = {"SUCCESS": PAID, "REFUND": PAID, "CLOSED": FAILED, "REVOKED": FAILED, "PAYERROR": FAILED}


def rsa_sign(private_key, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


def request_message(method: str, path: str, timestamp: str, nonce: str, body: str) -> bytes:
    return f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n".encode()


def decrypt_resource(apiv3_key: str, resource: Mapping) -> dict:
    """The notification's plaintext resource (AEAD_AES_256_GCM under the APIv3 key)."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise NotificationRefused("unknown algorithm")
    try:
        plain = AESGCM(apiv3_key.encode()).decrypt(str(resource["nonce"]).encode(),
                                                     base64.b64decode(resource["ciphertext"]),
                                                     str(resource.get("associated_data") or "").encode())
        return json.loads(plain)
    except (InvalidTag, KeyError, ValueError, TypeError) as error:
        raise NotificationRefused(f"cannot decrypt resource: {error!r}") from None


def _load(path: str | None, what: str) -> bytes:
    if not path:
        raise ProviderError(f"WeChat Pay is not configured: {what} is missing")
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ProviderError(f"WeChat Pay: cannot read {what}: {error}") from None


class WeChatPayProvider:
    name = "wechat"

    def __init__(self, *, mchid: str, appid: str, serial_no: str, private_key_pem: bytes, apiv3_key: str,
                 platform_public_key_pem: bytes, platform_serial: str = "", base_url: str = API_BASE,
                 session: requests.Session | None = None, timeout: float = 10):
        if len(apiv3_key.encode()) != 32:
            raise ProviderError("WeChat Pay: the APIv3 key must be 32 bytes")
        self.mchid, self.appid, self.serial_no = mchid, appid, serial_no
        self.private_key = serialization.load_pem_private_key(private_key_pem, password=None)
        self.platform_key = _public_key(platform_public_key_pem)
        self.apiv3_key, self.platform_serial = apiv3_key, platform_serial
        self.base_url, self.session, self.timeout = base_url.rstrip("/"), session or requests.Session(), timeout

    @classmethod
    def from_config(cls, config: Mapping) -> WeChatPayProvider:
        for key in ("WECHATPAY_MCHID", "WECHATPAY_APPID", "WECHATPAY_SERIAL_NO", "WECHATPAY_APIV3_KEY"):
            if not config.get(key):
                raise ProviderError(f"WeChat Pay is not configured: {key} is missing")
        return cls(mchid=config["WECHATPAY_MCHID"], appid=config["WECHATPAY_APPID"],
                   serial_no=config["WECHATPAY_SERIAL_NO"],
                   private_key_pem=_load(config.get("WECHATPAY_PRIVATE_KEY_PATH"), "WECHATPAY_PRIVATE_KEY_PATH"),
                   apiv3_key=config["WECHATPAY_APIV3_KEY"],
                   platform_public_key_pem=_load(config.get("WECHATPAY_PLATFORM_PUBLIC_KEY_PATH"),
                                                 "WECHATPAY_PLATFORM_PUBLIC_KEY_PATH"),
                   platform_serial=config.get("WECHATPAY_PLATFORM_SERIAL") or "",
                   base_url=config.get("WECHATPAY_API_BASE") or API_BASE)

    # --- transport -------------------------------------------------------------------------

    def authorization(self, method: str, path: str, body: str, timestamp: str | None = None,
                      nonce: str | None = None) -> str:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(16).upper()
        signature = rsa_sign(self.private_key, request_message(method, path, timestamp, nonce, body))
        return (f'{SCHEMA} mchid="{self.mchid}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{timestamp}",serial_no="{self.serial_no}"')

    def _verified(self, headers: Mapping[str, str], body: bytes) -> None:
        timestamp = headers.get("Wechatpay-Timestamp", "")
        serial = headers.get("Wechatpay-Serial", "")
        if self.platform_serial and serial and serial != self.platform_serial:
            raise NotificationRefused("unknown platform serial")
        message = notification_message(timestamp, headers.get("Wechatpay-Nonce", ""), body)
        if not rsa_verify(self.platform_key, message, headers.get("Wechatpay-Signature", "")):
            raise NotificationRefused("bad signature")
        if not fresh(timestamp):
            raise NotificationRefused("stale timestamp")

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload is not None else ""
        headers = {"Authorization": self.authorization(method, path, body), "Accept": "application/json",
                   "User-Agent": "lianying/1.0"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.session.request(method, self.base_url + path, data=body.encode() or None,
                                            headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise ProviderError(f"WeChat Pay unreachable: {error}") from None
        try:
            self._verified(response.headers, response.content)
        except NotificationRefused as error:
            raise ProviderError(f"WeChat Pay answer not authentic: {error}") from None
        data = response.json() if response.content else {}
        if response.status_code >= 400:
            raise ProviderError(f"WeChat Pay: {data.get('code', response.status_code)} {data.get('message', '')}")
        return data

    # --- the interface ---------------------------------------------------------------------

    def create(self, intent, notify_url: str) -> Checkout:
        description = f"联营订单 {intent.order.number}" if intent.order is not None else "联营预存款充值"
        data = self._call("POST", "/v3/pay/transactions/native", {
            "appid": self.appid, "mchid": self.mchid, "description": description,
            "out_trade_no": intent.reference, "notify_url": notify_url,
            "amount": {"total": intent.amount_fen, "currency": "CNY"}})
        if not data.get("code_url"):
            raise ProviderError("WeChat Pay: no code_url in the answer")
        return Checkout(data["code_url"])

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notice:
        self._verified(headers, body)
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
        except (ValueError, KeyError, TypeError):
            raise NotificationRefused("unreadable body") from None
        transaction = decrypt_resource(self.apiv3_key, resource)
        if transaction.get("mchid") not in (None, self.mchid):
            raise NotificationRefused("another merchant's transaction")
        return _notice(transaction)

    def query(self, intent) -> Notice | None:
        data = self._call("GET", f"/v3/pay/transactions/out-trade-no/{intent.reference}?mchid={self.mchid}")
        return _notice(data)

    def refund(self, intent, refund) -> str:
        payload = {"out_trade_no": intent.reference, "out_refund_no": refund.reference,
                   "amount": {"refund": refund.amount_fen, "total": intent.amount_fen, "currency": "CNY"}}
        if refund.reason:
            payload["reason"] = refund.reason[:80]
        data = self._call("POST", "/v3/refund/domestic/refunds", payload)
        if data.get("status") in ("CLOSED", "ABNORMAL") or not data.get("refund_id"):
            raise ProviderError(f"WeChat Pay refused the refund: {data.get('status', '')}")
        return str(data["refund_id"])

    def acknowledgement(self) -> tuple[dict | None, int]:
        return None, 204


def _public_key(pem: bytes):
    """A PEM public key, or the key of a PEM platform certificate."""
    if b"CERTIFICATE" in pem:
        from cryptography import x509

        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def _notice(transaction: Mapping) -> Notice:
    try:
        return Notice(reference=str(transaction["out_trade_no"]),
                      outcome=TRADE_STATES.get(str(transaction.get("trade_state")), ""),
                      amount_fen=int(transaction["amount"]["total"]),
                      provider_txn_id=str(transaction.get("transaction_id") or ""),
                      reason=str(transaction.get("trade_state_desc") or "")[:200])
    except (KeyError, TypeError, ValueError):
        raise NotificationRefused("transaction without out_trade_no or amount") from None
