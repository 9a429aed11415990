"""The brand's order desk fulfils the orders the brand sells: ships a dealer's replenishment order
in parts (then the rest, or cancelling the rest), signs it off with the delivery code (a wrong
code is refused and counted), decides a return; the order page links to these pages when the
status allows; another seller's order or return is not found; the "orders" permission is needed."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.models.fulfilment import ReturnRequest
from app.services.fulfilment import delivery
from app.services.ordering import lifecycle
from app.services.fulfilment import returns
from tests import builders_fulfilment as f
from tests import builders_lifecycle


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def goods(world):
    items = f.products(2)
    f.warehouse_with_lots(world.brand, world.regions["hz"], {p: [(f"B-{p.code}", 100, 200)] for p in items})
    return items


def brand_order(world, goods, status="approved") -> Order:
    """A dealer's replenishment order to the brand, approved by the brand's desk."""
    order = builders_lifecycle.order(world.orgs["dealer"], world.brand, [(goods[0], 10), (goods[1], 4)])
    if status == "approved":
        lifecycle.transition(order.id, status, world.users["admin"].id)
    db.session.commit()
    return order


def ship_data(order, quantities, **extra):
    data = {"carrier": "品牌物流", "tracking_no": "BR-1", "seen": order.status}
    data.update({f"qty_{line.id}": qty for line, qty in zip(order.lines, quantities)})
    data.update(extra)
    return data


def status_of(order) -> str:
    db.session.expire_all()
    return f.status_of(order)


def test_the_brand_ships_in_parts_then_the_rest(login_as, world, goods):
    order = brand_order(world, goods)
    desk = login_as("admin")
    page = text(desk.get(f"/admin/orders/{order.id}"))
    assert f'/admin/orders/{order.id}/ship' in page and "/sign-off" not in page
    form = desk.get(f"/admin/orders/{order.id}/ship")
    assert form.status_code == 200 and 'name="qty_' in text(form) and "role-admin" in text(form)

    first = desk.post(f"/admin/orders/{order.id}/ship", ship_data(order, [6, 0]))
    assert first.status_code == 303 and first.headers["Location"].endswith(f"/admin/orders/{order.id}")
    assert status_of(order) == "partly_shipped" and f.shipments(order) == 1
    page = text(desk.get(f"/admin/orders/{order.id}"))
    assert "部分发货" in page and "品牌物流" in page and f'/admin/orders/{order.id}/ship' in page

    rest = desk.post(f"/admin/orders/{order.id}/ship", ship_data(order, [4, 4], seen="partly_shipped"), htmx=True)
    assert rest.status_code in (200, 204) and rest.headers["HX-Redirect"].endswith(f"/admin/orders/{order.id}")
    assert status_of(order) == "shipped" and f.shipments(order) == 2
    page = text(desk.get(f"/admin/orders/{order.id}"))
    assert f'/admin/orders/{order.id}/sign-off' in page and f'/admin/orders/{order.id}/ship"' not in page


def test_bad_shipments_are_refused_next_to_the_field_and_nothing_is_saved(login_as, world, goods):
    order = brand_order(world, goods)
    desk = login_as("admin")
    line = order.lines[0]
    response = desk.post(f"/admin/orders/{order.id}/ship", ship_data(order, [11, 0]))
    page = text(response)
    assert response.status_code == 400 and "<html" in page and "role-admin" in page
    assert f'id="qty_{line.id}-msg"' in page and "0 到 10" in page
    response = desk.post(f"/admin/orders/{order.id}/ship", ship_data(order, [1, 0], carrier=""), htmx=True)
    assert response.status_code == 422 and "<html" not in text(response) and 'id="carrier-msg"' in text(response)
    assert f.shipments(order) == 0 and status_of(order) == "approved"


def test_the_brand_cancels_the_rest_after_a_partial_shipment(login_as, world, goods):
    order = brand_order(world, goods)
    desk = login_as("admin")
    desk.post(f"/admin/orders/{order.id}/ship", ship_data(order, [6, 0]))
    refused = desk.post(f"/admin/orders/{order.id}/cancel-rest", {"reason": "", "seen": "partly_shipped"})
    assert refused.status_code == 400 and status_of(order) == "partly_shipped"
    done = desk.post(f"/admin/orders/{order.id}/cancel-rest", {"reason": "停产", "seen": "partly_shipped", "confirmed": "1"})
    assert done.status_code == 303 and status_of(order) == "shipped"
    assert "剩余数量已取消" in text(desk.get(f"/admin/orders/{order.id}"))


def test_the_brand_signs_off_with_the_delivery_code(login_as, world, goods):
    order = brand_order(world, goods)
    f.ship_all(world, order)
    db.session.commit()
    desk = login_as("admin")
    page = desk.get(f"/admin/orders/{order.id}/sign-off")
    assert page.status_code == 200 and 'name="code"' in text(page)
    wrong = "000000" if delivery.code_for(order.id) != "000000" else "111111"
    refused = desk.post(f"/admin/orders/{order.id}/sign-off", {"code": wrong, "seen": "shipped"})
    assert refused.status_code == 400 and "收货码错误" in text(refused) and f'value="{wrong}"' not in text(refused)
    assert status_of(order) == "shipped" and delivery.code_state(order.id).failed_attempts == 1
    signed = desk.post(f"/admin/orders/{order.id}/sign-off",
                       {"code": delivery.code_for(order.id), "seen": "shipped"})
    assert signed.status_code == 303 and status_of(order) == "delivered"
    assert "收货码签收" in text(desk.get(f"/admin/orders/{order.id}"))


def test_the_brand_accepts_and_refuses_returns(login_as, world, goods):
    order = brand_order(world, goods)
    f.ship_all(world, order)
    delivery.confirm_receipt(order.buyer_id, order.id, world.users["dealer"].id, {})
    a, b = order.lines
    first = returns.request_return(order.buyer_id, order.id, world.users["dealer"].id, "临期", {a.id: 2})
    second = returns.request_return(order.buyer_id, order.id, world.users["dealer"].id, "多订了", {b.id: 1})
    db.session.commit()
    desk = login_as("admin")
    page = text(desk.get(f"/admin/orders/{order.id}"))
    assert f"/admin/returns/{first.id}" in page and first.number in page
    detail = desk.get(f"/admin/returns/{first.id}")
    assert detail.status_code == 200 and "临期" in text(detail) and f"/admin/orders/{order.id}" in text(detail)

    missing = desk.post(f"/admin/returns/{first.id}/accept", {"note": "好"}, htmx=True)
    assert missing.status_code == 422 and 'id="return-decision"' in text(missing) and "<html" not in text(missing)
    accepted = desk.post(f"/admin/returns/{first.id}/accept", {"disposition": "restock", "note": "已收"})
    assert accepted.status_code == 303 and accepted.headers["Location"].endswith(f"/admin/returns/{first.id}")
    refused = desk.post(f"/admin/returns/{second.id}/refuse", {"note": "不符合退货条件", "confirmed": "1"})
    assert refused.status_code == 303
    db.session.expire_all()
    assert db.session.get(ReturnRequest, first.id).status == "accepted"
    assert db.session.get(ReturnRequest, first.id).credit_note_id is not None
    assert db.session.get(ReturnRequest, second.id).status == "refused"
    again = desk.post(f"/admin/returns/{first.id}/refuse", {"note": "改主意", "confirmed": "1"})
    assert again.status_code == 409 and db.session.get(ReturnRequest, first.id).status == "accepted"


def test_an_admin_without_the_orders_permission_is_refused(login_as, world, goods):
    order = brand_order(world, goods)
    clerk = login_as("admin_b")
    assert clerk.get(f"/admin/orders/{order.id}/ship").status_code == 403
    assert clerk.post(f"/admin/orders/{order.id}/ship", ship_data(order, [1, 1])).status_code == 403
    assert clerk.get(f"/admin/orders/{order.id}/sign-off").status_code == 403
    assert f.shipments(order) == 0


def test_a_dealer_sold_order_and_its_return_are_not_found(login_as, world, goods):
    items = f.products(1)
    f.stocked_dealer(world, items)
    sold_by_dealer = f.approved_order(world, [(items[0], 2)])
    delivered = f.delivered_order(world, [(items[0], 2)])
    ret = returns.request_return(delivered.buyer_id, delivered.id, world.users["retailer"].id, "坏了",
                                 {delivered.lines[0].id: 1})
    db.session.commit()
    desk = login_as("admin")
    assert desk.get(f"/admin/orders/{sold_by_dealer.id}/ship").status_code == 404
    assert desk.post(f"/admin/orders/{sold_by_dealer.id}/ship",
                     ship_data(sold_by_dealer, [1])).status_code == 404
    assert desk.post(f"/admin/orders/{sold_by_dealer.id}/cancel-rest", {"reason": "x", "confirmed": "1"}).status_code == 404
    assert desk.get(f"/admin/orders/{delivered.id}/sign-off").status_code == 404
    assert desk.get(f"/admin/returns/{ret.id}").status_code == 404
    assert desk.post(f"/admin/returns/{ret.id}/accept", {"disposition": "restock"}).status_code == 404
    assert f.shipments(sold_by_dealer) == 0
    assert db.session.scalar(select(ReturnRequest.status).where(ReturnRequest.id == ret.id)) == "requested"
