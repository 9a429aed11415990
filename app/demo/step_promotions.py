"""Demo step "promotions" (after "orders"): a handful of live promotions of every kind and a
coupon batch, so the cart, the catalog tags and the admin's promotion list show real numbers.

- 夏日饮品 9.5 折 on the five most popular products (brand funded);
- 新品买赠 每满10箱赠1箱 on the newest product;
- 满3000减100 / 满5000减200 over the whole order (shared 50 %, with a budget);
- 超市满1万减2% for supermarkets;
- a promotion of dealer001's own, for the shops it serves (dealer funded);
- a coupon 满500减20: one shared code LIANYING20 (1,000 uses) and a code issued to each of the
  first 20 retailers (retailer000001 holds one);
- a claimable coupon 领券 满800减40 on the retailers' coupons page.

The history: step "promotion_history" (before "orders") saves the past promotions and the order
generator gives their discounts, gifts and coupons on the orders placed in their windows
(app/demo/promotion_history.py). This step then gives back what returns and damaged units took,
sets the used budgets and coupon uses, and runs the promotion settlement for each month of the
past year (dealer001's and dealer002's drafts approved, with their credit notes, but the last
month's; the other dealers' left for the brand to approve)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.demo import promotion_history
from app.demo.builder import register_step
from app.extensions import db
from app.models import CouponCode, Promotion, User
from app.models.promotions import PromotionSettlement
from app.services.core.clock import LOCAL
from app.services.promotions import index as promo_index
from app.services.promotions import settlement

SETTLED_MONTHS = 12


def build_promotion_history(ctx) -> None:
    ctx.promotion_history = promotion_history.build_history(ctx)
    ctx.echo(f"  past promotions: {len(ctx.promotion_history.promotions)}")


def build_promotions(ctx) -> None:
    history = getattr(ctx, "promotion_history", None)
    if history is not None:
        promotion_history.finish(history)
        ctx.echo(f"  past promotions: {history.orders_discounted:,} orders discounted")
        _settle_past_months(ctx)
    start = datetime.combine(ctx.today - timedelta(days=10), time(), LOCAL)
    end = datetime.combine(ctx.today + timedelta(days=60), time(), LOCAL)
    active = [p for p in ctx.products if p.status == "active"]
    popular = sorted(active, key=lambda p: (-p.popularity, p.id))[:5]
    newest = max(active, key=lambda p: (p.launch, p.id))
    dealer = ctx.dealers[0]

    def add(code, name, kind, rule, lane="item", **kw):
        row = Promotion(code=code, name=name, kind=kind, lane=lane, rule=rule, product_ids=kw.pop("product_ids", []),
                        category_ids=[], audience=kw.pop("audience", {}), owner_id=kw.pop("owner_id", ctx.brand_id),
                        starts_at=start, ends_at=end, status="active", used_fen=0, used_uses=0, version=1, **kw)
        db.session.add(row)
        return row

    add("SUMMER95", "夏日饮品 9.5 折", "percent_off", {"percent_x100": 500}, product_ids=[p.id for p in popular])
    add("NEWBUY10", "新品买赠", "buy_x_get_y", {"buy": 10, "get": 1, "repeat": True}, product_ids=[newest.id])
    add("SPEND3000", "满3000减100，满5000减200", "spend_off",
        {"ladder": [[300_000, 10_000], [500_000, 20_000]], "basis": "discounted"}, lane="order",
        funding="shared", brand_share_pct=50, budget_fen=50_000_000)
    add("SUPER2", "超市满1万减2%", "spend_percent", {"ladder": [[1_000_000, 200]], "basis": "list"}, lane="order",
        audience={"channels": ["supermarket"]}, exclusive_group="spend")
    add(f"D{dealer.code}", f"{dealer.code} 老客户回馈", "percent_off", {"percent_x100": 300},
        product_ids=[p.id for p in popular[:2]], owner_id=dealer.id, funding="dealer", brand_share_pct=0)
    coupon = add("COUPON20", "满500减20 优惠券", "spend_off", {"ladder": [[50_000, 2_000]], "basis": "discounted"},
                 lane="coupon", budget_uses=2_000, per_customer_limit=3)
    db.session.flush()
    codes = [CouponCode(promotion_id=coupon.id, code="LIANYING20", max_uses=1_000)]
    codes += [CouponCode(promotion_id=coupon.id, code=f"COUPON20{r.code}", customer_id=r.id, max_uses=1)
              for r in ctx.retailers[:20]]
    db.session.add_all(codes)
    add("CLAIM40", "领券 满800减40", "spend_off",
        {"ladder": [[80_000, 4_000]], "basis": "discounted", "claimable": True, "claim_limit": 1},
        lane="coupon", budget_uses=5_000)
    promo_index.bump_version()
    db.session.flush()
    ctx.echo(f"  promotions: 7 live, {len(codes)} coupon codes")


def _settle_past_months(ctx) -> None:
    """One settlement run per month of the past year, oldest first; dealer001's and dealer002's
    drafts approved (a credit note each) but the last month's."""
    first = (ctx.today.replace(day=1) - timedelta(days=1)).replace(day=1)
    months = []
    for _n in range(SETTLED_MONTHS):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    admin = db.session.get(User, ctx.admin_user_id)
    shown = {d.id for d in ctx.dealers[:2]}
    drafted = 0
    for n, start in enumerate(reversed(months)):
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        result = settlement.run_settlement(start, end, ctx.admin_user_id)
        drafted += result.drafted
        if n < len(months) - 1:
            for settlement_id in db.session.scalars(select(PromotionSettlement.id).where(
                    PromotionSettlement.run_id == result.run.id, PromotionSettlement.dealer_id.in_(shown))):
                settlement.approve(admin, settlement_id)
    ctx.echo(f"  promotion settlement: {len(months)} monthly runs, {drafted} settlements")


register_step("promotion_history", build_promotion_history, after="prices")
register_step("promotions", build_promotions, after="orders")
