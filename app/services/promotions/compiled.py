"""What the promotions engine reads and answers (engine.py applies them): the buyer as targeting
sees it, a live promotion compiled from its row (targeting, window, wording, budget left, the
brand's depth limit for a dealer's own), the priced cart lines, and the quote it returns — plus
the integer money helpers every lane shares. Pure: no queries, no writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from app.services.core.messages import Message, joined, message

ITEM, ORDER, COUPON = "item", "order", "coupon"
LANES = (ITEM, ORDER, COUPON)


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both ≥ 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def spread(total: int, weights: list[int]) -> list[int]:
    """Split `total` over `weights` in proportion, by largest remainder (ties: the earlier
    weight). The shares sum to `total`; when total ≤ sum(weights) no share exceeds its weight."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def yuan_plain(fen: int) -> str:
    """30000 → "300", 12050 → "120.5": the short amounts promotion wording uses."""
    whole, cents = divmod(fen, 100)
    if not cents:
        return str(whole)
    return f"{whole}.{cents:02d}".rstrip("0")


@dataclass(frozen=True)
class Buyer:
    """What targeting needs to know about the customer."""

    id: int
    kind: str  # retailer | dealer
    channel: str | None = None
    tier: str | None = None
    region_ids: tuple[int, ...] = ()
    dealer_id: int | None = None  # a retailer's serving dealer
    member_tier: str | None = None  # a retailer's member tier (services/loyalty), None when unknown
    rep_ids: tuple[int, ...] = ()  # the sales reps whose route holds the shop (RepRoute)
    group_ids: tuple[int, ...] = ()  # the named customer groups it belongs to


@dataclass(frozen=True)
class CompiledPromotion:
    """A live promotion as the engine reads it (built by the index from a Promotion row)."""

    id: int
    code: str
    name: str
    kind: str
    lane: str
    rule: dict
    starts_at: datetime
    ends_at: datetime
    version: int = 1
    product_ids: frozenset = frozenset()
    category_ids: frozenset = frozenset()
    owner_dealer_id: int | None = None  # set: a dealer's own promotion, for the retailers it serves
    kinds: frozenset = frozenset()
    channels: frozenset = frozenset()
    tiers: frozenset = frozenset()
    region_ids: frozenset = frozenset()
    dealer_ids: frozenset = frozenset()
    customer_ids: frozenset = frozenset()
    member_tiers: frozenset = frozenset()  # set: only retailers of these member tiers
    rep_ids: frozenset = frozenset()  # targeting: shops on these reps' routes
    group_ids: frozenset = frozenset()  # targeting: members of these customer groups
    # allocations: ((scope "rep"|"region", scope id, fen left), ...): see PromotionScopedBudget
    scoped_budgets: tuple = ()
    funding: str = "brand"
    brand_share_pct: int = 100
    priority: int | None = None
    exclusive_group: str | None = None
    stop_further: bool = False
    remaining_fen: int | None = None  # None: no amount budget
    remaining_uses: int | None = None
    per_customer_limit: int | None = None
    gift_price_fen: int = 0  # list price of the gift product, when it is another product
    max_depth_x100: int | None = None  # a dealer's promotion: the brand's maximum depth (services/promotions/limits.py)

    @property
    def has_budget(self) -> bool:
        return self.remaining_fen is not None or self.remaining_uses is not None

    def live_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def targets(self, buyer: Buyer) -> bool:
        if self.owner_dealer_id is not None and (buyer.kind != "retailer" or buyer.dealer_id != self.owner_dealer_id):
            return False
        if self.kinds and buyer.kind not in self.kinds:
            return False
        if self.channels and buyer.channel not in self.channels:
            return False
        if self.tiers and buyer.tier not in self.tiers:
            return False
        if self.region_ids and self.region_ids.isdisjoint(buyer.region_ids):
            return False
        if self.dealer_ids and (buyer.id if buyer.kind == "dealer" else buyer.dealer_id) not in self.dealer_ids:
            return False
        if self.customer_ids and buyer.id not in self.customer_ids:
            return False
        if self.member_tiers and buyer.member_tier not in self.member_tiers:
            return False
        if self.rep_ids and self.rep_ids.isdisjoint(buyer.rep_ids):
            return False
        if self.group_ids and self.group_ids.isdisjoint(buyer.group_ids):
            return False
        if self.scoped_budgets:
            for scope, ids in (("rep", buyer.rep_ids), ("region", buyer.region_ids)):
                allocated = [sid for s, sid, _left in self.scoped_budgets if s == scope]
                if allocated and not set(allocated) & set(ids):
                    return False  # allocated to other reps (regions) only
        return True

    def scoped_for(self, buyer: Buyer) -> list[tuple[str, int, int]]:
        """The allocations this buyer's order would draw on (its reps', its regions')."""
        return [(scope, sid, left) for scope, sid, left in self.scoped_budgets
                if sid in (buyer.rep_ids if scope == "rep" else buyer.region_ids)]

    def covers(self, product_id: int, category_id: int | None) -> bool:
        if not self.product_ids and not self.category_ids:
            return True
        return product_id in self.product_ids or (category_id is not None and category_id in self.category_ids)

    def within_depth(self, saving_fen: int, amount_fen: int) -> bool:
        """Whether giving `saving_fen` on `amount_fen` stays within the brand's maximum depth for
        a dealer promotion (rounded like the discount itself). Beyond it the promotion does not
        apply there: it is left out, never capped (limits.py)."""
        return self.max_depth_x100 is None or saving_fen <= half_up_div(amount_fen * self.max_depth_x100, 10_000)

    def fits_budget(self, amount_fen: int) -> bool:
        if self.remaining_uses is not None and self.remaining_uses < 1:
            return False
        return self.remaining_fen is None or amount_fen <= self.remaining_fen

    # -- wording -----------------------------------------------------------------------------
    def rule_text(self, unit: str = "") -> Message:
        rule = self.rule
        if self.kind == "percent_off":
            return message("promo.percent_off", pct=yuan_plain(int(rule["percent_x100"])))
        if self.kind == "amount_off":
            return message("promo.amount_off", off=yuan_plain(int(rule["off_fen"])))
        if self.kind in ("bundle", "volume_tier"):
            from app.services.promotions import multiline

            return multiline.rule_text(self, unit)
        if self.kind == "buy_x_get_y":
            code = "promo.buy_get_repeat" if rule.get("repeat", True) else "promo.buy_get_once"
            return message(code, buy=int(rule["buy"]), get=int(rule["get"]), unit=unit)
        rungs = [self.rung_text(threshold, value) for threshold, value in self.ladder()]
        return joined(rungs, "，") if len(rungs) > 1 else rungs[0]

    def rung_text(self, threshold: int, value: int) -> Message:
        if self.kind == "spend_percent":
            return message("promo.spend_percent", threshold=yuan_plain(threshold), pct=yuan_plain(value))
        if threshold <= 0:
            return message("promo.amount_flat", off=yuan_plain(value))
        return message("promo.spend_off", threshold=yuan_plain(threshold), off=yuan_plain(value))

    def funding_text(self) -> Message:
        if self.funding == "shared":
            return message("promo.funding_shared", pct=self.brand_share_pct)
        return message("promo.funding_" + self.funding)

    def explanation(self, rule: Message | None = None) -> Message:
        """"满3000减300 · 品牌承担"."""
        return joined([rule or self.rule_text(), self.funding_text()], " · ")

    def ladder(self) -> list[tuple[int, int]]:
        """[(threshold_fen, value)] ascending; value is fen off (满减) or percent×100 off (满折)."""
        return self.ladder_steps

    @cached_property
    def ladder_steps(self) -> list[tuple[int, int]]:  # sorted once per compiled promotion
        return sorted((int(t), int(v)) for t, v in self.rule.get("ladder", []))

    @cached_property
    def tier_steps(self) -> list[tuple[int, int]]:  # a volume tier's [(cumulative qty, percent×100)], sorted once
        return sorted((int(q), int(p)) for q, p in self.rule.get("tiers", []))

    @cached_property
    def window_ts(self) -> tuple[float, float]:
        """The window as POSIX timestamps: comparing floats is much cheaper than aware datetimes."""
        return self.starts_at.timestamp(), self.ends_at.timestamp()

    @property
    def basis(self) -> str:
        return self.rule.get("basis", "discounted")

    def brand_share(self, amount_fen: int) -> int:
        pct = {"brand": 100, "dealer": 0}.get(self.funding, self.brand_share_pct)
        return half_up_div(amount_fen * pct, 100)


@dataclass(frozen=True)
class LineIn:
    """A priced cart line: `key` identifies it to the caller; `unit_price_fen` is the
    contract/tier price (lane 0)."""

    key: int
    product_id: int
    category_id: int | None
    qty: int
    unit_price_fen: int
    unit: str = ""

    @property
    def amount_fen(self) -> int:
        return self.unit_price_fen * self.qty


@dataclass
class Gift:
    promotion: CompiledPromotion
    product_id: int
    qty: int
    value_fen: int  # at the price the buyer would have paid (same product) or the list price
    for_key: int


@dataclass
class Applied:
    """One promotion on this cart: what it gave in total, and the words for it."""

    promotion: CompiledPromotion
    lane: str
    discount_fen: int = 0
    gift_fen: int = 0
    label: Message | None = None
    coupon_id: int | None = None
    gifts: dict[int, tuple[int, int]] = field(default_factory=dict)  # gift product id → (qty, value fen)

    @property
    def value_fen(self) -> int:
        return self.discount_fen + self.gift_fen


@dataclass
class Left:
    """A promotion that would have applied but did not, and why (budget, exclusive, stopped)."""

    promotion: CompiledPromotion
    reason: str


@dataclass
class PromotionQuote:
    discounts: dict[int, dict[int, int]] = field(default_factory=dict)  # line key → {promotion id: fen}
    gifts: list[Gift] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    hints: list[Message] = field(default_factory=list)
    left_out: list[Left] = field(default_factory=list)
    coupon_note: Message | None = None  # the entered coupon does not apply to this cart (yet), and why

    def line_discount(self, key: int) -> int:
        return sum(self.discounts.get(key, {}).values())

    @property
    def discount_fen(self) -> int:
        return sum(a.discount_fen for a in self.applied)

    def applied_by_id(self) -> dict[int, Applied]:
        return {a.promotion.id: a for a in self.applied}


@dataclass(frozen=True)
class Coupon:
    """The coupon entered on the cart: its code row's id and its promotion (None: no longer live)."""

    id: int
    code: str
    promotion: CompiledPromotion | None
    problem: str | None = None  # a message code: why the code cannot be used now (used up, ...)


def best_candidate(candidates: list[tuple[CompiledPromotion, int]]) -> tuple[CompiledPromotion, int] | None:
    """A pinned priority first (highest), else the biggest saving; ties go to the lower id."""
    if not candidates:
        return None
    pinned = [c for c in candidates if c[0].priority is not None]
    if pinned:
        return min(pinned, key=lambda c: (-c[0].priority, c[0].id))
    return min(candidates, key=lambda c: (-c[1], c[0].id))
