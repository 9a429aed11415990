"""Territory group-buys (集单/团购): a campaign, its price ladder and each retailer's commitment.

A campaign belongs to the brand (for a region: every retailer in it may join) or to a dealer
(for the retailers it serves). `pool_qty` is the pooled total of the live commitments, changed
only by conditional UPDATEs (services/campaigns/groupbuy.py); `cap_qty`, when set, is the most
the pool may reach (what can be supplied). Prices are integer fen per case, tax included; the
window is stored in UTC, typed and shown in Asia/Shanghai."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.catalog import Product
from app.models.credit import CreditNote
from app.models.ordering import Order
from app.models.org import Organisation, Region
from app.models.vocabulary import GroupBuyResult, GroupBuyStatus  # noqa: F401 (re-exported)


class GroupBuyCampaign(Base):
    __tablename__ = "groupbuy_campaigns"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("result IS NULL OR result IN ('succeeded', 'failed')", name="result"),
        CheckConstraint("pool_qty >= 0 AND (cap_qty IS NULL OR pool_qty <= cap_qty)", name="pool"),
        CheckConstraint("base_price_fen > 0 AND min_pool_qty > 0 AND min_per_retailer > 0", name="numbers"),
        CheckConstraint("max_per_retailer IS NULL OR max_per_retailer >= min_per_retailer", name="per_retailer"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_groupbuy_campaigns_status_ends", "status", "ends_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)  # brand or a dealer
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))  # brand campaigns: the territory
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    base_price_fen: Mapped[int] = mapped_column(BigInteger)  # per case before any tier is reached
    min_pool_qty: Mapped[int] = mapped_column(Integer)  # the pool must reach it for the group-buy to succeed
    cap_qty: Mapped[int | None] = mapped_column(Integer)
    min_per_retailer: Mapped[int] = mapped_column(Integer, default=1)
    max_per_retailer: Mapped[int | None] = mapped_column(Integer)
    pool_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(10), default=GroupBuyStatus.DRAFT.value)
    result: Mapped[str | None] = mapped_column(String(10))
    final_price_fen: Mapped[int | None] = mapped_column(BigInteger)  # the tier reached, set at close
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Organisation] = relationship()
    region: Mapped[Region | None] = relationship()
    product: Mapped[Product] = relationship()
    tiers: Mapped[list[GroupBuyTier]] = relationship(order_by="GroupBuyTier.min_qty", cascade="all, delete-orphan")


class GroupBuyTier(Base):
    """From `min_qty` pooled cases on (inclusive), everyone's price is `unit_price_fen`."""

    __tablename__ = "groupbuy_tiers"
    __table_args__ = (UniqueConstraint("campaign_id", "min_qty"),
                      CheckConstraint("min_qty > 0 AND unit_price_fen > 0", name="values"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_campaigns.id", ondelete="CASCADE"))
    min_qty: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)


class GroupBuyCommitment(Base):
    """One retailer's commitment to a campaign: `qty` cases in its order `order_id` (kind
    'groupbuy'), billed at `committed_price_fen`. At a successful close `final_price_fen` is set
    and, when lower, `credit_note_id` holds the difference; a withdrawn or failed commitment has
    status 'cancelled' (its order cancelled) and no longer counts in the pool."""

    __tablename__ = "groupbuy_commitments"
    __table_args__ = (UniqueConstraint("campaign_id", "retailer_id"),
                      CheckConstraint("status IN ('active', 'cancelled')", name="status"),
                      CheckConstraint("qty > 0 AND committed_price_fen > 0", name="values"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_campaigns.id", ondelete="CASCADE"), index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)  # the serving dealer
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    committed_price_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="active")
    final_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[GroupBuyCampaign] = relationship()
    retailer: Mapped[Organisation] = relationship(foreign_keys=[retailer_id])
    order: Mapped[Order] = relationship()
    credit_note: Mapped[CreditNote | None] = relationship()
