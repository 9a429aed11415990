"""Points (积分) and member tiers of retailers: the settings, one account per retailer (balance
and tier), the append-only ledger, the expiry lots the ledger's earnings form, the points
catalog of gifts and the gifts claimed from it. Rules: app/services/loyalty/."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.catalog import Product

MEMBER_TIERS = ("member", "silver", "gold", "diamond")  # 普通 / 银卡 / 金卡 / 钻石, lowest first


class LoyaltySettings(Base):
    """One row (id 1), written by the brand admin; services fall back to the defaults of
    services/loyalty/settings.py while it does not exist."""

    __tablename__ = "loyalty_settings"
    __table_args__ = (
        CheckConstraint("earn_points_per_yuan >= 0 AND redeem_points_per_yuan > 0", name="rates"),
        CheckConstraint("max_redeem_pct BETWEEN 0 AND 100", name="max_redeem_pct"),
        CheckConstraint("lot_life_days > 0 AND notice_days >= 0 AND grace_days >= 0", name="days"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    earn_points_per_yuan: Mapped[int] = mapped_column(Integer)  # earned per ¥1 paid after discounts
    redeem_points_per_yuan: Mapped[int] = mapped_column(Integer)  # e.g. 100 points = ¥1 off
    max_redeem_pct: Mapped[int] = mapped_column(Integer)  # at most this share of an order is paid in points
    lot_life_days: Mapped[int] = mapped_column(Integer)  # earned points expire after
    notice_days: Mapped[int] = mapped_column(Integer)  # "expiring soon" this many days ahead
    silver_from_fen: Mapped[int] = mapped_column(BigInteger)  # rolling 12-month spend thresholds
    gold_from_fen: Mapped[int] = mapped_column(BigInteger)
    diamond_from_fen: Mapped[int] = mapped_column(BigInteger)
    grace_days: Mapped[int] = mapped_column(Integer)  # below a tier this long before a downgrade
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsAccount(Base):
    """A retailer's balance and member tier. `balance` changes only by conditional UPDATE and
    always equals the sum of its lots' `remaining` (services/loyalty/ledger.py).
    `below_since`: the day the nightly job first found the spend below the current tier (the
    grace period runs from it); None while the spend holds the tier."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance"),
        CheckConstraint("tier IN ('member', 'silver', 'gold', 'diamond')", name="tier"),
        Index("ix_points_accounts_tier", "tier"),
    )
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    tier: Mapped[str] = mapped_column(String(10), default="member")
    spend_12m_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    below_since: Mapped[date | None] = mapped_column(Date)
    tier_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PointsEntry(Base):
    """One line of the append-only ledger. `points` is signed (earn +, redeem −, ...); `ref` makes
    each event happen once ("earn:order:7", "redeem:order:7", "expire:lot:3", ...).
    `value_fen`: the delivered value an earn was for (negative for a clawback): the rolling
    12-month spend sums it. `shortfall`: points a clawback could not take (already spent; the
    balance absorbs only down to 0)."""

    __tablename__ = "points_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('earn', 'redeem', 'release', 'expire', 'clawback', 'gift', 'gift_back', 'adjust')",
                        name="kind"),
        Index("ix_points_entries_retailer_at", "retailer_id", "at"),
        Index("ix_points_entries_at_kind", "at", "kind"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    value_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)


class PointsLot(Base):
    """Points earned together, expiring together. Spending, expiry and clawbacks take from the
    lots that expire first (FEFO), like stock lots."""

    __tablename__ = "points_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining"),
        Index("ix_points_lots_retailer_expires", "retailer_id", "expires_on"),
        Index("ix_points_lots_expires_on", "expires_on"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    entry_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("points_entries.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[date] = mapped_column(Date)  # the last day they can be spent (Shanghai)


class PointsLotUse(Base):
    """What a spending entry took from each lot, so a cancel gives the same lots back."""

    __tablename__ = "points_lot_uses"
    entry_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("points_entries.id"),
                                          primary_key=True)
    lot_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("points_lots.id"),
                                        primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)


class PointsGift(Base):
    """A product of the points catalog: its price in points and how many may be claimed in all
    (`stock_cap`; `claimed` moves only by conditional UPDATE)."""

    __tablename__ = "points_gifts"
    __table_args__ = (
        CheckConstraint("points_price > 0", name="price"),
        CheckConstraint("claimed >= 0 AND claimed <= stock_cap", name="within_cap"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), unique=True)
    points_price: Mapped[int] = mapped_column(Integer)
    stock_cap: Mapped[int] = mapped_column(Integer)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    product: Mapped[Product] = relationship()


class PointsGiftClaim(Base):
    """A gift a retailer bought with points: pending until its next order carries it as a
    zero-priced line (`order_id`); back to pending if that order is cancelled or rejected."""

    __tablename__ = "points_gift_claims"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'ordered')", name="status"),
        CheckConstraint("qty > 0", name="qty"),
        Index("ix_points_gift_claims_retailer_status", "retailer_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    gift_id: Mapped[int] = mapped_column(ForeignKey("points_gifts.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()
