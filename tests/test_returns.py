"""Returns: the retailer asks (reason, quantities up to what was delivered and not yet returned);
the dealer accepts (stock back into the shipped lot, or written off; a credit note) or refuses
with a reason; a decision is taken once; nobody reaches another party's return."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, StockMovement
from app.models.fulfilment import ReturnRequest
from app.services.fulfilment import delivery
from app.services.fulfilment import returns
from app.services.core.errors import DomainError, NotFound
from app.services.ordering.lifecycle import TransitionRefused
from tests import builders_fulfilment as f
from tests.builders_lifecycle import shown


@pytest.fixture
def setup(world):
    items = f.products(2)
    warehouse = f.stocked_dealer(world, items)
    order = f.delivered_order(world, [(items[0], 10), (items[1], 4)])
    db.session.commit()
    return order, warehouse, items


def text(response):
    return response.get_data(as_text=True)


def returns_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ReturnRequest))


def ask(world, order, quantities, reason="临期，卖不动"):
    return returns.request_return(order.buyer_id, order.id, world.users["retailer"].id, reason, quantities)


def test_the_retailer_asks_and_the_dealer_is_told(world, setup):
    order, _, _ = setup
    a, b = order.lines
    request = ask(world, order, {a.id: 3, b.id: 0})
    db.session.commit()
    assert request.number.startswith("RT") and request.status == "requested"
    assert request.amount_fen == 3 * a.unit_price_fen
    assert [(line.order_line_id, line.qty) for line in request.lines] == [(a.id, 3)]
    [notice] = db.session.scalars(select(Notification).where(Notification.kind == "return_requested")).all()
    assert notice.user_id == world.users["dealer"].id and shown(notice).link == f"/dealer/returns/{request.id}"


def test_quantities_are_limited_to_delivered_minus_returned(world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    order = f.delivered_order(world, [(items[0], 10)], discrepancies=None)
    db.session.commit()
    line = order.lines[0]
    ask(world, order, {line.id: 6})
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        ask(world, order, {line.id: 5})  # 6 already asked for: 4 left
    assert caught.value.field == f"qty_{line.id}" and "最多可退 4" in caught.value.message
    db.session.rollback()
    for quantities, field in (({line.id: 0}, "lines"), ({line.id: -1}, f"qty_{line.id}"), ({123456: 1}, "lines")):
        with pytest.raises(DomainError) as caught:
            ask(world, order, quantities)
        assert caught.value.field == field
        db.session.rollback()
    with pytest.raises(DomainError) as caught:
        ask(world, order, {line.id: 1}, reason=" ")
    assert caught.value.field == "reason"
    db.session.rollback()
    assert returns_count() == 1


def test_short_and_damaged_quantities_are_not_returnable(world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    order = f.approved_order(world, [(items[0], 10)])
    f.ship_all(world, order)
    line = order.lines[0]
    delivery.confirm_receipt(order.buyer_id, order.id, world.users["retailer"].id, {(line.id, "short"): 2,
                                                                                     (line.id, "damaged"): 1})
    db.session.commit()
    with pytest.raises(DomainError, match="最多可退 7"):
        ask(world, order, {line.id: 8})


@pytest.mark.parametrize("status", ["submitted", "approved", "picking", "shipped", "cancelled"])
def test_a_return_needs_a_delivered_order(world, status):
    [a] = f.products(1)
    order = f.builders_lifecycle.order(world.orgs["retailer"], world.orgs["dealer"], [(a, 2)], status=status)
    db.session.commit()
    with pytest.raises(TransitionRefused):
        ask(world, order, {order.lines[0].id: 1})


def test_accepting_restocks_the_shipped_lot_and_credits_the_buyer(world, setup):
    order, warehouse, (a_product, _) = setup
    a = order.lines[0]
    request = ask(world, order, {a.id: 4})
    db.session.commit()
    on_hand_before = f.balance(warehouse, a_product)[0]
    done = returns.accept_return(order.seller_id, request.id, world.users["dealer"].id, "restock", "已收到")
    db.session.commit()
    assert done.status == "accepted" and done.disposition == "restock"
    assert f.balance(warehouse, a_product)[0] == on_hand_before + 4
    assert f.lot_on_hand(warehouse, f"E-{a_product.code}") == 50 - 10 + 4  # back into the lot it left from
    assert f.movements("return", f"order:{order.id}") == 1
    [note] = f.credit_notes(order)
    assert note.reason == "return" and note.amount_fen == 4 * a.unit_price_fen and done.credit_note_id == note.id
    [notice] = db.session.scalars(select(Notification).where(Notification.kind == "return_decided")).all()
    assert notice.user_id == world.users["retailer"].id and "已接受" in shown(notice).title


def test_a_written_off_return_comes_back_and_goes_out_again(world, setup):
    order, warehouse, (a_product, _) = setup
    request = ask(world, order, {order.lines[0].id: 2}, reason="包装破损")
    db.session.commit()
    before = f.balance(warehouse, a_product)
    returns.accept_return(order.seller_id, request.id, world.users["dealer"].id, "write_off")
    db.session.commit()
    assert f.balance(warehouse, a_product) == before  # nothing sellable came back
    adjustments = db.session.scalars(select(StockMovement).where(StockMovement.kind == "adjust")).all()
    assert [m.on_hand_delta for m in adjustments] == [-2] and "报废" in str(adjustments[0].reason_message)
    assert f.credit_notes(order)[0].amount_fen == 2 * order.lines[0].unit_price_fen


def test_refusing_needs_a_reason_and_frees_the_quantities(world, setup):
    order, warehouse, (a_product, _) = setup
    a = order.lines[0]
    request = ask(world, order, {a.id: 10})
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        returns.refuse_return(order.seller_id, request.id, world.users["dealer"].id, "")
    assert caught.value.field == "note"
    db.session.rollback()
    before = f.balance(warehouse, a_product)
    done = returns.refuse_return(order.seller_id, request.id, world.users["dealer"].id, "超过退货期限")
    db.session.commit()
    assert done.status == "refused" and done.decision_note == "超过退货期限"
    assert f.balance(warehouse, a_product) == before and f.credit_notes(order) == []
    assert ask(world, order, {a.id: 10}).status == "requested"  # a refused return frees its quantities


def test_a_return_is_decided_once(world, setup):
    order, _, _ = setup
    request = ask(world, order, {order.lines[1].id: 1})
    db.session.commit()
    returns.refuse_return(order.seller_id, request.id, world.users["dealer"].id, "不行")
    db.session.commit()
    with pytest.raises(TransitionRefused):
        returns.accept_return(order.seller_id, request.id, world.users["dealer"].id, "restock")
    db.session.rollback()
    with pytest.raises(DomainError) as caught:
        returns.accept_return(order.seller_id, request.id, world.users["dealer"].id, "give-away")
    assert caught.value.field == "disposition"
    db.session.rollback()
    assert f.credit_notes(order) == []


def test_nobody_reaches_another_partys_return(world, setup):
    order, _, _ = setup
    request = ask(world, order, {order.lines[0].id: 1})
    db.session.commit()
    with pytest.raises(NotFound):
        returns.accept_return(world.orgs["dealer_b"].id, request.id, world.users["dealer_b"].id, "restock")
    with pytest.raises(NotFound):
        returns.request_return(world.orgs["retailer_b"].id, order.id, world.users["retailer_b"].id, "x",
                               {order.lines[0].id: 1})


# ---- pages -------------------------------------------------------------------------------------------

def test_the_retailer_asks_for_a_return_on_its_pages(login_as, world, setup):
    order, _, _ = setup
    a, b = order.lines
    shop = login_as("retailer")
    assert f"/retailer/orders/{order.id}/return" in text(shop.get(f"/retailer/orders/{order.id}"))
    url = f"/retailer/orders/{order.id}/return"
    for response in (shop.get(url), shop.hx_get(url)):
        assert response.status_code == 200 and f'name="qty_{a.id}"' in text(response) and "可退 10" in text(response)
    response = shop.post(f"/retailer/orders/{order.id}/return", {f"qty_{a.id}": "11", "reason": "临期"})
    assert response.status_code == 400 and f'id="qty_{a.id}-msg"' in text(response)
    response = shop.post(f"/retailer/orders/{order.id}/return", {f"qty_{a.id}": "1", "reason": ""}, htmx=True)
    assert response.status_code == 422 and 'id="reason-msg"' in text(response) and "<html" not in text(response)
    assert returns_count() == 0
    response = shop.post(url, {f"qty_{a.id}": "2", f"qty_{b.id}": "1", "reason": "临期"})
    assert response.status_code == 303 and response.headers["Location"] == "/retailer/returns"
    page = text(shop.get("/retailer/returns"))
    assert "RT" in page and "待处理" in page and order.number in page
    assert "<html" not in text(shop.hx_get("/retailer/returns?status=requested"))


def test_the_dealer_accepts_and_refuses_on_its_pages(login_as, world, setup):
    order, _, _ = setup
    first = ask(world, order, {order.lines[0].id: 1})
    second = ask(world, order, {order.lines[1].id: 1}, reason="口味不对")
    db.session.commit()
    dealer = login_as("dealer")
    page = text(dealer.get("/dealer/returns"))
    assert first.number in page and second.number in page and "待处理" in page
    assert "<html" not in text(dealer.hx_get("/dealer/returns?status=requested"))
    page = text(dealer.get(f"/dealer/returns/{first.id}"))
    assert "临期，卖不动" in page and "接受退货" in page and "拒绝退货" in page
    assert first.number in text(dealer.get(f"/dealer/orders/{order.id}"))

    response = dealer.post(f"/dealer/returns/{first.id}/accept", {"disposition": "restock", "note": "收到"})
    assert response.status_code == 303 and response.headers["Location"] == f"/dealer/returns/{first.id}"
    assert "已接受" in text(dealer.get(f"/dealer/returns/{first.id}"))
    response = dealer.post(f"/dealer/returns/{first.id}/refuse", {"note": "改主意", "confirmed": "1"})
    assert response.status_code == 409 and "已处理过" in text(response)

    response = dealer.post(f"/dealer/returns/{second.id}/refuse", {"note": ""})
    assert response.status_code == 400 and 'id="note-msg"' in text(response)
    response = dealer.post(f"/dealer/returns/{second.id}/refuse", {"note": ""}, htmx=True)
    assert response.status_code == 422 and "<html" not in text(response)
    response = dealer.post(f"/dealer/returns/{second.id}/accept", {"disposition": "bogus"})
    assert response.status_code == 400
    response = dealer.post(f"/dealer/returns/{second.id}/refuse", {"note": "口味属个人偏好", "confirmed": "1"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/dealer/returns/{second.id}"
    db.session.expire_all()
    assert {r.number: r.status for r in db.session.scalars(select(ReturnRequest))} == {
        first.number: "accepted", second.number: "refused"}
    shop_page = text(login_as("retailer").get("/retailer/returns"))
    assert "口味属个人偏好" in shop_page and "已拒绝" in shop_page


def test_return_pages_refuse_other_parties(login_as, world, setup):
    order, _, _ = setup
    request = ask(world, order, {order.lines[0].id: 1})
    db.session.commit()
    other = login_as("dealer_b")
    assert other.get(f"/dealer/returns/{request.id}").status_code == 404
    assert other.post(f"/dealer/returns/{request.id}/accept", {"disposition": "restock"}).status_code == 404
    assert other.post(f"/dealer/returns/{request.id}/refuse", {"note": "x", "confirmed": "1"}).status_code == 404
    assert request.number not in text(other.get("/dealer/returns"))
    other_shop = login_as("retailer_b")
    assert other_shop.get(f"/retailer/orders/{order.id}/return").status_code == 404
    assert other_shop.post(f"/retailer/orders/{order.id}/return",
                           {f"qty_{order.lines[0].id}": "1", "reason": "x"}).status_code == 404
    assert request.number not in text(other_shop.get("/retailer/returns"))
    db.session.expire_all()
    assert db.session.get(ReturnRequest, request.id).status == "requested"
