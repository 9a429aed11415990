"""Budgets consumed at checkout and given back on cancel or reject.

Per-customer limits count the buyer's redemptions not given back, under a lock on the buyer's
row. `consume` runs inside the exactly-once checkout transaction, before the order row: one
conditional UPDATE per budgeted promotion (`used + d <= limit`, in promotion id order so two
checkouts never deadlock) and per coupon code. On PostgreSQL a concurrent checkout waits for the
row and re-checks the condition against the committed value, so a budget is never exceeded. Any
refusal is returned; the caller re-prices the cart without those promotions, raises, and rolls
back what was consumed. `record` then writes one redemption row per promotion (unique per
promotion and order, with the frozen snapshot) and the per-line adjustments.

`release_order` gives back what an order consumed when it is cancelled or rejected, once
(`released_at`), in the transaction that moves the order; `release_returned` gives back the
discount of returned units in the transaction of the return's credit note; `release_undelivered`
gives back the discount and the gift value of units that were never delivered (a remainder
cancelled after a partial shipment, a line cut at approval with the rest cancelled, units signed
for as short or damaged), in the transaction of the credit note or the reduction. A backorder
(the cut units of an order, services/ordering/shortage.py) carries its lines' share of the
discounts but no redemption: when it is cancelled, rejected or cut in turn, that share goes back
to the original order's redemptions, in the same transaction.

Rules for what is not delivered (written down, tested in tests/test_promotions_release.py):
- Each line gives back its adjustments × undelivered / ordered, rounded half up once per line
  and promotion, never more than the redemption has left; the order still counts as a use.
- Order ladders (满减/满折) are not re-checked after a short delivery: the shortfall is the
  seller's doing, so the buyer keeps the rung the order reached, on what is delivered, and the
  budget gets back the share of the units not delivered. (A buyer's own cancellation of the
  whole order gives everything back: `release_order`.)
- Gifts (the engine's gift rule: shipped short like any line, never charged): a gift unit not
  delivered gives its value back to the budget (value × undelivered / given, per gift product);
  a returned gift does not (it was given; it comes back at price 0)."""
from __future__ import annotations

from sqlalchemy import insert, or_, select, update

from app.extensions import db
from app.models import (CouponCode, Order, OrderLine, OrderLineAdjustment, Organisation, Promotion,
                        PromotionRedemption, PromotionScopedBudget)
from app.services.core.clock import now_utc
from app.services.promotions import index as promo_index
from app.services.promotions.coupons import customer_uses
from app.services.promotions.engine import Applied, Buyer, half_up_div


def consume(applied: list[Applied], buyer_id: int, buyer: Buyer | None = None) -> list[tuple[int, str]]:
    """Take each applied promotion's share of its budgets (and of the `buyer`'s rep and region
    allocations); [(promotion id, message code)] of those refused (nothing else to undo: the
    caller rolls back)."""
    refused = []
    if any(item.promotion.per_customer_limit is not None for item in applied):
        # The buyer's row lock makes two checkouts of one buyer (the shop and its rep) count
        # the customer's uses one after the other.
        db.session.execute(select(Organisation.id).where(Organisation.id == buyer_id).with_for_update())
    for item in sorted(applied, key=lambda a: a.promotion.id):
        promo = item.promotion
        if promo.per_customer_limit is not None and customer_uses(promo.id, buyer_id) >= promo.per_customer_limit:
            refused.append((promo.id, "promo.customer_limit"))
            continue
        if promo.has_budget:
            value = item.value_fen
            taken = db.session.execute(
                update(Promotion).where(
                    Promotion.id == promo.id, Promotion.status.in_(promo_index.LIVE_STATUSES),
                    or_(Promotion.budget_fen.is_(None), Promotion.used_fen + value <= Promotion.budget_fen),
                    or_(Promotion.budget_uses.is_(None), Promotion.used_uses + 1 <= Promotion.budget_uses))
                .values(used_fen=Promotion.used_fen + value, used_uses=Promotion.used_uses + 1)
                .returning(Promotion.used_fen, Promotion.used_uses, Promotion.budget_fen, Promotion.budget_uses,
                           Promotion.owner_id)
                .execution_options(synchronize_session=False)).first()
            if taken is None:
                refused.append((promo.id, "promo.budget_used_up"))
                continue
            _alert_when_budget_passes(promo, value, *taken)
        if promo.scoped_budgets and not _take_allocations(promo, item.value_fen, buyer):
            refused.append((promo.id, "promo.budget_used_up"))
            continue
        if item.coupon_id is not None:
            taken = db.session.execute(
                update(CouponCode).where(CouponCode.id == item.coupon_id,
                                         or_(CouponCode.max_uses.is_(None), CouponCode.used_uses + 1 <= CouponCode.max_uses))
                .values(used_uses=CouponCode.used_uses + 1).execution_options(synchronize_session=False)).rowcount
            if not taken:
                refused.append((promo.id, "promo.coupon_used_up"))
    if refused:
        promo_index.invalidate()  # this process reloads the budgets as committed on its next quote
    return refused


def _take_allocations(promo, value: int, buyer: Buyer | None) -> bool:
    """The buyer's rep and region allocations of `promo`, each by a conditional update (scope,
    then id order); False when one cannot cover `value` (or the buyer has none left)."""
    drawn = sorted((scope, sid) for scope, sid, _left in (promo.scoped_for(buyer) if buyer else ()))
    if not drawn:
        return False  # allocated, but not to this buyer's reps or regions
    for scope, sid in drawn:
        taken = db.session.execute(update(PromotionScopedBudget).where(
            PromotionScopedBudget.promotion_id == promo.id, PromotionScopedBudget.scope == scope,
            PromotionScopedBudget.scope_id == sid, PromotionScopedBudget.used_fen + value <= PromotionScopedBudget.budget_fen)
            .values(used_fen=PromotionScopedBudget.used_fen + value).execution_options(synchronize_session=False)).rowcount
        if not taken:
            return False
    return True


def _give_back_allocations(row: PromotionRedemption, amount: int) -> None:
    """Lower the allocations the redemption drew on (its snapshot names them) by `amount`."""
    for scope, sid in (row.snapshot or {}).get("allocations") or []:
        db.session.execute(update(PromotionScopedBudget).where(
            PromotionScopedBudget.promotion_id == row.promotion_id, PromotionScopedBudget.scope == scope,
            PromotionScopedBudget.scope_id == sid).values(used_fen=PromotionScopedBudget.used_fen - amount)
            .execution_options(synchronize_session=False))


ALERT_SHARE = 80  # percent of a budget: its owner is told once when an order passes it


def _alert_when_budget_passes(promo, value: int, used_fen: int, used_uses: int, budget_fen, budget_uses,
                              owner_id: int) -> None:
    """An in-app notice to the promotion's owner (the brand's marketing admins, or the dealer)
    when this order took the budget past ALERT_SHARE percent; once per promotion (dedupe key)."""
    from app.services.notifications import Audience, notify

    shares = []
    if budget_fen:
        shares.append(((used_fen - value) * 100 // budget_fen, used_fen * 100 // budget_fen))
    if budget_uses:
        shares.append(((used_uses - 1) * 100 // budget_uses, used_uses * 100 // budget_uses))
    crossed = [after for before, after in shares if before < ALERT_SHARE <= after]
    if not crossed:
        return
    audience = (Audience(owner_id, "dealer") if promo.owner_dealer_id is not None
                else Audience(owner_id, "admin", "marketing"))
    notify(audience, kind="promotion.budget", message="promotion.budget_80",
           params={"name": promo.name, "code": promo.code, "pct": max(crossed)},
           dedupe_key=f"promotion-budget-{promo.id}-{ALERT_SHARE}")


def record(order_id: int, buyer_id: int, applied: list[Applied], adjustments: list[dict],
           buyer: Buyer | None = None) -> None:
    """The redemption rows and the per-line adjustments ({order_line_id, promotion_id, amount_fen,
    label}) of a new order, in two statements; each row names the allocations it drew on."""
    if not applied:
        return
    now = now_utc()
    # Core INSERTs of the tables (the ORM's bulk path costs more Python and brings nothing here)
    db.session.execute(_REDEMPTION_INSERT, [dict(
        promotion_id=item.promotion.id, order_id=order_id, buyer_id=buyer_id, coupon_id=item.coupon_id,
        discount_fen=item.discount_fen, gift_fen=item.gift_fen, brand_fen=item.promotion.brand_share(item.value_fen),
        snapshot=snapshot(item, buyer), created_at=now) for item in applied])
    if adjustments:
        db.session.execute(_ADJUSTMENT_INSERT, adjustments)


_REDEMPTION_INSERT = insert(PromotionRedemption.__table__)
_ADJUSTMENT_INSERT = insert(OrderLineAdjustment.__table__)


def snapshot(item: Applied, buyer: Buyer | None = None) -> dict:
    """What the order keeps of the promotion as it applied: editing it later changes nothing here."""
    promo = item.promotion
    drawn = sorted([scope, sid] for scope, sid, _left in promo.scoped_for(buyer)) if buyer and promo.scoped_budgets else []
    return {"version": promo.version, "code": promo.code, "name": promo.name, "kind": promo.kind, "lane": item.lane,
            "rule": promo.rule, "funding": promo.funding, "brand_share_pct": promo.brand_share_pct,
            "label": item.label.to_json() if item.label is not None else None, "counted": promo.has_budget,
            "gifts": {str(pid): [qty, value] for pid, (qty, value) in sorted(item.gifts.items())},
            "allocations": drawn}


def _redeemed_by(order_id: int) -> int:
    """The order whose checkout holds the redemptions: a backorder's original (followed to the
    first order), else the order itself."""
    seen = {order_id}
    while True:
        parent = db.session.scalar(select(Order.backorder_of_id).where(Order.id == order_id))
        if parent is None or parent in seen:
            return order_id
        seen.add(parent)
        order_id = parent


def release_order(order_id: int) -> int:
    """Give back the budgets and coupon uses the order consumed (once); the number of redemptions
    released. A backorder (stock never came, so it is cancelled or rejected) consumed nothing
    itself: its lines give back their share of the original order's redemptions, like units
    never delivered (the original order still counts as a use)."""
    origin = _redeemed_by(order_id)
    if origin != order_id:
        quantities = dict(db.session.execute(select(OrderLine.id, OrderLine.qty)
                                             .where(OrderLine.order_id == order_id)).all())
        return 1 if release_undelivered(order_id, quantities) else 0
    rows = list(db.session.scalars(select(PromotionRedemption).where(
        PromotionRedemption.order_id == order_id, PromotionRedemption.released_at.is_(None))
        .order_by(PromotionRedemption.promotion_id).with_for_update()))
    now = now_utc()
    for row in rows:
        if (row.snapshot or {}).get("counted"):
            db.session.execute(update(Promotion).where(Promotion.id == row.promotion_id).values(
                used_fen=Promotion.used_fen - (row.discount_fen + row.gift_fen - row.released_fen),
                used_uses=Promotion.used_uses - 1)
                .execution_options(synchronize_session=False))
        _give_back_allocations(row, row.discount_fen + row.gift_fen - row.released_fen)
        row.released_fen = row.discount_fen + row.gift_fen
        if row.coupon_id is not None:
            db.session.execute(update(CouponCode).where(CouponCode.id == row.coupon_id)
                               .values(used_uses=CouponCode.used_uses - 1).execution_options(synchronize_session=False))
        row.released_at = now
    if rows:
        promo_index.bump_version()  # budgets freed: every process reloads what is left
        db.session.flush()
    return len(rows)


def release_returned(order_id: int, quantities: dict[int, int]) -> int:
    """A return gives back the discount the returned units took ({order line id: qty}): each
    line's adjustment × returned / ordered, rounded half up once per line, never more than the
    redemption has left. The order still counts as a use; gifts' value stays consumed (a
    returned gift comes back at price 0). Returns the fen given back."""
    return _give_back(order_id, _discount_shares(order_id, quantities), {})


def release_undelivered(order_id: int, quantities: dict[int, int]) -> int:
    """Units of the order never delivered ({order line id: qty}, paid or gift lines) give back
    their discount and their gift value (see the module's rules); a backorder's units give back
    to its original order's redemptions. Returns the fen given back."""
    origin = _redeemed_by(order_id)
    return _give_back(origin, _discount_shares(order_id, quantities), _undelivered_gifts(order_id, quantities, origin))


def _discount_shares(order_id: int, quantities: dict[int, int]) -> dict[int, int]:
    """{promotion id: fen} of the paid lines' adjustments for `quantities` of their units."""
    quantities = {line_id: qty for line_id, qty in quantities.items() if qty > 0}
    if not quantities:
        return {}
    lines = dict(db.session.execute(select(OrderLine.id, OrderLine.qty).where(
        OrderLine.order_id == order_id, OrderLine.id.in_(quantities))).all())
    back: dict[int, int] = {}
    for line_id, promotion_id, amount in db.session.execute(select(
            OrderLineAdjustment.order_line_id, OrderLineAdjustment.promotion_id, OrderLineAdjustment.amount_fen)
            .where(OrderLineAdjustment.order_line_id.in_(lines))):
        share = half_up_div(amount * min(quantities[line_id], lines[line_id]), lines[line_id])
        back[promotion_id] = back.get(promotion_id, 0) + share
    return back


def _undelivered_gifts(order_id: int, quantities: dict[int, int], origin: int | None = None) -> dict[int, int]:
    """{promotion id: fen} of the gift value of undelivered gift units: per gift product, the
    units are taken from the order's redemptions in promotion id order (as the snapshot froze
    each one's gifts: qty and value), each unit worth value × 1 / qty, rounded once."""
    missing: dict[int, int] = {}
    for line_id, product_id in db.session.execute(select(OrderLine.id, OrderLine.product_id).where(
            OrderLine.order_id == order_id, OrderLine.is_gift.is_(True),
            OrderLine.id.in_([i for i, q in quantities.items() if q > 0]))):
        missing[product_id] = missing.get(product_id, 0) + quantities[line_id]
    if not missing:
        return {}
    back: dict[int, int] = {}
    for promotion_id, snap in db.session.execute(select(PromotionRedemption.promotion_id, PromotionRedemption.snapshot)
                                                 .where(PromotionRedemption.order_id == (origin or order_id),
                                                        PromotionRedemption.gift_fen > 0)
                                                 .order_by(PromotionRedemption.promotion_id)):
        for product_id, (qty, value) in ((int(k), v) for k, v in ((snap or {}).get("gifts") or {}).items()):
            take = min(missing.get(product_id, 0), qty)
            if take:
                missing[product_id] -= take
                back[promotion_id] = back.get(promotion_id, 0) + half_up_div(value * take, qty)
    return back


def _give_back(order_id: int, discounts: dict[int, int], gifts: dict[int, int]) -> int:
    """Lower the redemptions' consumed amounts (and their promotions' used budgets) by
    `discounts` (capped at the discount left) and `gifts` (capped at what is left in all)."""
    ids = set(discounts) | set(gifts)
    if not ids:
        return 0
    total = 0
    for row in db.session.scalars(select(PromotionRedemption).where(
            PromotionRedemption.order_id == order_id, PromotionRedemption.promotion_id.in_(ids),
            PromotionRedemption.released_at.is_(None)).order_by(PromotionRedemption.promotion_id).with_for_update()):
        give = max(0, min(discounts.get(row.promotion_id, 0), row.discount_fen - row.released_fen))
        give += max(0, min(gifts.get(row.promotion_id, 0), row.discount_fen + row.gift_fen - row.released_fen - give))
        if give <= 0:
            continue
        if (row.snapshot or {}).get("counted"):
            db.session.execute(update(Promotion).where(Promotion.id == row.promotion_id)
                               .values(used_fen=Promotion.used_fen - give).execution_options(synchronize_session=False))
        _give_back_allocations(row, give)
        row.released_fen += give
        total += give
    if total:
        promo_index.bump_version()
        db.session.flush()
    return total
