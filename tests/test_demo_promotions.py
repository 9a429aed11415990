"""The demo's year of promotions: past promotions of every kind, their redemptions in the order
history agreeing with the lines, the invoices, the promotion list, the order page and the
settlements. Built once for this module at the `small` scale `make run` uses."""
import random
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import (CouponCode, Invoice, Order, OrderLine, OrderLineAdjustment, Organisation, Product, Promotion,
                        PromotionRedemption, User)
from app.models.promotions import PromotionSettlement, SettlementRun
from app.services.core.clock import LOCAL, now_utc
from app.services.ordering.cart import tax_included
from app.services.promotions import limits, settlement
from app.services.promotions.compiled import half_up_div
from app.web.common.filters import yuan
from tests.demo_build import demo_fixtures

pytestmark = pytest.mark.xdist_group("demo-seed")  # one worker builds the demo data, one module at a time


built, db = demo_fixtures("small")


def _past() -> list[Promotion]:
    return _db.session.scalars(select(Promotion).where(Promotion.status == "ended").order_by(Promotion.id)).all()


def _redemptions(promotion_id: int) -> int:
    return _db.session.scalar(select(func.count()).select_from(PromotionRedemption)
                              .where(PromotionRedemption.promotion_id == promotion_id))


def _username(org_id: int) -> str:
    return _db.session.scalar(select(User.username).where(User.org_id == org_id).order_by(User.id))


def test_past_promotions_of_every_kind_lie_in_the_history_and_ended(built):
    past = _past()
    start, end = built.history_start, built.history_end
    for p in past:
        assert start <= p.starts_at.astimezone(LOCAL).date() and p.ends_at.astimezone(LOCAL).date() <= end + timedelta(days=1)
        assert p.ends_at <= now_utc()
    by_code = {p.code: p for p in past}
    cny = [p for p in past if p.code.startswith("CNY") and p.lane == "order"]
    assert len(cny) == 2 and all("春节" in p.name for p in cny)  # both New Years of the two years
    summer = [p for p in past if p.code.startswith("SUMMER")]
    assert summer and all(p.starts_at.astimezone(LOCAL).month == 7 for p in summer)
    assert any(p.kind == "spend_off" and len(p.rule["ladder"]) >= 2 for p in past)  # 满减 ladders
    gifts = [p for p in past if p.kind == "buy_x_get_y"]
    assert gifts
    for p in gifts:  # on a new product, from its launch
        launched = _db.session.scalar(select(Product.launch_date).where(Product.id == p.product_ids[0]))
        assert p.starts_at.astimezone(LOCAL).date() == max(launched, start)
    assert {p.kind for p in past} >= {"bundle", "volume_tier", "spend_percent", "percent_off"}
    assert any(p.audience.get("rep_ids") for p in past) and any(p.audience.get("group_ids") for p in past)

    dealer_funded = [p for p in past if p.funding == "dealer"]
    assert len(dealer_funded) == 2
    for p in dealer_funded:  # within the brand's limits on dealer promotions
        dealer = _db.session.get(Organisation, p.owner_id)
        assert dealer.kind == "dealer" and limits.limits_for(dealer).max_depth_pct is not None
        limits.check_promotion(dealer, p.kind, p.rule, p.product_ids, p.category_ids)
        buyers = _db.session.scalars(select(Organisation.dealer_id).join(
            PromotionRedemption, PromotionRedemption.buyer_id == Organisation.id)
            .where(PromotionRedemption.promotion_id == p.id).distinct()).all()
        assert set(buyers) <= {dealer.id}

    batch = by_code["COUPON-ANNIV"]
    codes = _db.session.scalars(select(CouponCode).where(CouponCode.promotion_id == batch.id)).all()
    used = [c for c in codes if c.used_uses]
    assert len(codes) > 100 and 0 < len(used) < len(codes) and all(c.customer_id for c in codes)
    claimable = [p for p in _db.session.scalars(select(Promotion).where(Promotion.status == "active",
                                                                         Promotion.lane == "coupon"))
                 if p.rule.get("claimable")]
    assert claimable
    for code in ("CNY25", "CNY26", "AUTUMN26", "COUPON-ANNIV", "KA-SUPER", "WATER-TIER"):
        if code in by_code:
            assert _redemptions(by_code[code].id) > 10, code


def test_redeemed_orders_lines_adjustments_and_invoices_add_up():
    redeemed = _db.session.scalars(select(PromotionRedemption.order_id).distinct().order_by(
        PromotionRedemption.order_id)).all()
    assert len(redeemed) > 1000
    sample = random.Random(11).sample(redeemed, 300)
    orders = {o.id: o for o in _db.session.scalars(select(Order).where(Order.id.in_(sample)))}
    lines = defaultdict(list)
    for line in _db.session.scalars(select(OrderLine).where(OrderLine.order_id.in_(sample))):
        lines[line.order_id].append(line)
    adjusted = defaultdict(int)
    for line_id, amount in _db.session.execute(select(OrderLineAdjustment.order_line_id, OrderLineAdjustment.amount_fen)
                                               .join(OrderLine).where(OrderLine.order_id.in_(sample))):
        adjusted[line_id] += amount
    taken = defaultdict(lambda: [0, 0])
    gift_qty = defaultdict(int)
    for r in _db.session.scalars(select(PromotionRedemption).where(PromotionRedemption.order_id.in_(sample))):
        taken[r.order_id][0] += r.discount_fen
        taken[r.order_id][1] += r.gift_fen
        for product_id, (qty, _value) in (r.snapshot.get("gifts") or {}).items():
            gift_qty[(r.order_id, int(product_id))] += qty
        assert r.snapshot["name"] and r.snapshot["code"] and r.snapshot["label"]
    invoices = dict(_db.session.execute(select(Invoice.order_id, Invoice.total_fen).where(Invoice.order_id.in_(sample))).all())
    gifted = 0
    for order_id in sample:
        order = orders[order_id]
        paid = [line for line in lines[order_id] if not line.is_gift]
        for line in paid:
            assert adjusted[line.id] == line.discount_fen
            assert line.line_total_fen == line.unit_price_fen * line.qty - line.discount_fen
            assert line.tax_fen == tax_included(line.line_total_fen, line.tax_rate)
        for line in lines[order_id]:
            if line.is_gift:
                gifted += 1
                assert (line.unit_price_fen, line.line_total_fen, line.discount_fen) == (0, 0, 0)
                assert gift_qty[(order_id, line.product_id)] == line.qty
        assert sum(line.discount_fen for line in paid) == taken[order_id][0]
        assert order.total_fen == sum(line.unit_price_fen * line.qty for line in paid) - taken[order_id][0]
        assert order.total_fen == sum(line.line_total_fen for line in lines[order_id])
        assert order.line_count == len(lines[order_id])
        if order_id in invoices:
            assert invoices[order_id] == order.total_fen
    # Gift lines exist somewhere (the sample may miss them): each matches a redemption's gifts.
    assert _db.session.scalar(select(func.count()).select_from(OrderLine).where(OrderLine.is_gift.is_(True))) > 0


def test_cancelled_orders_gave_their_redemptions_back_and_budgets_match_the_rows():
    released = _db.session.execute(select(Order.status, PromotionRedemption.released_at, PromotionRedemption.released_fen,
                                          PromotionRedemption.discount_fen + PromotionRedemption.gift_fen)
                                   .join(Order, Order.id == PromotionRedemption.order_id)).all()
    for status, released_at, released_fen, value in released:
        assert (released_at is not None) == (status in ("cancelled", "rejected"))
        if released_at is not None:
            assert released_fen == value
    for p in _past():
        if p.budget_fen is None:
            continue
        used = _db.session.scalar(select(func.coalesce(func.sum(
            PromotionRedemption.discount_fen + PromotionRedemption.gift_fen - PromotionRedemption.released_fen), 0))
            .where(PromotionRedemption.promotion_id == p.id, PromotionRedemption.released_at.is_(None)))
        assert p.used_fen == used <= p.budget_fen
    for code in _db.session.scalars(select(CouponCode).where(CouponCode.used_uses > 0)):
        uses = _db.session.scalar(select(func.count()).select_from(PromotionRedemption).where(
            PromotionRedemption.coupon_id == code.id, PromotionRedemption.released_at.is_(None)))
        assert code.used_uses == uses and (code.max_uses is None or uses <= code.max_uses)


def test_the_promotion_list_shows_what_the_redemption_rows_gave(app, client):
    client.login("admin", app.config["DEMO_PASSWORD"])
    html = client.get("/admin/promotions").get_data(as_text=True)
    for p in _past():
        discount, gift, orders = _db.session.execute(
            select(func.coalesce(func.sum(PromotionRedemption.discount_fen), 0),
                   func.coalesce(func.sum(PromotionRedemption.gift_fen), 0), func.count())
            .where(PromotionRedemption.promotion_id == p.id, PromotionRedemption.released_at.is_(None))).one()
        row = html[html.index(f">{p.code}</a>"):]
        row = row[:row.index("</tr>")]
        assert f'<td class="num">{orders}</td><td class="num">{yuan(discount)}</td><td class="num">{yuan(gift)}</td>' \
            in row, p.code
    cny = next(p for p in _past() if p.code.startswith("CNY") and p.lane == "order")
    page = client.get(f"/admin/promotions/{cny.id}/effect")
    assert page.status_code == 200
    effect = page.get_data(as_text=True)
    discount = _db.session.scalar(select(func.sum(PromotionRedemption.discount_fen - PromotionRedemption.released_fen))
                                  .where(PromotionRedemption.promotion_id == cny.id,
                                         PromotionRedemption.released_at.is_(None)))
    assert discount > 0 and yuan(discount) in effect


def test_the_live_claimable_coupon_is_offered_to_the_demo_shop(app, client):
    claimable = _db.session.scalar(select(Promotion).where(Promotion.status == "active", Promotion.code == "CLAIM40"))
    assert claimable.rule.get("claimable")
    client.login("retailer000001", app.config["DEMO_PASSWORD"])
    page = client.get("/retailer/coupons")
    assert page.status_code == 200 and claimable.name in page.get_data(as_text=True)


def test_a_redeemed_order_shows_its_promotion_to_the_shop(app, client):
    redemption = _db.session.scalar(
        select(PromotionRedemption).join(Order, Order.id == PromotionRedemption.order_id)
        .join(Promotion, Promotion.id == PromotionRedemption.promotion_id)
        .where(Order.status == "completed", Promotion.code.like("CNY%"), Promotion.lane == "order")
        .order_by(PromotionRedemption.id).limit(1))
    order = _db.session.get(Order, redemption.order_id)
    client.login(_username(order.buyer_id), app.config["DEMO_PASSWORD"])
    html = client.get(f"/retailer/orders/{order.id}").get_data(as_text=True)
    from app.services.core.messages import render, without_funding

    assert render(without_funding(redemption.label)) in html and f"−{yuan(redemption.discount_fen)}" in html
    assert "承担" not in render(without_funding(redemption.label))
    assert yuan(order.total_fen) in html


def test_settlements_equal_the_brand_share_of_the_redemptions_net_of_releases(app, client):
    last = _db.session.scalar(select(SettlementRun).order_by(SettlementRun.period_end.desc()).limit(1))
    runs = _db.session.scalar(select(func.count()).select_from(SettlementRun))
    assert runs == 12
    until = settlement.period_end_utc(last.period_end)
    expected = defaultdict(int)
    for seller_kind, seller_id, brand_fen, value, released_fen, released_at in _db.session.execute(
            select(Organisation.kind, Order.seller_id, PromotionRedemption.brand_fen,
                   PromotionRedemption.discount_fen + PromotionRedemption.gift_fen, PromotionRedemption.released_fen,
                   PromotionRedemption.released_at)
            .join(Order, Order.id == PromotionRedemption.order_id).join(Organisation, Organisation.id == Order.seller_id)
            .where(PromotionRedemption.created_at < until)):
        if seller_kind == "dealer" and released_at is None and brand_fen:
            expected[seller_id] += brand_fen - half_up_div(brand_fen * released_fen, value)
    settled = dict(_db.session.execute(select(PromotionSettlement.dealer_id, func.sum(PromotionSettlement.amount_fen))
                                       .group_by(PromotionSettlement.dealer_id)).all())
    assert settled and {k: v for k, v in expected.items() if v > 0} == settled
    approved = _db.session.scalars(select(PromotionSettlement).where(PromotionSettlement.status == "approved")).all()
    assert approved and all(s.credit_note_id for s in approved)

    dealer = _db.session.scalar(select(Organisation).where(Organisation.code == "D001"))
    own = type(client)(app)
    own.login(_username(dealer.id), app.config["DEMO_PASSWORD"])
    page = own.get("/dealer/promotions/settlements").get_data(as_text=True)
    for s in _db.session.scalars(select(PromotionSettlement).where(PromotionSettlement.dealer_id == dealer.id)):
        assert yuan(s.amount_fen) in page
    client.login("admin", app.config["DEMO_PASSWORD"])
    admin_page = client.get("/admin/promotions/settlements").get_data(as_text=True)
    for s in last.settlements:
        assert yuan(s.amount_fen) in admin_page
