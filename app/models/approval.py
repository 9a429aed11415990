"""Automatic order approval: the brand's rule settings and the reasons an order was held.

`ApprovalPolicy` is one row (id 1) the brand edits: a master switch, one toggle per rule and
the parameters of the "usual quantities" rule. Without a row the defaults below apply.

`OrderReviewReason` rows say why the automatic review held an order (one row per rule that
failed). They stay after a person decides, so reports can count why orders were held; a
re-check replaces them.

The two indexes at the end serve the order-cycle report (app/services/approval/reports.py): orders
submitted in a period across all sellers, and status changes of one kind in a period."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, MessageJSON, UTCDateTime, utcnow
from app.models.ordering import Order, OrderEvent

DEFAULT_QUANTITY_FACTOR_PCT = 300  # a line may be up to 3× the buyer's usual quantity
DEFAULT_QUANTITY_WINDOW_DAYS = 90
DEFAULT_QUANTITY_MIN_ORDERS = 3  # fewer past orders of a product: the line is not judged


class ApprovalPolicy(Base):
    __tablename__ = "approval_policies"
    __table_args__ = (
        CheckConstraint("quantity_factor_pct BETWEEN 100 AND 10000", name="factor"),
        CheckConstraint("quantity_window_days BETWEEN 7 AND 365", name="window"),
        CheckConstraint("quantity_min_orders BETWEEN 1 AND 100", name="min_orders"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=True)
    check_hold: Mapped[bool] = mapped_column(Boolean, default=True)
    check_credit: Mapped[bool] = mapped_column(Boolean, default=True)
    check_prices: Mapped[bool] = mapped_column(Boolean, default=True)
    check_quantities: Mapped[bool] = mapped_column(Boolean, default=True)
    check_stock: Mapped[bool] = mapped_column(Boolean, default=True)
    quantity_factor_pct: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUANTITY_FACTOR_PCT)
    quantity_window_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUANTITY_WINDOW_DAYS)
    quantity_min_orders: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUANTITY_MIN_ORDERS)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderReviewReason(Base):
    """One failed rule of an order's automatic review: `code` for reports, `detail` (or `message`,
    typed by a person for a manual hold) for people."""

    __tablename__ = "order_review_reasons"
    __table_args__ = (Index("ix_order_review_reasons_code_created", "code", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")  # a person's typed reason (or an older text)
    detail: Mapped[Any | None] = mapped_column(MessageJSON)  # the rule's finding, code + params
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The order-cycle report's indexes on the ordering tables (kept with the report's own tables).
Index("ix_orders_created_at", Order.created_at)
Index("ix_order_events_to_status_at", OrderEvent.to_status, OrderEvent.at)
