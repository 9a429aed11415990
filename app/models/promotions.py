"""Promotions and coupons: the rules (targeting, window, funding, stacking), their budgets, the
coupon codes, and what an order froze of them (redemptions and per-line adjustments).

`PromotionState.version` is bumped by every change to a promotion or coupon: each process keeps
the active promotions compiled in memory and reloads them when the version moves
(services/promotions/index.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.models.ordering import Order

from app.models.base import Base, MessageJSON, UTCDateTime, utcnow
from app.models.vocabulary import Funding, PromotionKind, PromotionLane, PromotionStatus, SettlementStatus  # noqa: F401


class Promotion(Base):
    """One promotion. `rule` holds the kind's numbers (see services/promotions/engine.py);
    `product_ids`/`category_ids` the lines it applies to (both empty: every product);
    `audience` the customers it targets (each list empty: no restriction on that attribute).
    `owner_id` is the brand or a dealer: a dealer's promotion only reaches the retailers it serves.
    The window (`starts_at`, `ends_at`) is stored in UTC, entered and shown in Asia/Shanghai.
    Budgets: `budget_fen` (discount plus gift value) and `budget_uses` (orders), consumed only by
    conditional updates at checkout; `per_customer_limit` counts a customer's orders."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'active', 'paused', 'ended')", name="status"),
        CheckConstraint("kind IN ('percent_off', 'amount_off', 'buy_x_get_y', 'spend_off', 'spend_percent', "
                        "'bundle', 'volume_tier')",
                        name="kind"),
        CheckConstraint("lane IN ('item', 'order', 'coupon')", name="lane"),
        CheckConstraint("funding IN ('brand', 'dealer', 'shared')", name="funding"),
        CheckConstraint("brand_share_pct BETWEEN 0 AND 100", name="brand_share"),
        CheckConstraint("used_fen >= 0 AND used_uses >= 0", name="used"),
        CheckConstraint("(budget_fen IS NULL OR used_fen <= budget_fen) AND "
                        "(budget_uses IS NULL OR used_uses <= budget_uses)", name="within_budget"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    lane: Mapped[str] = mapped_column(String(10))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    audience: Mapped[dict[str, list]] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=PromotionStatus.DRAFT.value, index=True)
    funding: Mapped[str] = mapped_column(String(10), default=Funding.BRAND.value)
    brand_share_pct: Mapped[int] = mapped_column(Integer, default=100)
    priority: Mapped[int | None] = mapped_column(Integer)  # pinned: beats "best for the buyer" in its lane
    exclusive_group: Mapped[str | None] = mapped_column(String(30))
    stop_further: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_uses: Mapped[int | None] = mapped_column(Integer)
    used_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    used_uses: Mapped[int] = mapped_column(Integer, default=0)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Who last set its terms (everything but status), and the second admin who approved those terms
    # (services/promotions/admin.py: above the configured cost a promotion needs one to go live).
    authored_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PromotionScopedBudget(Base):
    """A share of a promotion's money allocated to one sales rep's shops (`scope` "rep", the
    rep's user id) or one region (`scope` "region", shops in it or below). A promotion with rep
    allocations reaches only shops of an allocated rep, likewise for regions; every matching row
    is consumed at checkout by a conditional update (`used_fen + d <= budget_fen`) and given back
    like the promotion's own budget (services/promotions/redemption.py)."""

    __tablename__ = "promotion_scoped_budgets"
    __table_args__ = (UniqueConstraint("promotion_id", "scope", "scope_id"),
                      CheckConstraint("scope IN ('rep', 'region')", name="scope"),
                      CheckConstraint("used_fen >= 0 AND used_fen <= budget_fen", name="within_budget"))
    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(Integer)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    used_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class PromotionDealerLimit(Base):
    """What the brand allows in promotions dealers run for their own retailers, for one dealer
    tier (`tier`) or for every tier without a row of its own (`tier` "*"). `max_depth_pct`: no
    such promotion may give more than this percent of the amount it applies to (None: no limit);
    `product_ids`/`category_ids`: the products it may cover (both empty: every product).
    Enforced at save (services/promotions/limits.py) and at every quote (engine.py)."""

    __tablename__ = "promotion_dealer_limits"
    __table_args__ = (CheckConstraint("max_depth_pct IS NULL OR max_depth_pct BETWEEN 0 AND 100", name="depth"),)
    DEFAULT = "*"
    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(10), unique=True)
    max_depth_pct: Mapped[int | None] = mapped_column(Integer)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PromotionState(Base):
    """One row (id 1): the version of the set of promotions, bumped on every change."""

    __tablename__ = "promotion_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


class CouponCode(Base):
    """A code for a coupon-lane promotion (its template): one shared code or one of a batch.
    `code` is stored normalised (upper case, half-width, no spaces); `customer_id` set: only that
    customer may use it. `max_uses` is consumed at checkout by a conditional update."""

    __tablename__ = "coupon_codes"
    __table_args__ = (CheckConstraint("used_uses >= 0 AND (max_uses IS NULL OR used_uses <= max_uses)",
                                      name="uses"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    used_uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    promotion: Mapped[Promotion] = relationship()


class CartCoupon(Base):
    """The coupon code entered on a cart (owner building for buyer)."""

    __tablename__ = "cart_coupons"
    __table_args__ = (UniqueConstraint("owner_id", "buyer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupon_codes.id", ondelete="CASCADE"), index=True)


class PromotionRedemption(Base):
    """What one order took from one promotion, frozen at checkout: the amount (discount plus gift
    value), the promotion's version, rule and wording (`snapshot`), the coupon used. Unique per
    (promotion, order). `released_fen` is what returns gave back of the amount; `released_at`
    is set when a cancel or reject gave the rest back (and the use)."""

    __tablename__ = "promotion_redemptions"
    __table_args__ = (UniqueConstraint("promotion_id", "order_id"),
                      Index("ix_promotion_redemptions_buyer", "promotion_id", "buyer_id"),
                      CheckConstraint("discount_fen >= 0 AND gift_fen >= 0", name="amounts"))
    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_codes.id"))
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    gift_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # list value of the gifts given
    brand_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # what the brand funds of both
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # given back by returns so far

    promotion: Mapped[Promotion] = relationship()
    order: Mapped[Order] = relationship(backref=backref("redemptions", order_by="PromotionRedemption.id",
                                                        cascade="all, delete-orphan"))

    @property
    def label(self):
        """The explanation as the order froze it ("满3000减300 · 品牌承担"), in the reader's language."""
        from app.services.core.messages import as_message

        return as_message((self.snapshot or {}).get("label")) or (self.snapshot or {}).get("name", "")


class OrderLineAdjustment(Base):
    """One promotion's share of one order line's discount (order-level discounts are spread over
    the lines by largest remainder, so a line's adjustments sum to its `discount_fen`)."""

    __tablename__ = "order_line_adjustments"
    __table_args__ = (UniqueConstraint("order_line_id", "promotion_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[Any | None] = mapped_column(MessageJSON)  # the explanation, code + params


class SettlementRun(Base):
    """One settlement run for a period of Asia/Shanghai days (`period_start`..`period_end`,
    both included): unique per period, so running the same period again finds this row.
    `dealers` and `total_fen` are what the latest pass of the run drafted (the drafts hold the
    figures); `finished_at` unset while a pass is running. Progress of the latest pass (number
    `passes`): `dealers_done` of `dealers_total`, moved by conditional updates that name the pass,
    so an older pass still running never overwrites a newer one's figures."""

    __tablename__ = "promotion_settlement_runs"
    __table_args__ = (UniqueConstraint("period_start", "period_end"),
                      CheckConstraint("period_start <= period_end", name="period"))
    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    dealers_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dealers_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    settlements: Mapped[list["PromotionSettlement"]] = relationship(
        back_populates="run", order_by="PromotionSettlement.dealer_id")


class PromotionSettlement(Base):
    """What the brand owes one dealer for promotions it funds (brand or shared funding) that the
    dealer gave its retailers: `earned_fen` is the brand's share of every redemption on the
    dealer's orders placed up to the run's period end, net of what cancels and returns gave back,
    as the run saw it; `settled_before_fen` what the dealer's earlier settlements already hold
    (drafts included); `amount_fen` the difference, paid by a credit note when approved.
    A dealer has at most one draft per run (runs hold the dealer's row lock while they draft);
    a pass after an approval drafts a new one for what was earned since."""

    __tablename__ = "promotion_settlements"
    __table_args__ = (CheckConstraint("status IN ('draft', 'approved')", name="status"),
                      CheckConstraint("amount_fen > 0", name="amount"))
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("promotion_settlement_runs.id", ondelete="CASCADE"), index=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    earned_fen: Mapped[int] = mapped_column(BigInteger)
    settled_before_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    redemptions: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=SettlementStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))

    run: Mapped[SettlementRun] = relationship(back_populates="settlements")
    dealer = relationship("Organisation")
    credit_note = relationship("CreditNote")

    @property
    def number(self) -> str:
        return f"PS{self.id:08d}"
