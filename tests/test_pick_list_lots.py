"""The pick list prints the lots shipping takes: one allocation (allocation.plan_fefo) serves
both, with the cut-offs of the day, whichever of the listed orders ships first."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ShelfLifeRule, StockReservation
from app.models.fulfilment import Shipment, ShipmentLot
from app.services.core.clock import today_local
from app.services.fulfilment import desk, shipping
from app.services.inventory.orders import order_document
from app.services.inventory.verify import verify_stock
from tests import builders_fulfilment as f
from tests import factories


def printed(pick_list) -> dict[int, list[tuple[str, int]]]:
    found = {}
    for route in pick_list.routes:
        for retailer in route.retailers:
            for picked in retailer.orders:
                found[picked.order.id] = sorted((lot["lot"], lot["qty"]) for line in picked.lines for lot in line.lots)
    return found


def shipped(order_id: int) -> list[tuple[str, int]]:
    rows = db.session.execute(select(ShipmentLot.batch_no, ShipmentLot.qty)
                              .join(Shipment, Shipment.id == ShipmentLot.shipment_id)
                              .where(Shipment.order_id == order_id)).all()
    merged: dict[str, int] = {}
    for batch, qty in rows:
        merged[batch] = merged.get(batch, 0) + qty
    return sorted(merged.items())


def ship(world, order, qty):
    shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="自送",
                  quantities={order.lines[0].id: qty})


def test_an_order_reserved_days_ago_is_picked_with_the_cut_off_of_the_shipping_day(world):
    """Kiosks need 10 % of 360 days (36) left. Reserved 20 days ago, the stored cut-off (16 days
    from today) would still accept the lot expiring in 25 days; on the shipping day it does not,
    and the pick list says so too."""
    db.session.add(ShelfLifeRule(name="小卖部", audience="retailer", channel="kiosk", min_remaining_pct=10))
    product = factories.product(shelf_life_days=360)
    f.warehouse_with_lots(world.orgs["dealer"], world.regions["hz"],
                          {product: [("SOON", 5, 25), ("LATER", 10, 200)]})
    order = f.approved_order(world, [(product, 5)])
    reservation = db.session.scalar(select(StockReservation).where(StockReservation.document == order_document(order.id)))
    reservation.created_at -= timedelta(days=20)  # as if approved 20 days ago
    reservation.min_expiry_date -= timedelta(days=20)
    db.session.flush()

    listed = printed(desk.pick_list(order.seller_id, [order.id], today_local()))
    ship(world, order, 5)
    assert listed[order.id] == shipped(order.id) == [("LATER", 5)]


def test_the_orders_of_a_pick_list_get_the_printed_lots_in_whatever_order_they_ship(world):
    """The lenient shop was reserved first and is planned the early lot; the kiosk (36 days) the
    late one. Shipping the kiosk first still takes the late lot, as printed (first-expiry-first-
    out on its own would have taken the early lot, which it also accepts)."""
    db.session.add(ShelfLifeRule(name="小卖部", audience="retailer", channel="kiosk", min_remaining_pct=10))
    product = factories.product(shelf_life_days=360)
    f.warehouse_with_lots(world.orgs["dealer"], world.regions["hz"],
                          {product: [("EARLY", 5, 60), ("LATE", 10, 300)]})
    lenient = f.approved_order(world, [(product, 5)], buyer=world.orgs["retailer_b"])  # a convenience store
    kiosk = f.approved_order(world, [(product, 5)])
    listed = printed(desk.pick_list(kiosk.seller_id, [kiosk.id, lenient.id], today_local()))
    assert listed == {lenient.id: [("EARLY", 5)], kiosk.id: [("LATE", 5)]}

    ship(world, kiosk, 2)  # in two parts, before the lenient order
    ship(world, kiosk, 3)
    ship(world, lenient, 5)
    assert {o.id: shipped(o.id) for o in (kiosk, lenient)} == listed
    db.session.commit()
    assert verify_stock() == []


def test_a_pick_list_printed_between_two_shipments_shows_what_is_left_to_take(world):
    product = factories.product(shelf_life_days=360)
    f.warehouse_with_lots(world.orgs["dealer"], world.regions["hz"],
                          {product: [("A", 3, 50), ("B", 3, 80), ("C", 10, 300)]})
    first = f.approved_order(world, [(product, 4)])
    second = f.approved_order(world, [(product, 4)])
    before = printed(desk.pick_list(first.seller_id, [first.id, second.id], today_local()))
    assert before == {first.id: [("A", 3), ("B", 1)], second.id: [("B", 2), ("C", 2)]}
    ship(world, second, 4)
    after = printed(desk.pick_list(first.seller_id, [first.id], today_local()))
    assert after == {first.id: [("A", 3), ("B", 1)]}
    ship(world, first, 4)
    assert shipped(first.id) == before[first.id] and shipped(second.id) == before[second.id]
