"""The one pure function that applies promotions to a priced cart: no queries, no writes, the
same answer for the same input (`apply_promotions`). This module runs the passes and settles
budgets and exclusivity; the lanes live in item_lane.py and order_lane.py, what they read and
answer (compiled promotions, lines, the quote, money helpers) in compiled.py.

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

from datetime import datetime

from app.services.core.messages import Message, message
from app.services.promotions.compiled import (COUPON, ITEM, LANES, ORDER, Applied, Buyer,  # noqa: F401 (the engine's names)
                                              CompiledPromotion, Coupon, Gift, Left, LineIn, PromotionQuote,
                                              half_up_div, spread, yuan_plain)
from app.services.promotions.item_lane import ItemLane
from app.services.promotions.order_lane import OrderLane


class _Run(ItemLane, OrderLane):
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
