"""Online payments: an intent to pay an order's invoice or to top up the prepayment wallet,
through a payment provider (the local sandbox, WeChat Pay), and the refunds of paid intents.

The intent is marked paid exactly once (a conditional UPDATE from `created`); where its money
was posted is kept on it (`payment_id` for an order's invoice, `prepayment_entry_id` for the
wallet), so a refund knows what to reverse. The rules are in app/services/payments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.ordering import Order
from app.models.org import Organisation
from app.models.vocabulary import IntentPurpose, IntentStatus  # noqa: F401 (re-exported)


class PaymentIntent(Base):
    __tablename__ = "payment_intents"
    __table_args__ = (
        CheckConstraint("purpose IN ('order', 'topup')", name="purpose"),
        CheckConstraint("status IN ('created', 'paid', 'failed', 'refunded')", name="status"),
        CheckConstraint("amount_fen > 0 AND refunded_fen >= 0 AND refunded_fen <= amount_fen", name="amounts"),
        CheckConstraint("(purpose = 'order') = (order_id IS NOT NULL)", name="order_purpose"),
        Index("ix_payment_intents_payer_created", "payer_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Our number for the provider (WeChat's out_trade_no): random, so a sandbox link is not guessable.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="created")
    provider: Mapped[str] = mapped_column(String(20))
    provider_txn_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    checkout_url: Mapped[str] = mapped_column(Text, default="")  # redirect URL or QR payload
    failure_reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # paid or failed
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    prepayment_entry_id: Mapped[int | None] = mapped_column(ForeignKey("prepayment_entries.id"))

    order: Mapped[Order | None] = relationship()
    payer: Mapped[Organisation] = relationship(foreign_keys=[payer_id])

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.status == "paid" else 0


class PaymentRefund(Base):
    """Money given back for a paid intent, and how it was posted (a credit note paid out at
    once, or a reversing entry of the prepayment wallet)."""

    __tablename__ = "payment_refunds"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[int] = mapped_column(ForeignKey("payment_intents.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # WeChat's out_refund_no
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    provider_refund_id: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))
    prepayment_entry_id: Mapped[int | None] = mapped_column(ForeignKey("prepayment_entries.id"))
    refunded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intent: Mapped[PaymentIntent] = relationship()
