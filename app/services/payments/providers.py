"""The provider interface: what every payment provider does for us, and which one is configured.

    checkout = provider().create(intent, notify_url)     # where to send the payer (URL or QR text)
    notice = provider(name).parse_notification(headers, body)   # verified, or NotificationRefused
    notice = provider(name).query(intent)                 # the provider's view, or None
    refund_id = provider(name).refund(intent, refund)     # raises ProviderError when refused
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from flask import current_app

from app.services.core.errors import DomainError

PAID = "paid"
FAILED = "failed"


@dataclass(frozen=True)
class Checkout:
    url: str  # a page to redirect the payer to, or the QR payload (weixin://...) to show


@dataclass(frozen=True)
class Notice:
    """A verified statement of the provider about one of our intents."""

    reference: str  # our intent reference (out_trade_no)
    outcome: str  # PAID | FAILED | "" (still open)
    amount_fen: int
    provider_txn_id: str = ""
    reason: str = ""


class NotificationRefused(Exception):
    """The notification is not authentic or not readable: answer 4xx, log it, change nothing."""


class ProviderError(DomainError):
    """The provider refused or could not be reached."""


class Provider(Protocol):
    name: str

    def create(self, intent, notify_url: str) -> Checkout: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notice: ...

    def query(self, intent) -> Notice | None: ...

    def refund(self, intent, refund) -> str: ...

    def acknowledgement(self) -> tuple[dict | None, int]: ...


def configured_name() -> str:
    """The provider new intents use ("" = online payment switched off)."""
    return current_app.config.get("PAYMENTS_PROVIDER") or ""


def provider(name: str | None = None) -> Provider:
    name = name if name is not None else configured_name()
    if name == "sandbox":
        from app.services.payments.sandbox import SandboxProvider

        return SandboxProvider()
    if name == "wechat":
        from app.services.payments.wechat import WeChatPayProvider

        return WeChatPayProvider.from_config(current_app.config)
    raise LookupError(name)


def known(name: str) -> bool:
    return name in ("sandbox", "wechat")
