"""Builders for payment tests: an invoiced order and sandbox notifications signed as the
sandbox signs them."""
from __future__ import annotations

from app.services.payments.sandbox import SandboxProvider
from tests import builders_credit

NOTIFY_PATH = "/api/v1/payments/notify/sandbox"


def invoiced_order(world, total_fen: int = 10_000, paid_fen: int = 0):
    """An order of the world's retailer from its dealer, shipped and invoiced."""
    invoice = builders_credit.invoice(world.orgs["retailer"], world.orgs["dealer"], total_fen, paid_fen=paid_fen)
    return invoice.order, invoice


def sandbox_notification(intent, outcome: str = "paid", reason: str = "") -> tuple[dict, bytes]:
    return SandboxProvider().signed_notification(intent, outcome, reason)
