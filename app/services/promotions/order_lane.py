"""Lanes 2 and 3, the order lane (满减 / 满折 ladders) and the coupon lane (the entered code, a
ladder whose one rung may be a minimum spend), as the engine's run does them (engine.py): each
threshold counts the covered lines at their `list` or `discounted` amount as the promotion
says; one promotion wins; its discount is spread over the lines it covers by largest remainder.
A dealer's 满减 beyond the brand's maximum depth (of its threshold) gives nothing."""
from __future__ import annotations

from app.services.core.messages import message
from app.services.promotions.compiled import CompiledPromotion, best_candidate, half_up_div, spread, yuan_plain


def ladder_value(promo: CompiledPromotion, basis: int, net: int) -> tuple[int, tuple[int, int] | None]:
    """The discount of a ladder promotion whose threshold counts `basis`, over lines costing
    `net`, and the rung reached."""
    reached = [rung for rung in promo.ladder() if rung[0] <= basis]
    if not reached or net <= 0:
        return 0, None
    threshold, value = reached[-1]
    if promo.kind == "spend_percent":
        return min(net, half_up_div(net * value, 10_000)), (threshold, value)
    return min(net, value), (threshold, value)


class OrderLane:
    """The ladder lanes' part of engine._Run."""

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
            value, rung = ladder_value(promo, basis, net)
            if value and not promo.within_depth(value, basis if promo.kind == "spend_percent" else rung[0]):
                value = 0  # a dealer's 满减 beyond the brand's depth: measured on its threshold
            self._spend_hint(promo, basis, rung)
            if value:
                candidates.append((promo, value))
                spreads[promo.id] = (covered, rung)
        best = best_candidate(candidates)
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
