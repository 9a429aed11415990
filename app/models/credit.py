"""Credit and payments: per-customer credit settings, payments and their allocation to invoices,
the prepayment (预存款) wallet with its ledger, and credit notes.

A customer's credit limit and payment terms live on `Organisation` (credit_limit_fen,
payment_terms_days); `CreditProfile` adds what the brand decides on top (retailers on credit,
a manual hold). How the numbers are computed is written once, in app/services/credit/limits.py."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import PaymentMethod, CreditNoteReason  # noqa: F401 (re-exported)
from app.models.billing import Invoice
from app.models.org import Organisation


CASH_METHODS = (PaymentMethod.BANK_TRANSFER.value, PaymentMethod.COD.value, PaymentMethod.ONLINE.value)


class CreditProfile(Base):
    """The brand's credit decisions for one customer. Without a row, dealers buy on credit and
    retailers do not, and nobody is on hold."""

    __tablename__ = "credit_profiles"
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    allow_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Payment(Base):
    """Money (or prepayment, or credit-note credit) from `customer` to `seller`, allocated in
    full to that seller's invoices (the allocations always add up to the amount)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount"),
        CheckConstraint("method IN ('bank_transfer', 'cod', 'prepayment', 'credit', 'online')", name="method"),
        Index("ix_payments_customer_received", "customer_id", "received_on"),
        Index("ix_payments_seller_received", "seller_id", "received_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    method: Mapped[str] = mapped_column(String(15))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)  # business date, Asia/Shanghai
    reference: Mapped[str] = mapped_column(String(60), default="")  # bank reference, receipt number
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allocations: Mapped[list[PaymentAllocation]] = relationship(back_populates="payment",
                                                                order_by="PaymentAllocation.id")


class PaymentAllocation(Base):
    """The part of a payment that settles one invoice."""

    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship()


class PrepaymentAccount(Base):
    """The prepayment (预存款) a customer holds with one seller. The balance can never go below
    zero: the CHECK refuses it even if two payments race."""

    __tablename__ = "prepayment_accounts"
    __table_args__ = (
        UniqueConstraint("customer_id", "seller_id"),
        CheckConstraint("balance_fen >= 0", name="balance"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    customer: Mapped[Organisation] = relationship(foreign_keys=[customer_id])


class PrepaymentEntry(Base):
    """One movement of a prepayment account (append-only): a top-up (+), a payment from it (−), or
    an online top-up given back (refund, −)."""

    __tablename__ = "prepayment_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('topup', 'payment', 'refund')", name="kind"),
        CheckConstraint("amount_fen <> 0 AND balance_after_fen >= 0", name="amounts"),
        Index("ix_prepayment_entries_account_on", "account_id", "entered_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("prepayment_accounts.id"))
    kind: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # signed: + top-up, − spent
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    entered_on: Mapped[date] = mapped_column(Date)  # business date, Asia/Shanghai
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    reference: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditNote(Base):
    """What the seller owes back after a short or damaged delivery, an accepted return or an
    adjustment. It is applied to its invoice while that has something unpaid; what is left
    (`remaining_fen`) pays later invoices by the `credit` method."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        CheckConstraint("amount_fen > 0 AND remaining_fen >= 0 AND remaining_fen <= amount_fen", name="amounts"),
        CheckConstraint("reason IN ('short_delivery', 'damaged', 'return', 'adjustment')", name="reason"),
        Index("ix_credit_notes_customer_issued", "customer_id", "issued_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    reason: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(40), default="")  # e.g. "return:12", "delivery:7"
    note: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    remaining_fen: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)  # business date, Asia/Shanghai
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
