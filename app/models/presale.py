"""Presale (预售) campaigns: what the brand offers ahead of a release, the allocation each product
has left, and the money side of each presale order (deposit, balance, what happened to them).

The order itself is an ordinary `Order` (kind 'presale', status 'presale_held' until release);
`PresaleOrder` holds what only a presale has. `PresaleItem.committed_qty` is the allocation used
and `PresaleBuyerQty.qty` one buyer's share of it: both change only by conditional UPDATEs
(services/campaigns/presale.py), and the CHECKs refuse an oversold item even if two requests race."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.catalog import Product
from app.models.ordering import Order
from app.models.vocabulary import PresaleBalance, PresaleRule, PresaleStatus  # noqa: F401 (re-exported)


class PresaleCampaign(Base):
    """A presale for retailers: deposits are taken in [deposit_opens_on, deposit_closes_on]
    (Asia/Shanghai dates, inclusive), stock is released on `release_on`, balances are paid in
    [balance_opens_on, balance_closes_on]. `deposit_pct` 100 is full prepayment. `non_payment`
    says what happens to the deposit of an order whose balance is not paid in time."""

    __tablename__ = "presale_campaigns"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed', 'released', 'finished')", name="status"),
        CheckConstraint("deposit_pct BETWEEN 1 AND 100", name="deposit_pct"),
        CheckConstraint("non_payment IN ('refund', 'forfeit')", name="non_payment"),
        CheckConstraint("deposit_opens_on <= deposit_closes_on AND deposit_closes_on < release_on "
                        "AND balance_opens_on <= balance_closes_on AND release_on <= balance_closes_on",
                        name="windows"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default=PresaleStatus.DRAFT.value, index=True)
    deposit_pct: Mapped[int] = mapped_column(Integer)
    non_payment: Mapped[str] = mapped_column(String(10), default=PresaleRule.REFUND.value)
    deposit_opens_on: Mapped[date] = mapped_column(Date)
    deposit_closes_on: Mapped[date] = mapped_column(Date)
    release_on: Mapped[date] = mapped_column(Date)
    balance_opens_on: Mapped[date] = mapped_column(Date)
    balance_closes_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[PresaleItem]] = relationship(back_populates="campaign", order_by="PresaleItem.id",
                                                    cascade="all, delete-orphan")


class PresaleItem(Base):
    """One product of a campaign: its presale price (per sales unit, tax inclusive), the planned
    production (the allocation cap), what orders hold of it, and the per-customer limit."""

    __tablename__ = "presale_items"
    __table_args__ = (
        UniqueConstraint("campaign_id", "product_id"),
        CheckConstraint("price_fen > 0 AND planned_qty > 0", name="values"),
        CheckConstraint("committed_qty >= 0 AND committed_qty <= planned_qty", name="allocation"),
        CheckConstraint("per_customer_limit IS NULL OR per_customer_limit > 0", name="customer_limit"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("presale_campaigns.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    planned_qty: Mapped[int] = mapped_column(Integer)
    committed_qty: Mapped[int] = mapped_column(Integer, default=0)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)

    campaign: Mapped[PresaleCampaign] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class PresaleBuyerQty(Base):
    """What one buyer holds of one item (its orders not cancelled): the per-customer limit is
    checked by a conditional UPDATE of this row."""

    __tablename__ = "presale_buyer_qty"
    __table_args__ = (CheckConstraint("qty >= 0", name="qty"),)
    item_id: Mapped[int] = mapped_column(ForeignKey("presale_items.id", ondelete="CASCADE"), primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    qty: Mapped[int] = mapped_column(Integer, default=0)


class PresaleOrder(Base):
    """The presale side of one order. deposit_fen + balance_fen = total_fen (the order total);
    `*_paid_fen` is what the buyer's prepayment paid so far; `applied_fen` what of it settled
    the order's invoice; `deposit_outcome` is set when an unpaid order's deposit was refunded
    (credit_note_id) or forfeited."""

    __tablename__ = "presale_orders"
    __table_args__ = (
        CheckConstraint("balance IN ('held', 'due', 'paid', 'on_account', 'on_delivery', 'cancelled')",
                        name="balance"),
        CheckConstraint("deposit_fen + balance_fen = total_fen AND deposit_fen > 0 AND balance_fen >= 0", name="money"),
        CheckConstraint("deposit_outcome IS NULL OR deposit_outcome IN ('refund', 'forfeit')", name="outcome"),
        Index("ix_presale_orders_seller_item", "seller_id", "item_id"),
        Index("ix_presale_orders_buyer_created", "buyer_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("presale_campaigns.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("presale_items.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    qty: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    deposit_fen: Mapped[int] = mapped_column(BigInteger)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    deposit_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    balance: Mapped[str] = mapped_column(String(12), default=PresaleBalance.HELD.value)
    deposit_outcome: Mapped[str | None] = mapped_column(String(10))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    item: Mapped[PresaleItem] = relationship()
    campaign: Mapped[PresaleCampaign] = relationship()
