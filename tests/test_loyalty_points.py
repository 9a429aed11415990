"""Points ledger: spending and expiry first-expiring-first-out, earning only at the delivery
sign-off (on what was paid for what was delivered), the clawback on returns and its rule (down
to 0, the rest written off), the nightly expiry job (idempotent) and its notice."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, OrderStatus
from app.services.core.clock import today_local
from app.services.fulfilment import returns
from app.services.loyalty import earning, ledger
from app.services.loyalty.expiry import expire_due, notify_expiring
from app.services.ordering import lifecycle
from jobs.loyalty import expire_points_job
from tests import builders_fulfilment as f
from tests import builders_loyalty as pts

S = OrderStatus


def test_spending_takes_the_first_expiring_lot_first(world):
    shop = world.orgs["retailer"]
    late = pts.earn(shop, 500, expires_in_days=300)
    early = pts.earn(shop, 300, expires_in_days=20)
    middle = pts.earn(shop, 200, expires_in_days=90)
    ledger.spend(shop.id, 400, "redeem", "test:spend:1")
    assert pts.lots_remaining(shop) == {early.expires_on: 0, middle.expires_on: 100, late.expires_on: 500}
    assert pts.balance(shop) == 600 and pts.consistent(shop)


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(world):
    shop = world.orgs["retailer"]
    pts.earn(shop, 100)
    with pytest.raises(ledger.NotEnoughPoints):
        ledger.spend(shop.id, 101, "redeem", "test:spend:2")
    assert pts.balance(shop) == 100 and pts.entries(shop, "redeem") == []


def test_expiry_takes_due_lots_only_once(world):
    shop = world.orgs["retailer"]
    due = pts.earn(shop, 300, expires_in_days=-1)
    pts.earn(shop, 200, expires_in_days=10)
    ledger.spend(shop.id, 100, "redeem", "test:spend:3")  # FEFO: from the due lot
    result = expire_due(today_local())
    assert (result.lots, result.points) == (1, 200)
    assert pts.lots_remaining(shop)[due.expires_on] == 0 and pts.balance(shop) == 200
    assert expire_due(today_local()).lots == 0  # run twice: nothing more
    assert [e.points for e in pts.entries(shop, "expire")] == [-200]
    assert pts.consistent(shop)


def test_expiry_job_commits_and_sends_one_expiring_soon_notice(world):
    shop = world.orgs["retailer"]
    pts.earn(shop, 300, expires_in_days=0)
    pts.earn(shop, 700, expires_in_days=5)
    db.session.commit()
    summary = expire_points_job(today_local().isoformat())
    assert "1 lot(s), 300 point(s); 1 notice(s)" in summary
    assert expire_points_job(today_local().isoformat()).endswith("0 lot(s), 0 point(s); 0 notice(s)")
    [notice] = db.session.scalars(select(Notification).where(Notification.org_id == shop.id))
    assert notice.message == "loyalty.expiring" and notice.params["points"] == 700
    assert notify_expiring(today_local()) == 0


def test_points_are_earned_at_sign_off_not_before(world):
    shop = world.orgs["retailer"]
    products = f.products(2)  # 24.00 and 56.50 a case
    f.stocked_dealer(world, products)
    order = f.approved_order(world, [(products[0], 3), (products[1], 2)])  # 72.00 + 113.00
    f.ship_all(world, order)
    assert pts.entries(shop) == []  # shipped is not delivered
    from app.services.fulfilment import delivery

    delivery.confirm_receipt(shop.id, order.id, world.users["retailer"].id, {(order.lines[1].id, "damaged"): 1})
    [earned] = pts.entries(shop, "earn")
    assert (earned.value_fen, earned.points, earned.order_id) == (18_500 - 5_650, 128, order.id)  # ¥128.50 → 128
    assert earning.earn_for_order(order) is None  # once per order
    assert pts.balance(shop) == 128 and pts.consistent(shop)
    [lot] = pts.lots_remaining(shop)
    assert lot == today_local() + timedelta(days=365)


def test_a_dealer_order_earns_nothing(world):
    product = f.products(1)[0]
    f.stocked_dealer(world, [product])
    order = f.approved_order(world, [(product, 1)])
    order.buyer.kind = "dealer"  # as if a dealer had bought
    assert earning.earn_for_order(order) is None


def _return(world, order, line, qty):
    request = returns.request_return(order.buyer_id, order.id, world.users["retailer"].id, "坏了", {line.id: qty})
    return returns.accept_return(order.seller_id, request.id, world.users["dealer"].id, "restock")


def test_a_return_claws_back_in_proportion_and_two_returns_add_up_to_the_whole(world):
    shop = world.orgs["retailer"]
    product = f.products(1)[0]  # 24.00
    f.stocked_dealer(world, [product])
    order = f.delivered_order(world, [(product, 3)])  # ¥72 → 72 points
    assert pts.balance(shop) == 72
    line = order.lines[0]
    _return(world, order, line, 1)
    assert [e.points for e in pts.entries(shop, "clawback")] == [-24]
    _return(world, order, line, 2)
    assert sum(e.points for e in pts.entries(shop, "clawback")) == -72
    assert pts.balance(shop) == 0 and pts.consistent(shop)
    assert sum(e.value_fen for e in pts.entries(shop)) == 0  # the tier spend follows the returns


def test_a_clawback_of_points_already_spent_stops_at_zero_and_records_the_shortfall(world):
    shop = world.orgs["retailer"]
    product = f.products(1)[0]
    f.stocked_dealer(world, [product])
    order = f.delivered_order(world, [(product, 3)])  # 72 points
    ledger.spend(shop.id, 60, "gift", "test:gift:1")  # 12 left
    _return(world, order, order.lines[0], 3)
    [claw] = pts.entries(shop, "clawback")
    assert (claw.points, claw.shortfall, claw.balance_after) == (-12, 60, 0)
    assert pts.balance(shop) == 0 and pts.consistent(shop)


def test_cancelling_an_order_after_sign_off_is_impossible_so_points_stay(world):
    """The lifecycle has no move out of delivered but completed: earned points are final
    except through returns."""
    product = f.products(1)[0]
    f.stocked_dealer(world, [product])
    order = f.delivered_order(world, [(product, 1)])
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.transition(order.id, S.CANCELLED.value, None)


def test_a_return_gives_back_the_points_spent_on_the_returned_value(world):
    from app.services.fulfilment import delivery
    from app.services.ordering import orders as ordering
    from tests import builders_ordering as bo

    shop, user = world.orgs["retailer"], world.users["retailer"]
    product = f.products(1)[0]  # 24.00 a case
    f.stocked_dealer(world, [product])
    pts.earn(shop, 10_000)
    bo.cart_line(user, shop, product, 4, quoted=2_400)  # ¥96: 20 % = ¥19.20 in points
    order = ordering.submit_order(user, shop, "refund-points-0001", use_points=True).order
    assert (order.total_fen, pts.balance(shop)) == (7_680, 8_080)
    if order.status != S.APPROVED.value:
        lifecycle.transition(order.id, S.APPROVED.value, world.users["dealer"].id)
    f.ship_all(world, order)
    delivery.confirm_receipt(shop.id, order.id, user.id, {})
    assert pts.balance(shop) == 8_080 + 76  # earned on the ¥76.80 paid
    line = order.lines[0]
    _return(world, order, line, 1)  # a quarter back: 480 of the 1,920 points, 19 of the 76 earned
    assert [e.points for e in pts.entries(shop, "release")] == [480]
    _return(world, order, line, 3)
    assert sum(e.points for e in pts.entries(shop, "release")) == 1_920
    assert sum(e.points for e in pts.entries(shop, "clawback")) == -76
    assert pts.balance(shop) == 10_000 and pts.consistent(shop)
