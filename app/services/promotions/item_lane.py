"""Lane 1, the item lane, as the engine's run does it (engine.py): per line, the best for the
buyer of the item promotions covering its product (percent off, so much off each unit, buy X
get Y whose gifts become zero-priced lines, volume tiers on the buyer's cumulative quantity);
bundles (套餐) first, taken only when they beat their lines' own best (multiline.py). A
dealer's promotion beyond the brand's maximum depth on a line gives nothing there."""
from __future__ import annotations

from app.services.core.messages import message
from app.services.promotions.compiled import ITEM, CompiledPromotion, Gift, LineIn, best_candidate, half_up_div


def item_saving(promo: CompiledPromotion, line: LineIn, net: int, cumulative: int = 0) -> tuple[int, int, int]:
    """(discount, gift qty, gift value) of an item promotion on a line costing `net` so far;
    `cumulative`: the buyer's quantity counted by a volume tier (earlier orders and this cart).
    Nothing when a dealer promotion would go beyond the brand's maximum depth on this line
    (gifts: of the amount bought to earn them)."""
    discount, gift_qty, gift_value = raw_item_saving(promo, line, net, cumulative)
    if promo.max_depth_x100 is not None:
        earned_by = line.amount_fen
        if gift_qty:
            earned_by = gift_qty // int(promo.rule["get"]) * int(promo.rule["buy"]) * line.unit_price_fen
        if not promo.within_depth(discount + gift_value, earned_by):
            return 0, 0, 0
    return discount, gift_qty, gift_value


def raw_item_saving(promo: CompiledPromotion, line: LineIn, net: int, cumulative: int = 0) -> tuple[int, int, int]:
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


class ItemLane:
    """The item lane's part of engine._Run (it holds the lines, the net amounts, the result)."""

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
            discount, _qty, gift_value = item_saving(promo, line, self.net[line.key], self.cumulative(promo))
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
                discount, gift_qty, gift_value = item_saving(promo, line, self.net[line.key], self.cumulative(promo))
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
            best = best_candidate(candidates)
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
