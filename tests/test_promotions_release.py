"""What is never delivered gives its promotion share back (services/promotions/redemption.py):
a remainder cancelled after a partial shipment, a line cut at approval with the rest cancelled,
units signed for as short; the 满减 the order reached is kept on what is delivered (the written
rule), gift units not delivered give their value back, a backordered rest keeps its share."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderLine, Promotion, PromotionRedemption
from app.models.fulfilment import RemainderCancellation
from app.services.core.clock import now_utc
from app.services.fulfilment import delivery, shipping
from app.services.ordering import cart, lifecycle, shortage
from app.services.ordering import orders as ordering
from tests import builders_fulfilment as f
from tests import builders_lifecycle as bl
from tests import builders_promotions as bp
from tests import factories


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _place(user, retailer, lines, n=0) -> Order:
    for product, qty in lines:
        cart.add_to_cart(user, retailer, product.id, qty)
    order = ordering.submit_order(user, retailer, f"release-{n}", cart.quote_cart(user, retailer).fingerprint).order
    db.session.commit()
    return db.session.get(Order, order.id)


def _lines(order_id):
    rows = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)).all()
    return [r for r in rows if not r.is_gift], [r for r in rows if r.is_gift]


def _redemption(promo) -> PromotionRedemption:
    return db.session.scalar(select(PromotionRedemption).where(PromotionRedemption.promotion_id == promo.id))


def _used(promo) -> tuple[int, int]:
    db.session.expire_all()
    row = db.session.get(Promotion, promo.id)
    return row.used_fen, row.used_uses


def test_a_cancelled_remainder_gives_back_its_share_and_keeps_the_ladder_reached(world, shop):
    """满150减20 reached by 20 cases; 10 ship, the rest is cancelled: the delivered half keeps its
    half of the 20 yuan (the threshold is not re-checked), the budget gets the other half back,
    and the one undelivered gift case (of 2) gives back its value."""
    user, retailer = shop
    admin = world.users["admin"]
    drink = factories.product(base_price_fen=1_000)
    f.stocked_dealer(world, [drink])
    ladder = bp.promotion(admin, world.brand, "spend_off", {"ladder": [[15_000, 2_000]], "basis": "list"},
                          budget_fen=100_000)
    gift = bp.promotion(admin, world.brand, "buy_x_get_y", {"buy": 10, "get": 1}, product_ids=[drink.id],
                        budget_fen=100_000)
    order = _place(user, retailer, [(drink, 20)])
    assert order.total_fen == 18_000
    assert _used(ladder) == (2_000, 1) and _used(gift) == (2_000, 1)
    if order.status == "submitted":
        lifecycle.transition(order.id, "approved", world.users["dealer"].id)
    paid, gifts = _lines(order.id)
    shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="顺丰", tracking_no="SF1",
                  quantities={paid[0].id: 10, gifts[0].id: 1})
    db.session.commit()
    assert _used(ladder) == (2_000, 1)  # a partial shipment alone gives nothing back
    shipping.cancel_rest(order.seller_id, order.id, world.users["dealer"].id, "断货")
    db.session.commit()

    assert db.session.get(RemainderCancellation, order.id).amount_fen == 9_000  # 10 cases at 18,000 / 20
    assert _used(ladder) == (1_000, 1)  # the 10 delivered keep 10 yuan off though 100 yuan < 150
    assert _redemption(ladder).released_fen == 1_000 and _redemption(ladder).released_at is None
    assert _used(gift) == (1_000, 1)  # one gift case of two never left
    # cancelling the whole order later (not possible once shipped) is the only full release:
    # the remainder cancellation released no use
    assert _redemption(gift).released_fen == 1_000


def test_a_line_cut_at_approval_with_the_rest_cancelled_gives_back_the_cut_share(world, shop):
    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    bl.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {drink: 6})
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         product_ids=[drink.id], budget_fen=100_000)
    order = _place(user, retailer, [(drink, 10)])
    assert order.status == "submitted" and _used(promo) == (1_000, 1)
    paid, _gifts = _lines(order.id)
    shortage.approve_available(order.seller_id, order.id, world.users["dealer"].id, {paid[0].id: 6},
                               shortage.CANCEL, "缺货")
    db.session.commit()
    assert _used(promo) == (600, 1)  # 4 of 10 cases cut: 400 of the 1,000 discount back
    assert db.session.get(Order, order.id).total_fen == 5_400


def test_a_backordered_rest_keeps_its_share_consumed(world, shop):
    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    bl.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {drink: 6})
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         product_ids=[drink.id], budget_fen=100_000)
    order = _place(user, retailer, [(drink, 10)])
    paid, _gifts = _lines(order.id)
    shortage.approve_available(order.seller_id, order.id, world.users["dealer"].id, {paid[0].id: 6},
                               shortage.BACKORDER)
    db.session.commit()
    assert _used(promo) == (1_000, 1)  # the backorder will ship the other 4 at their discount


def test_a_backorder_cancelled_because_stock_never_came_gives_back_its_share(world, shop):
    """The backordered 4 cases carry their 400 of the discount; the backorder is cancelled (stock
    never came): the 400 goes back to the budget in the cancelling transaction, the original order
    still counts as the use."""
    from app.services.ordering import lifecycle

    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    bl.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {drink: 6})
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         product_ids=[drink.id], budget_fen=100_000)
    order = _place(user, retailer, [(drink, 10)])
    paid, _gifts = _lines(order.id)
    shortage.approve_available(order.seller_id, order.id, world.users["dealer"].id, {paid[0].id: 6},
                               shortage.BACKORDER)
    db.session.commit()
    backorder = shortage.backorder_for(order.id)
    [moved] = _lines(backorder.id)[0]
    assert (moved.qty, moved.discount_fen) == (4, 400)
    assert _used(promo) == (1_000, 1)

    lifecycle.cancel_as_buyer(retailer.id, backorder.id, user.id, "等不到货")
    db.session.commit()
    assert _used(promo) == (600, 1)
    assert _redemption(promo).released_fen == 400 and _redemption(promo).released_at is None


def test_a_backorder_cut_at_its_own_approval_gives_back_the_cut_share(world, shop):
    """The backorder is approved for 1 of its 4 cases and the other 3 are cancelled: their 300
    goes back to the original order's redemption."""
    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    bl.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {drink: 7})  # 6 for the order, 1 later
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         product_ids=[drink.id], budget_fen=100_000)
    order = _place(user, retailer, [(drink, 10)])
    paid, _gifts = _lines(order.id)
    shortage.approve_available(order.seller_id, order.id, world.users["dealer"].id, {paid[0].id: 6},
                               shortage.BACKORDER)
    db.session.commit()
    backorder = shortage.backorder_for(order.id)
    [moved] = _lines(backorder.id)[0]
    shortage.approve_available(order.seller_id, backorder.id, world.users["dealer"].id, {moved.id: 1},
                               shortage.CANCEL, "停产")
    db.session.commit()
    assert _used(promo) == (700, 1)


def test_units_signed_for_as_short_give_back_their_discount_once(world, shop):
    user, retailer = shop
    drink = factories.product(base_price_fen=1_000)
    f.stocked_dealer(world, [drink])
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         budget_fen=100_000, starts_at=now_utc() - timedelta(days=2))
    order = _place(user, retailer, [(drink, 10)])
    if order.status == "submitted":
        lifecycle.transition(order.id, "approved", world.users["dealer"].id)
    f.ship_all(world, db.session.get(Order, order.id))
    paid, _gifts = _lines(order.id)
    delivery.confirm_receipt(retailer.id, order.id, user.id, {(paid[0].id, "short"): 3})
    db.session.commit()
    assert _used(promo) == (700, 1)
    assert _redemption(promo).released_fen == 300
