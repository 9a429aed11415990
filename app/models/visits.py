"""Sales reps in the field: visit check-ins at a retailer, and monthly sales targets."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.ordering import Order
from app.models.org import Organisation


class Visit(Base):
    """A rep checked in at a retailer, with a note of what happened there."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_rep_at", "rep_id", "at"),
        Index("ix_visits_retailer_at", "retailer_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    retailer: Mapped[Organisation] = relationship()


class RepTarget(Base):
    """What a rep should sell in a month (the sum of the totals of the orders the rep places),
    set by brand admins. `month` is the first day of the month (Asia/Shanghai calendar)."""

    __tablename__ = "rep_targets"
    __table_args__ = (
        UniqueConstraint("rep_id", "month"),
        CheckConstraint("target_fen >= 0", name="target"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    target_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The rep's order list and monthly progress select orders by who placed them, newest first or
# within a month; without this index both would scan every order. Declared here, next to the
# pages that need it (it belongs to the orders table).
Index("ix_orders_placed_by_created", Order.placed_by_id, Order.created_at)
