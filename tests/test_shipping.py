"""Shipping: whole and partial shipments, the rest kept open or cancelled with a reason, lots
first-expiry-first-out from the reservation, the invoice and delivery note after shipping, and
every refusal (wrong status, too much, missing carrier, another dealer's order)."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Invoice, Notification, Order
from app.models.fulfilment import RemainderCancellation, Shipment, ShipmentLot
from app.services.fulfilment import shipping
from app.services.core.errors import DomainError, NotFound
from app.services.ordering.lifecycle import TransitionRefused
from tests import builders_fulfilment as f
from tests.builders_lifecycle import shown


@pytest.fixture
def goods(world):
    items = f.products(2)
    warehouse = f.stocked_dealer(world, items)
    db.session.commit()
    return items, warehouse


def text(response):
    return response.get_data(as_text=True)


def ship_form(order, quantities, carrier="顺丰速运", tracking="SF123456", **extra):
    data = {"carrier": carrier, "tracking_no": tracking, "seen": extra.pop("seen", order.status)}
    data.update({f"qty_{line.id}": qty for line, qty in zip(order.lines, quantities)})
    data.update(extra)
    return data


# ---- services ------------------------------------------------------------------------------------

def test_a_full_shipment_takes_earliest_lots_and_moves_the_order_to_shipped(world, goods):
    (a, b), warehouse = goods
    order = f.approved_order(world, [(a, 30), (b, 5)])
    result = shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="顺丰", tracking_no="SF1",
                           quantities={order.lines[0].id: 30, order.lines[1].id: 5})
    db.session.commit()

    assert result.complete and not result.rest_cancelled and f.status_of(order) == "shipped"
    lots = {(lot.batch_no, lot.qty) for lot in db.session.scalars(select(ShipmentLot))}
    assert lots == {(f"E-{a.code}", 30), (f"E-{b.code}", 5)}  # first expiry first out
    assert f.balance(warehouse, a) == (70, 0) and f.lot_on_hand(warehouse, f"E-{a.code}") == 20
    assert result.shipment.number.startswith("SH") and result.shipment.carrier == "顺丰"
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice is not None and invoice.total_fen == order.total_fen
    kinds = {d.kind for d in db.session.scalars(select(Document).where(Document.order_id == order.id))}
    assert kinds == {"invoice", "delivery_note"}


def test_partial_shipments_go_through_partly_shipped_and_the_last_one_ships(world, goods):
    (a, b), warehouse = goods
    order = f.approved_order(world, [(a, 10), (b, 4)])
    dealer = world.users["dealer"].id
    first = shipping.ship(order.seller_id, order.id, dealer, carrier="自有车辆", quantities={order.lines[0].id: 6})
    db.session.commit()
    assert not first.complete and f.status_of(order) == "partly_shipped"
    assert f.balance(warehouse, a) == (94, 4)  # 6 out, 4 still reserved
    assert db.session.scalar(select(Invoice).where(Invoice.order_id == order.id)) is None

    second = shipping.ship(order.seller_id, order.id, dealer, carrier="自有车辆",
                           quantities={order.lines[0].id: 2, order.lines[1].id: 1})
    db.session.commit()
    assert not second.complete and f.status_of(order) == "partly_shipped"
    notices = db.session.scalars(select(Notification).where(Notification.kind == "order_shipment")).all()
    assert len(notices) == 1 and second.shipment.number in shown(notices[0]).body  # a later part still tells the buyer

    last = shipping.ship(order.seller_id, order.id, dealer, carrier="自有车辆",
                         quantities={order.lines[0].id: 2, order.lines[1].id: 3})
    db.session.commit()
    assert last.complete and f.status_of(order) == "shipped" and f.shipments(order) == 3
    assert f.balance(warehouse, a) == (90, 0) and f.balance(warehouse, b) == (96, 0)


def test_a_partial_shipment_may_cancel_the_rest_with_a_credit_note(world, goods):
    (a, b), warehouse = goods
    order = f.approved_order(world, [(a, 10), (b, 4)])
    result = shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="顺丰",
                           quantities={order.lines[0].id: 7}, cancel_rest_reason="缺货，剩余不再发")
    db.session.commit()

    assert result.complete and result.rest_cancelled and f.status_of(order) == "shipped"
    assert f.balance(warehouse, a) == (93, 0) and f.balance(warehouse, b) == (100, 0)  # rest released
    cancelled_value = 3 * a.base_price_fen + 4 * b.base_price_fen
    cancellation = db.session.get(RemainderCancellation, order.id)
    assert cancellation.amount_fen == cancelled_value and cancellation.reason == "缺货，剩余不再发"
    [note] = f.credit_notes(order)
    assert note.reason == "adjustment" and note.amount_fen == cancelled_value and cancellation.credit_note_id == note.id
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice.paid_fen == cancelled_value  # the invoice is settled by the credit note as far as it goes


def test_cancelling_the_rest_later_and_its_refusals(world, goods):
    (a, b), _ = goods
    order = f.approved_order(world, [(a, 10), (b, 4)])
    db.session.commit()
    dealer = world.users["dealer"].id
    with pytest.raises(DomainError, match="还没有发过货"):
        shipping.cancel_rest(order.seller_id, order.id, dealer, "不发了")
    shipping.ship(order.seller_id, order.id, dealer, carrier="顺丰", quantities={order.lines[1].id: 4})
    with pytest.raises(DomainError, match="取消原因") as caught:
        shipping.cancel_rest(order.seller_id, order.id, dealer, "  ")
    assert caught.value.field == "reason"
    shipping.cancel_rest(order.seller_id, order.id, dealer, "客户只要一部分")
    db.session.commit()
    assert f.status_of(order) == "shipped" and f.credit_notes(order)[0].amount_fen == 10 * a.base_price_fen
    with pytest.raises(TransitionRefused):
        shipping.ship(order.seller_id, order.id, dealer, carrier="顺丰", quantities={order.lines[0].id: 1})


@pytest.mark.parametrize("status", ["submitted", "on_hold", "shipped", "delivered", "completed", "rejected",
                                    "cancelled"])
def test_shipping_is_refused_outside_approved_and_picking(world, status):
    [a] = f.products(1)
    order = f.builders_lifecycle.order(world.orgs["retailer"], world.orgs["dealer"], [(a, 2)], status=status)
    db.session.commit()
    with pytest.raises(TransitionRefused):
        shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="顺丰",
                      quantities={order.lines[0].id: 1})
    db.session.rollback()
    assert f.shipments(order) == 0 and f.status_of(order) == status


def test_quantities_are_checked_against_what_is_open(world, goods):
    (a, b), _ = goods
    order = f.approved_order(world, [(a, 3), (b, 1)])
    db.session.commit()
    dealer = world.users["dealer"].id
    first, second = order.lines[0].id, order.lines[1].id
    cases = [({first: 4}, f"qty_{first}"), ({first: -1}, f"qty_{first}"), ({first: 0, second: 0}, "lines"),
             ({999999: 1}, "lines")]
    for quantities, field in cases:
        with pytest.raises(DomainError) as caught:
            shipping.ship(order.seller_id, order.id, dealer, carrier="顺丰", quantities=quantities)
        assert caught.value.field == field
        db.session.rollback()
    with pytest.raises(DomainError) as caught:
        shipping.ship(order.seller_id, order.id, dealer, carrier=" ", quantities={order.lines[0].id: 1})
    assert caught.value.field == "carrier"
    db.session.rollback()
    with pytest.raises(NotFound):
        shipping.ship(world.orgs["dealer_b"].id, order.id, world.users["dealer_b"].id, carrier="顺丰",
                      quantities={order.lines[0].id: 1})
    db.session.rollback()
    assert f.shipments(order) == 0


def test_a_seller_without_stock_in_the_system_ships_without_lots(world):
    [a] = f.products(1)
    order = f.approved_order(world, [(a, 5)])  # the dealer has no warehouse: nothing reserved
    f.ship_all(world, order)
    db.session.commit()
    assert f.status_of(order) == "shipped" and db.session.scalar(select(ShipmentLot.id)) is None


# ---- pages ------------------------------------------------------------------------------------

def test_the_ship_page_offers_every_open_quantity(login_as, world, goods):
    (a, b), _ = goods
    order = f.approved_order(world, [(a, 3), (b, 2)])
    db.session.commit()
    dealer = login_as("dealer")
    for response in (dealer.get(f"/dealer/orders/{order.id}/ship"), dealer.hx_get(f"/dealer/orders/{order.id}/ship")):
        assert response.status_code == 200
        page = text(response)
        assert f'name="qty_{order.lines[0].id}"' in page and 'value="3"' in page and "确认发货" in page
    assert "<html" not in text(dealer.hx_get(f"/dealer/orders/{order.id}/ship"))
    page = text(dealer.get(f"/dealer/orders/{order.id}"))
    assert f'href="/dealer/orders/{order.id}/ship"' in page


def test_partial_shipment_by_form_then_the_rest(login_as, world, goods):
    (a, b), warehouse = goods
    order = f.approved_order(world, [(a, 3), (b, 2)])
    db.session.commit()
    dealer = login_as("dealer")
    response = dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [1, 0]))
    assert response.status_code == 303 and response.headers["Location"] == f"/dealer/orders/{order.id}"
    page = text(dealer.get(f"/dealer/orders/{order.id}"))
    assert "部分发货" in page and "顺丰速运" in page and "SF123456" in page and f"E-{a.code}" in page and "拣货中" not in page
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    response = dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [2, 2], tracking="SF2"), htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/dealer/orders/{order.id}"
    assert f.status_of(order) == "shipped" and f.shipments(order) == 2


def test_the_ship_form_refuses_bad_input_next_to_the_field(login_as, world, goods):
    (a, b), _ = goods
    order = f.approved_order(world, [(a, 3), (b, 2)])
    db.session.commit()
    dealer = login_as("dealer")
    line = order.lines[0]
    response = dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [4, 0]))
    assert response.status_code == 400
    page = text(response)
    assert f'id="qty_{line.id}-msg"' in page and "0 到 3" in page and 'aria-invalid="true"' in page

    response = dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [1, 0], carrier=""), htmx=True)
    assert response.status_code == 422 and 'id="carrier-msg"' in text(response) and "<html" not in text(response)
    response = dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [0, 0]))
    assert response.status_code == 400 and "请至少填写一行发货数量" in text(response)
    response = dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [1, 0], cancel_rest="y"))
    assert response.status_code == 400 and "取消剩余数量请填写原因" in text(response)
    assert f.shipments(order) == 0 and f.status_of(order) == "approved"


def test_shipping_a_submitted_or_moved_order_is_refused_with_409(login_as, world, goods):
    (a, _b), _ = goods
    submitted = f.builders_lifecycle.order(world.orgs["retailer"], world.orgs["dealer"], [(a, 2)])
    approved = f.approved_order(world, [(a, 2)])
    db.session.commit()
    dealer = login_as("dealer")
    response = dealer.post(f"/dealer/orders/{submitted.id}/ship", ship_form(submitted, [1], seen="submitted"))
    assert response.status_code == 409 and "不能发货" in text(response)
    response = dealer.post(f"/dealer/orders/{approved.id}/ship", ship_form(approved, [1], seen="picking"))
    assert response.status_code == 409 and "请刷新" in text(response)
    assert f.shipments(submitted) == 0 and f.shipments(approved) == 0


def test_cancel_rest_by_form_and_whole_order_cancel_refused_after_a_shipment(login_as, world, goods):
    (a, b), _ = goods
    order = f.approved_order(world, [(a, 3), (b, 2)])
    shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="顺丰", quantities={order.lines[0].id: 3})
    db.session.commit()
    dealer = login_as("dealer")
    page = text(dealer.get(f"/dealer/orders/{order.id}"))
    assert "取消订单" not in page  # goods are on the road: no whole-order cancel button
    response = dealer.post(f"/dealer/orders/{order.id}/cancel", {"note": "不要了", "seen": "partly_shipped", "confirmed": "1"})
    assert response.status_code == 409 and "不能整单取消" in text(response) and f.status_of(order) == "partly_shipped"

    response = dealer.post(f"/dealer/orders/{order.id}/cancel-rest", {"reason": "", "seen": "partly_shipped"})
    assert response.status_code == 400 and 'id="reason-msg"' in text(response)
    response = dealer.post(f"/dealer/orders/{order.id}/cancel-rest", {"reason": "", "seen": "partly_shipped"}, htmx=True)
    assert response.status_code == 422 and "<html" not in text(response)
    response = dealer.post(f"/dealer/orders/{order.id}/cancel-rest", {"reason": "停产", "seen": "partly_shipped", "confirmed": "1"})
    assert response.status_code == 303 and f.status_of(order) == "shipped"
    assert "剩余数量已取消" in text(dealer.get(f"/dealer/orders/{order.id}"))


def test_another_dealers_order_cannot_be_shipped(login_as, world, goods):
    (a, _b), _ = goods
    order = f.approved_order(world, [(a, 2)])
    db.session.commit()
    other = login_as("dealer_b")
    assert other.get(f"/dealer/orders/{order.id}/ship").status_code == 404
    assert other.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [1])).status_code == 404
    assert other.post(f"/dealer/orders/{order.id}/cancel-rest", {"reason": "x", "confirmed": "1"}).status_code == 404
    assert login_as("retailer").post(f"/dealer/orders/{order.id}/ship", ship_form(order, [1])).status_code == 403
    assert f.shipments(order) == 0


def test_after_shipping_the_invoice_and_delivery_note_are_ready_for_both_parties(login_as, world, goods):
    (a, _b), _ = goods
    order = f.approved_order(world, [(a, 2)])
    db.session.commit()
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/orders/{order.id}/ship", ship_form(order, [2])).status_code == 303
    f.builders_documents.run_queued_jobs(dealer.app)
    ready = {d.kind: d for d in db.session.scalars(select(Document).where(Document.order_id == order.id))}
    assert set(ready) == {"invoice", "delivery_note"} and all(d.status == "ready" for d in ready.values())
    page = text(dealer.get(f"/dealer/orders/{order.id}"))
    assert f'/documents/{ready["invoice"].id}' in page
    assert login_as("retailer").get(f'/documents/{ready["delivery_note"].id}').status_code == 200
    assert db.session.scalar(select(Shipment.shipped_by_id)) == world.users["dealer"].id


def test_a_partly_shipped_order_reads_partly_shipped_in_every_list_and_notice(login_as, world, goods):
    (a, b), _ = goods
    order = f.approved_order(world, [(a, 3), (b, 2)])
    shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier="顺丰", quantities={order.lines[0].id: 3})
    db.session.commit()
    notice = db.session.scalars(select(Notification).where(Notification.kind == "order_status")
                                .order_by(Notification.id.desc())).first()
    assert "部分发货" in shown(notice).title and "拣货" not in shown(notice).title

    retailer = login_as("retailer")
    for url in ("/retailer/orders", f"/retailer/orders/{order.id}", "/retailer/orders?status=partly_shipped"):
        page = text(retailer.get(url))
        assert '<span class="status partly_shipped">部分发货</span>' in page and 'status picking' not in page, url
    dealer = login_as("dealer")
    for url in ("/dealer/orders?status=partly_shipped", f"/dealer/orders/{order.id}"):
        page = text(dealer.get(url))
        assert '<span class="status partly_shipped">部分发货</span>' in page and order.number in page, url


def test_the_shipping_form_starts_with_the_dealers_usual_carrier(login_as, world, goods):
    (a, b), _warehouse = goods
    dealer = login_as("dealer")
    first = f.approved_order(world, [(a, 1)])
    db.session.commit()
    assert re.search(r'<input[^>]*name="carrier"[^>]*value=""', text(dealer.get(f"/dealer/orders/{first.id}/ship")))
    for carrier in ("自有车辆", "顺丰速运", "自有车辆"):
        order = f.approved_order(world, [(a, 1)])
        shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier=carrier, tracking_no="",
                      quantities={order.lines[0].id: 1})
    other = f.approved_order(world, [(b, 1)])
    db.session.commit()
    assert shipping.usual_carrier(world.orgs["dealer"].id) == "自有车辆"
    assert shipping.usual_carrier(world.orgs["dealer_b"].id) == ""
    assert 'value="自有车辆"' in text(dealer.get(f"/dealer/orders/{other.id}/ship"))
