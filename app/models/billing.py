"""Invoices: one per shipped order, numbered once (a job that runs twice finds the same one).

Outstanding balance (for credit) = sum of (total_fen - paid_fen) over open invoices."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.ordering import Order


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= total_fen", name="paid"),
        Index("ix_invoices_buyer_status", "buyer_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    tax_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)

    order: Mapped[Order] = relationship()
