"""Promotions through quote_cart and checkout: the cart shows them with their reasons, the order
freezes them (redemptions, per-line adjustments, gift lines), budgets are consumed once and given
back on cancel, a used-up budget re-prices the cart with the reason, quoting stays at the same
number of queries with 300 live promotions, and targeting keeps dealers' promotions apart."""
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderLine, OrderLineAdjustment, Organisation, Promotion, PromotionRedemption, User
from app.services.core.clock import now_utc
from app.services.core.errors import DomainError
from app.services.ordering import cart, lifecycle
from app.services.ordering import orders as ordering
from app.services.promotions import coupons
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def key(n=0):
    return f"promo-key-{n:08d}"


def test_cart_shows_item_order_and_gift_promotions_and_the_order_freezes_them(world, shop):
    user, retailer = shop
    admin = world.users["admin"]
    drink, snack = factories.product(base_price_fen=10_000), factories.product(base_price_fen=5_000)
    bp.promotion(admin, world.brand, "buy_x_get_y", {"buy": 10, "get": 1}, product_ids=[drink.id], name="每满10箱赠1箱")
    ladder = bp.promotion(admin, world.brand, "spend_off", {"ladder": [[300_000, 30_000], [500_000, 60_000]], "basis": "list"},
                          funding="shared", brand_share_pct=60)
    bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 1000}, product_ids=[snack.id])
    cart.add_to_cart(user, retailer, drink.id, 25)   # 2,500 yuan, 2 free
    cart.add_to_cart(user, retailer, snack.id, 11)   # 550 yuan - 10 % = 495
    quote = cart.quote_cart(user, retailer)

    assert [(g.product.id, g.qty, g.line_total_fen) for g in quote.gifts] == [(drink.id, 2, 0)]
    assert quote.list_total_fen == 305_000
    assert quote.discount_fen == 5_500 + 30_000
    assert quote.total_fen == 305_000 - 35_500 == sum(line.line_total_fen for line in quote.lines)
    assert [str(h) for h in quote.hints] == ["再买5箱享每满10箱赠1箱", "还差 ¥1,950.00 可减 ¥600"]
    assert "满3000减300 · 品牌承担 60%" in [str(a.label) for a in quote.applied]

    order = ordering.submit_order(user, retailer, key(), quote.fingerprint).order
    db.session.commit()
    assert order.total_fen == 269_500
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    assert [(l.product_id, l.qty, l.unit_price_fen, l.discount_fen, l.is_gift) for l in lines] == [
        (drink.id, 25, 10_000, lines[0].discount_fen, False), (snack.id, 11, 5_000, lines[1].discount_fen, False),
        (drink.id, 2, 0, 0, True)]
    assert sum(l.line_total_fen for l in lines) == order.total_fen
    adjustments = db.session.scalars(select(OrderLineAdjustment)).all()
    assert sum(a.amount_fen for a in adjustments) == 35_500
    redemptions = {r.promotion_id: r for r in db.session.scalars(select(PromotionRedemption))}
    assert len(redemptions) == 3
    by_ladder = redemptions[ladder.id]
    assert (by_ladder.discount_fen, by_ladder.brand_fen) == (30_000, 18_000)
    assert by_ladder.snapshot["rule"] == {"ladder": [[300_000, 30_000], [500_000, 60_000]], "basis": "list"}
    # editing the promotion later changes nothing the order froze
    bp.admin.save_promotion(admin, world.brand, dict(code=ladder.code, name="改了", kind="spend_off",
                                                     rule={"ladder": [[100, 50]]}, starts_at=ladder.starts_at,
                                                     ends_at=ladder.ends_at, status="active"), ladder.id)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(PromotionRedemption, by_ladder.id).snapshot["version"] == 1
    assert db.session.get(Order, order.id).total_fen == 269_500


def test_quoting_with_300_live_promotions_runs_the_same_queries(world, shop, app):
    user, retailer = shop
    admin = world.users["admin"]
    products = [factories.product(base_price_fen=1_000 + i) for i in range(20)]
    for product in products:
        cart.add_to_cart(user, retailer, product.id, 3)
    db.session.commit()
    cart.quote_cart(user, retailer)  # the region is loaded once per request
    with b.count_queries() as before:
        plain = cart.quote_cart(user, retailer)
    for i in range(300):
        kind = ("percent_off", "amount_off", "buy_x_get_y", "spend_off")[i % 4]
        rule = {"percent_off": {"percent_x100": 100 + i}, "amount_off": {"off_fen": 1 + i % 5},
                "buy_x_get_y": {"buy": 5, "get": 1}, "spend_off": {"ladder": [[10_000 + i * 100, 500]]}}[kind]
        bp.admin.save_promotion(admin, world.brand, dict(
            code=f"BULK{i}", name=f"批量{i}", kind=kind, rule=rule, product_ids=[products[i % 20].id],
            starts_at=now_utc() - timedelta(days=1), ends_at=now_utc() + timedelta(days=1), status="active",
            audience={"channels": ["kiosk" if i % 3 else "supermarket"]}))
    db.session.commit()
    cart.quote_cart(user, retailer)  # this process loads the new promotions once
    with b.count_queries() as after:
        promoted = cart.quote_cart(user, retailer)
    assert len(after) == len(before), after.statements
    assert promoted.discount_fen > 0 and promoted.total_fen < plain.total_fen


def test_a_used_up_budget_reprices_the_cart_with_the_reason(world, shop):
    user, retailer = shop
    drink = factories.product(base_price_fen=10_000)
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000},
                         budget_uses=1)
    cart.add_to_cart(user, retailer, drink.id, 1)
    quote = cart.quote_cart(user, retailer)
    assert quote.discount_fen == 1_000
    # another buyer's order takes the last use between this quote and the submit
    db.session.execute(Promotion.__table__.update().where(Promotion.id == promo.id).values(used_uses=1))
    db.session.commit()
    with pytest.raises(ordering.PricesChanged) as refused:
        ordering.submit_order(user, retailer, key(), quote.fingerprint)
    db.session.rollback()
    assert "活动额度已用完" in refused.value.message
    assert refused.value.quote.discount_fen == 0
    again = cart.quote_cart(user, retailer)  # the process reloaded the budgets: the cart shows it too
    assert again.discount_fen == 0 and again.fingerprint == refused.value.quote.fingerprint
    order = ordering.submit_order(user, retailer, key(), again.fingerprint).order
    db.session.commit()
    assert order.total_fen == 10_000


def test_cancel_gives_the_budget_and_the_coupon_back_once(world, shop):
    user, retailer = shop
    drink = factories.product(base_price_fen=10_000)
    promo, [code] = bp.coupon(world.users["admin"], world.brand, off_fen=500, code="SPRING", max_uses=1,
                              budget_fen=10_000)
    cart.add_to_cart(user, retailer, drink.id, 1)
    coupons.apply_coupon(user, retailer, " spring ", cart.promotion_buyer(retailer, cart._profile(retailer)))
    quote = cart.quote_cart(user, retailer)
    assert quote.coupon_code == "SPRING" and quote.discount_fen == 500
    order = ordering.submit_order(user, retailer, key(), quote.fingerprint).order
    db.session.commit()
    db.session.refresh(promo)
    db.session.refresh(code)
    assert (promo.used_fen, promo.used_uses, code.used_uses) == (500, 1, 1)
    lifecycle.cancel_as_buyer(retailer.id, order.id, user.id, "不要了")
    db.session.commit()
    db.session.refresh(promo)
    db.session.refresh(code)
    assert (promo.used_fen, promo.used_uses, code.used_uses) == (0, 0, 0)
    redemption = db.session.scalar(select(PromotionRedemption))
    assert redemption.released_at is not None


@pytest.mark.parametrize("setup, entered, message", [
    ("none", "NOPE", "优惠券码无效"),
    ("other_customer", "MINE", "不属于您"),
    ("expired", "OLD", "已过期"),
    ("used_up", "GONE", "已被用完"),
    ("not_targeted", "CITY", "不适用"),
    ("none", "  ", "请输入优惠券码"),
])
def test_a_bad_coupon_says_why_next_to_the_field_and_changes_nothing(world, shop, setup, entered, message):
    user, retailer = shop
    admin = world.users["admin"]
    if setup == "other_customer":
        promo, [row] = bp.coupon(admin, world.brand, 500, customer_ids=[world.orgs["retailer_b"].id])
        row.code = "MINE"
    elif setup == "expired":
        bp.coupon(admin, world.brand, 500, code="OLD", starts_at=now_utc() - timedelta(days=9),
                  ends_at=now_utc() - timedelta(days=1))
    elif setup == "used_up":
        _promo, [row] = bp.coupon(admin, world.brand, 500, code="GONE", max_uses=1)
        row.used_uses = 1
    elif setup == "not_targeted":
        bp.coupon(admin, world.brand, 500, code="CITY", audience={"channels": ["supermarket"]})
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        coupons.apply_coupon(user, retailer, entered, cart.promotion_buyer(retailer, cart._profile(retailer)))
    assert message in refused.value.message and refused.value.field == "coupon_code"
    db.session.rollback()
    assert cart.quote_cart(user, retailer).coupon_code == ""


def test_a_dealers_promotion_reaches_only_the_retailers_it_serves(world):
    drink = factories.product(base_price_fen=10_000)
    bp.promotion(world.users["dealer"], world.orgs["dealer"], "percent_off", {"percent_x100": 1000})
    for who, expected in (("retailer", 1_000), ("retailer_b", 0)):
        user, shop_org = world.users[who], world.orgs[who]
        cart.add_to_cart(user, shop_org, drink.id, 1)
        assert cart.quote_cart(user, shop_org).discount_fen == expected, who
    # nor the dealer's own replenishment from the brand
    dealer_user, dealer = world.users["dealer"], world.orgs["dealer"]
    cart.add_to_cart(dealer_user, dealer, drink.id, 1)
    assert cart.quote_cart(dealer_user, dealer).discount_fen == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
def test_fifty_concurrent_checkouts_race_for_a_budget_that_fits_ten(app, world):
    dealer = world.orgs["dealer"]
    rep = world.users["rep"]
    drink = factories.product(base_price_fen=10_000)
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000},
                         budget_uses=10, budget_fen=1_000_000)
    shops = [factories.org("retailer", f"抢购店{i}", region_id=world.orgs["retailer"].region_id, channel="kiosk",
                           dealer_id=dealer.id) for i in range(50)]
    for shop_org in shops:
        cart.add_to_cart(rep, shop_org, drink.id, 1)
    db.session.commit()
    shop_ids, rep_id = [s.id for s in shops], rep.id
    start = threading.Barrier(50)
    results, errors = {}, []

    def checkout(i):
        with app.app_context(), app.test_request_context():
            try:
                owner, buyer = db.session.get(User, rep_id), db.session.get(Organisation, shop_ids[i])
                quote = cart.quote_cart(owner, buyer)
                assert quote.discount_fen == 1_000
                db.session.close()  # give the connection back while waiting (the pool holds 15)
                start.wait(60)
                owner, buyer = db.session.get(User, rep_id), db.session.get(Organisation, shop_ids[i])
                for attempt in range(10):
                    try:
                        order = ordering.submit_order(owner, buyer, key(i), quote.fingerprint,
                                                      accept_changes=attempt > 0).order
                        db.session.commit()
                        results[i] = order.total_fen
                        return
                    except ordering.PricesChanged as changed:
                        db.session.rollback()
                        quote = changed.quote
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(results) == 50
    assert sorted(results.values()) == [9_000] * 10 + [10_000] * 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PromotionRedemption)) == 10
    assert db.session.scalar(select(func.count()).select_from(Order)) == 50
    row = db.session.get(Promotion, promo.id)
    assert (row.used_uses, row.used_fen) == (10, 10_000)


def test_a_per_customer_limit_refuses_the_second_order_with_the_reason(world, shop):
    """The shop and its rep each quote a cart while one use is left; the second to submit is
    refused with the reason, and its next quote leaves the promotion out."""
    user, retailer = shop
    rep = world.users["rep"]
    drink = factories.product(base_price_fen=10_000)
    bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000}, per_customer_limit=1)
    cart.add_to_cart(user, retailer, drink.id, 1)
    cart.add_to_cart(rep, retailer, drink.id, 1)
    reps_quote = cart.quote_cart(rep, retailer)
    assert reps_quote.discount_fen == 1_000
    first = ordering.submit_order(user, retailer, key(1), cart.quote_cart(user, retailer).fingerprint).order
    db.session.commit()
    assert first.total_fen == 9_000
    with pytest.raises(ordering.PricesChanged) as refused:
        ordering.submit_order(rep, retailer, key(2), reps_quote.fingerprint)
    db.session.rollback()
    assert "已达每位客户的参与次数" in refused.value.message
    assert refused.value.quote.discount_fen == 0
    again = cart.quote_cart(rep, retailer)
    assert again.discount_fen == 0
    assert ordering.submit_order(rep, retailer, key(2), again.fingerprint).order.total_fen == 10_000


def test_the_owner_is_told_once_when_a_budget_passes_80_percent(world, shop):
    from app.models import Notification

    user, retailer = shop
    drink = factories.product(base_price_fen=10_000)
    bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000}, budget_uses=5,
                 name="夏日折扣")
    for n in range(5):
        cart.add_to_cart(user, retailer, drink.id, 1)
        ordering.submit_order(user, retailer, key(n), cart.quote_cart(user, retailer).fingerprint)
        db.session.commit()
        notices = db.session.scalars(select(Notification).where(Notification.kind == "promotion.budget")).all()
        # the 4th order reaches 80 %: every marketing admin is told, once
        assert len(notices) == (0 if n < 3 else 1), n
    assert notices[0].user_id == world.users["admin"].id
    assert notices[0].params["pct"] == 80


def test_gift_lines_reserve_stock_like_any_line_and_skip_the_price_recheck(world, shop):
    """The gift rule: a gift is an order line priced 0 that reserves stock at approval (here the
    automatic review approves the order), and the review's price check leaves it alone."""
    from app.models import StockReservation
    from tests import builders_lifecycle as bl

    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    bl.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {drink: 100})
    bp.promotion(world.users["admin"], world.brand, "buy_x_get_y", {"buy": 10, "get": 1}, product_ids=[drink.id])
    submission = bl.checkout(user, retailer, [(drink, 20)])
    db.session.commit()
    order = db.session.get(Order, submission.order.id)
    assert order.status == "approved", order.status
    assert sorted((l.qty, l.is_gift, l.line_total_fen) for l in order.lines) == [(2, True, 0), (20, False, 20_000)]
    reserved = db.session.scalar(select(func.sum(StockReservation.qty)).where(StockReservation.product_id == drink.id))
    assert reserved == 22


def test_a_return_credits_net_of_the_discount_and_gives_that_discount_back_to_the_budget(world, shop):
    from app.services.fulfilment import delivery, returns
    from tests import builders_fulfilment as f

    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    f.stocked_dealer(world, [drink])
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000},
                         budget_fen=1_000_000)
    cart.add_to_cart(user, retailer, drink.id, 10)
    order = ordering.submit_order(user, retailer, key(), cart.quote_cart(user, retailer).fingerprint).order
    db.session.commit()
    assert order.total_fen == 9_000
    if order.status == "submitted":
        lifecycle.transition(order.id, "approved", world.users["dealer"].id)
    f.ship_all(world, db.session.get(Order, order.id))
    delivery.confirm_receipt(retailer.id, order.id, user.id, {})
    db.session.commit()
    line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    request = returns.request_return(retailer.id, order.id, user.id, "破损", {line.id: 3})
    accepted = returns.accept_return(order.seller_id, request.id, world.users["dealer"].id, "write_off")
    db.session.commit()
    assert accepted.amount_fen == 2_700  # 3 of 10 units at their price after the 10 % off
    db.session.refresh(promo)
    redemption = db.session.scalar(select(PromotionRedemption))
    assert (redemption.released_fen, promo.used_fen, promo.used_uses) == (300, 700, 1)
