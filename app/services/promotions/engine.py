"""The one pure function that applies promotions to a priced cart: no queries, no writes, the
same answer for the same input (`apply_promotions`).

Lanes, in this fixed order, after the contract/tier price that `pricing` decided:

1. **item**: per line, the best for the buyer of the item promotions covering its product
   (percent off, so much off each unit, buy X get Y: gifts become zero-priced lines). A promotion
   with a pinned `priority` beats "best for the buyer" (highest priority first). Bundles (套餐,
   a set of lines at one price) go first and volume tiers (the buyer's cumulative quantity in
   the window unlocks a percent) compete like percent_off: see multiline.py.
2. **order**: 满减 / 满折 ladders over the lines they cover; the threshold counts the lines at
   their `list` amount (after the contract/tier price, before item promotions) or `discounted`
   amount (after them), as each promotion says. One order promotion wins, chosen as above.
3. **coupon**: the code the buyer entered, a ladder like the order lane's (one rung is a
   minimum spend), over the amounts left after the order lane.

Stacking rules: promotions sharing an `exclusive_group` never combine on one order (the one that
saves the buyer most wins, the others are left out and the lanes re-run); a promotion with
`stop_further` that applies ends the lanes after its own for the whole order.

Rounding: every line rounds once (half up) for its own discount; an order or coupon discount is
spread over the lines it covers in proportion to what they still cost, by largest remainder, so
the lines always sum to the header and no line goes below zero.

Budgets: a promotion whose remaining budget (as the index last loaded it) cannot cover what it
would give is left out (reason "budget"); the checkout's conditional update has the last word.

Gift rule (written down): a gift is an order line priced 0 that reserves and ships like any
line; when stock is short it is shipped short like any other line, and it is never charged. On
return, a gift comes back with its line at price 0 (nothing to credit).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime

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


def _best(candidates: list[tuple[CompiledPromotion, int]]) -> tuple[CompiledPromotion, int] | None:
    """A pinned priority first (highest), else the biggest saving; ties go to the lower id."""
    if not candidates:
        return None
    pinned = [c for c in candidates if c[0].priority is not None]
    if pinned:
        return min(pinned, key=lambda c: (-c[0].priority, c[0].id))
    return min(candidates, key=lambda c: (-c[1], c[0].id))


def _item_saving(promo: CompiledPromotion, line: LineIn, net: int, cumulative: int = 0) -> tuple[int, int, int]:
    """(discount, gift qty, gift value) of an item promotion on a line costing `net` so far;
    `cumulative`: the buyer's quantity counted by a volume tier (earlier orders and this cart).
    Nothing when a dealer promotion would go beyond the brand's maximum depth on this line
    (gifts: of the amount bought to earn them)."""
    discount, gift_qty, gift_value = _raw_item_saving(promo, line, net, cumulative)
    if promo.max_depth_x100 is not None:
        earned_by = line.amount_fen
        if gift_qty:
            earned_by = gift_qty // int(promo.rule["get"]) * int(promo.rule["buy"]) * line.unit_price_fen
        if not promo.within_depth(discount + gift_value, earned_by):
            return 0, 0, 0
    return discount, gift_qty, gift_value


def _raw_item_saving(promo: CompiledPromotion, line: LineIn, net: int, cumulative: int = 0) -> tuple[int, int, int]:
    rule = promo.rule
    if promo.kind == "percent_off":
        return min(net, half_up_div(net * int(rule["percent_x100"]), 10_000)), 0, 0
    if promo.kind == "volume_tier":
        from app.services.promotions.multiline import tier_reached

        tier = tier_reached(promo, cumulative)
        return (min(net, half_up_div(net * tier[1], 10_000)) if tier else 0), 0, 0
    if promo.kind == "amount_off":
        return min(net, int(rule["off_fen"]) * line.qty), 0, 0
    if promo.kind == "buy_x_get_y":
        buy, get = int(rule["buy"]), int(rule["get"])
        times = line.qty // buy if rule.get("repeat", True) else int(line.qty >= buy)
        gift_id = rule.get("gift_product_id") or line.product_id
        price = line.unit_price_fen if gift_id == line.product_id else promo.gift_price_fen
        return 0, times * get, times * get * price
    return 0, 0, 0


def _ladder_value(promo: CompiledPromotion, basis: int, net: int) -> tuple[int, tuple[int, int] | None]:
    """The discount of a ladder promotion whose threshold counts `basis`, over lines costing
    `net`, and the rung reached."""
    reached = [rung for rung in promo.ladder() if rung[0] <= basis]
    if not reached or net <= 0:
        return 0, None
    threshold, value = reached[-1]
    if promo.kind == "spend_percent":
        return min(net, half_up_div(net * value, 10_000)), (threshold, value)
    return min(net, value), (threshold, value)


class _Run:
    """One pass over the lanes with some promotions left out."""

    def __init__(self, lines: list[LineIn], buyer: Buyer, now: datetime, index, coupon: Coupon | None,
                 excluded: dict[int, str], history: dict[int, int] | None = None, coverage: dict | None = None):
        self.lines, self.buyer, self.now, self.index, self.coupon = lines, buyer, now, index, coupon
        self.excluded = excluded
        self.coverage = {} if coverage is None else coverage  # promotion id → the lines it covers (kept across passes)
        self.applied: dict[int, Applied] = {}
        self.history = history or {}  # volume tier id → the buyer's earlier quantity in its window
        self._cumulative: dict[int, int] = {}
        self._alone: dict[int, int] = {}
        self.result = PromotionQuote()
        self.net = {line.key: line.amount_fen for line in lines}
        self.stopped = False
        self._eligible: dict[int, bool] = {}
        self.now_ts = now.timestamp()

    def eligible(self, promo: CompiledPromotion) -> bool:
        known = self._eligible.get(promo.id)
        if known is None:
            starts, ends = promo.window_ts
            known = self._eligible[promo.id] = (promo.id not in self.excluded and starts <= self.now_ts < ends
                                                and promo.targets(self.buyer))
        return known

    def add(self, promo: CompiledPromotion, lane: str, key: int | None, discount: int, gift: int = 0,
            label: Message | None = None) -> Applied:
        applied = self.applied.get(promo.id)
        if applied is None:
            applied = self.applied[promo.id] = Applied(promo, lane, label=label or promo.explanation())
            self.result.applied.append(applied)
        applied.discount_fen += discount
        applied.gift_fen += gift
        if key is not None and discount:
            self.result.discounts.setdefault(key, {})[promo.id] = discount
            self.net[key] -= discount
        if promo.stop_further:
            self.stopped = True
        return applied

    def covered(self, promo: CompiledPromotion) -> list[LineIn]:
        if not promo.product_ids and not promo.category_ids:
            return self.lines
        known = self.coverage.get(promo.id)
        if known is None:
            products, categories = promo.product_ids, promo.category_ids
            known = self.coverage[promo.id] = [line for line in self.lines if line.product_id in products
                                               or (line.category_id is not None and line.category_id in categories)]
        return known

    def cumulative(self, promo: CompiledPromotion) -> int:
        """A volume tier's count: the buyer's earlier quantity plus this cart's covered lines."""
        if promo.kind != "volume_tier":
            return 0
        known = self._cumulative.get(promo.id)
        if known is None:
            known = self._cumulative[promo.id] = self.history.get(promo.id, 0) + sum(
                line.qty for line in self.covered(promo))
        return known

    def best_alone(self, line: LineIn) -> int:
        """What the line's best one-line item promotion would save it (discount or gift value),
        before any bundle; a bundle must beat this on each of its lines together."""
        known = self._alone.get(line.key)
        if known is not None:
            return known
        found = 0
        for promo in self.index.item_candidates(line.product_id, line.category_id):
            if promo.kind == "bundle" or not self.eligible(promo):
                continue
            discount, _qty, gift_value = _item_saving(promo, line, self.net[line.key], self.cumulative(promo))
            found = max(found, discount + gift_value)
        self._alone[line.key] = found
        return found

    def bundle_pass(self) -> set[int]:
        """Apply the bundles that beat their lines' own item promotions (multiline.py); the keys
        of the lines they took. Only bundles with a product in the cart are looked at."""
        if not getattr(self.index, "bundles", None):
            return set()
        from app.services.promotions import multiline

        by_product = {line.product_id: line for line in self.lines}
        seen: set[int] = set()
        offers = []
        for line in self.lines:
            for promo in self.index.by_product.get(line.product_id, ()):
                if promo.kind != "bundle" or promo.id in seen:
                    continue
                seen.add(promo.id)
                if not self.eligible(promo):
                    continue
                split, hint = multiline.bundle_offer(promo, by_product)
                if hint is not None:
                    self.result.hints.append(hint)
                if split:
                    offers.append((promo, split))
        taken: set[int] = set()
        offers.sort(key=lambda o: (-(o[0].priority if o[0].priority is not None else -1), -sum(o[1].values()), o[0].id))
        by_key = {line.key: line for line in self.lines}
        for promo, split in offers:
            if taken & set(split):
                continue
            alone = sum(self.best_alone(by_key[key]) for key in split)
            if promo.priority is None and sum(split.values()) <= alone:
                continue
            label = promo.explanation(promo.rule_text(by_key[next(iter(split))].unit))
            for key, discount in split.items():
                self.add(promo, ITEM, key, discount, label=label)
            taken |= set(split)
        return taken

    def item_lane(self) -> None:
        taken = self.bundle_pass()
        hinted: set[int] = set()
        for line in self.lines:
            if line.key in taken:
                continue
            candidates, gifts = [], {}
            for promo in self.index.item_candidates(line.product_id, line.category_id):
                if promo.kind == "bundle" or not self.eligible(promo):
                    continue
                discount, gift_qty, gift_value = _item_saving(promo, line, self.net[line.key], self.cumulative(promo))
                if promo.kind == "volume_tier" and promo.id not in hinted:
                    from app.services.promotions.multiline import tier_hint

                    hinted.add(promo.id)
                    hint = tier_hint(promo, self.cumulative(promo), line.unit)
                    if hint is not None:
                        self.result.hints.append(hint)
                if discount or gift_qty:
                    candidates.append((promo, discount + gift_value))
                    gifts[promo.id] = (discount, gift_qty, gift_value)
                else:
                    self._buy_hint(promo, line)
            best = _best(candidates)
            if best is None:
                continue
            promo = best[0]
            discount, gift_qty, gift_value = gifts[promo.id]
            applied = self.add(promo, ITEM, line.key, discount, gift_value, promo.explanation(promo.rule_text(line.unit)))
            if gift_qty:
                gift_id = promo.rule.get("gift_product_id") or line.product_id
                had_qty, had_value = applied.gifts.get(gift_id, (0, 0))
                applied.gifts[gift_id] = (had_qty + gift_qty, had_value + gift_value)
                self.result.gifts.append(Gift(promo, gift_id, gift_qty, gift_value, line.key))
                self._buy_hint(promo, line)

    def _buy_hint(self, promo: CompiledPromotion, line: LineIn) -> None:
        if promo.kind != "buy_x_get_y":
            return
        buy = int(promo.rule["buy"])
        if line.qty < buy:
            more = buy - line.qty
        elif promo.rule.get("repeat", True) and line.qty % buy:
            more = buy - line.qty % buy
        else:
            return
        self.result.hints.append(message("promo.hint_buy", n=more, unit=line.unit, rule=promo.rule_text(line.unit)))

    def ladder_lane(self, lane: str, promos: list[CompiledPromotion], coupon_id: int | None = None) -> None:
        candidates, spreads = [], {}
        totals: dict[int, tuple[int, int]] = {}  # the same covered lines (often: all of them) summed once
        for promo in promos:
            covered = self.covered(promo)
            known = totals.get(id(covered))
            if known is None:
                known = totals[id(covered)] = (sum(self.net[line.key] for line in covered),
                                               sum(line.amount_fen for line in covered))
            net = known[0]
            basis = known[1] if promo.basis == "list" else net
            value, rung = _ladder_value(promo, basis, net)
            if value and not promo.within_depth(value, basis if promo.kind == "spend_percent" else rung[0]):
                value = 0  # a dealer's 满减 beyond the brand's depth: measured on its threshold
            self._spend_hint(promo, basis, rung)
            if value:
                candidates.append((promo, value))
                spreads[promo.id] = (covered, rung)
        best = _best(candidates)
        if best is None:
            return
        promo, value = best
        covered, rung = spreads[promo.id]
        applied = self.add(promo, lane, None, 0, label=promo.explanation(promo.rung_text(*rung)))
        applied.coupon_id = coupon_id
        shares = spread(value, [self.net[line.key] for line in covered])
        for line, share in zip(covered, shares):
            if share:
                self.result.discounts.setdefault(line.key, {})[promo.id] = share
                self.net[line.key] -= share
        applied.discount_fen += value

    def _spend_hint(self, promo: CompiledPromotion, basis: int, rung) -> None:
        above = [r for r in promo.ladder() if r[0] > basis and (rung is None or r[0] > rung[0])]
        if not above:
            return
        threshold, value = above[0]
        whole, cents = divmod(threshold - basis, 100)
        short = f"{whole:,}.{cents:02d}"  # money still to spend, as amounts are shown everywhere
        if promo.kind == "spend_percent":
            self.result.hints.append(message("promo.hint_spend_percent", short=short, pct=yuan_plain(value)))
        else:
            self.result.hints.append(message("promo.hint_spend_off", short=short, off=yuan_plain(value)))

    def run(self) -> PromotionQuote:
        self.item_lane()
        if not self.stopped:
            self.ladder_lane(ORDER, [p for p in self.index.order_promotions if self.eligible(p)])
        coupon = self.coupon
        if coupon is not None:
            promo = coupon.promotion
            if coupon.problem:
                self.result.coupon_note = message(coupon.problem)
            elif promo is None or not promo.live_at(self.now) or not promo.targets(self.buyer):
                self.result.coupon_note = message("promo.coupon_not_live")
            elif promo.id in self.excluded:
                self.result.coupon_note = message("promo.budget_used_up")
            elif self.stopped:
                self.result.coupon_note = message("promo.coupon_stopped")
            else:
                self.ladder_lane(COUPON, [promo], coupon.id)
                if promo.id not in self.applied:
                    self.result.coupon_note = message("promo.coupon_not_reached")
        return self.result


def apply_promotions(lines: list[LineIn], buyer: Buyer, now: datetime, index, coupon: Coupon | None = None,
                     exclude: frozenset[int] | set[int] = frozenset(),
                     history: dict[int, int] | None = None) -> PromotionQuote:
    """Apply the live promotions in `index` (and the entered `coupon`) to priced `lines` for
    `buyer` at `now`; `exclude` leaves promotions out (e.g. whose budget ran out at checkout);
    `history`: each volume tier's earlier quantity for this buyer (services/promotions/volume.py)."""
    excluded = {pid: "excluded" for pid in exclude}
    coverage: dict[int, list[LineIn]] = {}
    while True:
        result = _Run(lines, buyer, now, index, coupon, excluded, history, coverage).run()
        problem = _first_problem(result, buyer)
        if problem is None:
            result.left_out = [Left(index.by_id[pid], reason) for pid, reason in sorted(excluded.items())
                               if pid in index.by_id and pid not in exclude]
            return result
        excluded[problem[0]] = problem[1]


def _first_problem(result: PromotionQuote, buyer: Buyer) -> tuple[int, str] | None:
    """The promotion to leave out next: one whose budget (or the buyer's rep or region
    allocation of it) cannot cover it, or the lesser of two in one exclusive group."""
    for applied in result.applied:
        promo = applied.promotion
        if not promo.fits_budget(applied.value_fen) or any(
                left < applied.value_fen for _s, _sid, left in (promo.scoped_for(buyer) if promo.scoped_budgets else ())):
            return promo.id, "budget"
    groups: dict[str, list[Applied]] = {}
    for applied in result.applied:
        if applied.promotion.exclusive_group:
            groups.setdefault(applied.promotion.exclusive_group, []).append(applied)
    for members in groups.values():
        if len(members) > 1:
            keep = min(members, key=lambda a: (-a.value_fen, a.promotion.id))
            loser = min((a for a in members if a is not keep), key=lambda a: a.promotion.id)
            return loser.promotion.id, "exclusive"
    return None
