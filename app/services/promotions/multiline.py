"""The two item-lane kinds that look beyond one line, as pure functions the engine calls (no
queries, no writes):

- **bundle** (套餐): a set of products with quantities (`items` = [[product id, qty], ...]) sold
  together at one price (`price_fen`). The cart holds the set k times when every item is there
  k times over (k = min of line qty // item qty); the saving is k × (the set at the lines' own
  prices − the bundle price), spread over the bundle's lines in proportion to the bundled units'
  amounts by largest remainder. Units beyond the k sets pay their line price. A line taken by a
  bundle gets no other item promotion; a bundle is taken only when it saves more than the best
  item promotions of its lines together (or its priority is pinned), bundles that save most
  first, a line in at most one bundle.
- **volume_tier** (累计阶梯价): `tiers` = [[cumulative qty, percent×100 off], ...]. The buyer's
  quantity of the covered products during the promotion's window (its orders not cancelled or
  rejected, read in one query per quote by services/promotions/volume.py) plus this cart's
  unlocks the highest tier reached; that percent comes off each covered line, like percent_off.
"""
from __future__ import annotations

from app.services.core.messages import Message, message
from app.services.promotions.compiled import CompiledPromotion, LineIn, spread, yuan_plain

BUNDLE, VOLUME_TIER = "bundle", "volume_tier"


def bundle_items(promo: CompiledPromotion) -> list[tuple[int, int]]:
    return [(int(pid), int(qty)) for pid, qty in promo.rule.get("items", [])]


def bundle_offer(promo: CompiledPromotion, by_product: dict[int, LineIn]) -> tuple[dict[int, int], Message | None]:
    """({line key: discount} of the whole sets the cart holds, {} when none or when the set price
    saves nothing at the lines' prices; the near-miss hint or None)."""
    items = bundle_items(promo)
    have = [by_product[pid].qty if pid in by_product else 0 for pid, _qty in items]
    sets = min(h // qty for h, (_pid, qty) in zip(have, items)) if items else 0
    split: dict[int, int] = {}
    if sets:
        weights = [by_product[pid].unit_price_fen * qty * sets for pid, qty in items]
        saving = sum(weights) - int(promo.rule["price_fen"]) * sets
        if saving > 0 and promo.within_depth(saving, sum(weights)):
            split = {by_product[pid].key: share for (pid, _qty), share in zip(items, spread(saving, weights)) if share}
    return split, _bundle_hint(promo, by_product, items, have, sets)


def _bundle_hint(promo, by_product, items, have, sets) -> Message | None:
    """"再买2箱可享套餐价 ¥99" when the cart holds part of one more set (at least one of its units)."""
    if not any(h > qty * sets for h, (_pid, qty) in zip(have, items)):
        return None
    missing = sum(max(0, qty * (sets + 1) - h) for h, (_pid, qty) in zip(have, items))
    unit = next(by_product[pid].unit for pid, _qty in items if pid in by_product)
    return message("promo.hint_bundle", n=missing, unit=unit, price=yuan_plain(int(promo.rule["price_fen"])))


def tiers(promo: CompiledPromotion) -> list[tuple[int, int]]:
    return promo.tier_steps


def tier_reached(promo: CompiledPromotion, cumulative: int) -> tuple[int, int] | None:
    reached = [tier for tier in tiers(promo) if tier[0] <= cumulative]
    return reached[-1] if reached else None


def tier_hint(promo: CompiledPromotion, cumulative: int, unit: str) -> Message | None:
    """"累计再买20箱享9折" (the next tier's percent) when a higher tier exists."""
    above = [tier for tier in tiers(promo) if tier[0] > cumulative]
    if not above:
        return None
    qty, pct = above[0]
    return message("promo.hint_volume", n=qty - cumulative, unit=unit, pct=yuan_plain(pct))


def rule_text(promo: CompiledPromotion, unit: str) -> Message:
    if promo.kind == BUNDLE:
        return message("promo.bundle", price=yuan_plain(int(promo.rule["price_fen"])))
    from app.services.core.messages import joined

    rungs = [message("promo.volume_tier", qty=qty, unit=unit, pct=yuan_plain(pct)) for qty, pct in tiers(promo)]
    return joined(rungs, "，") if len(rungs) > 1 else rungs[0]
