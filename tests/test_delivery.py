"""Delivery sign-off: the retailer confirms in its portal, or the dealer enters the delivery code
the driver was given; a wrong code is refused, counted and, at the limit, locks sign-off by
code; short and damaged quantities become credit notes against the invoice."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Invoice
from app.models.fulfilment import DeliveryCode, DeliveryDiscrepancy, DeliverySignOff
from app.services.fulfilment import delivery
from app.services.core.errors import DomainError, NotFound
from app.services.ordering.lifecycle import TransitionRefused
from tests import builders_fulfilment as f


@pytest.fixture
def shipped(world):
    """An order of two products (30 and 5), approved with stock and shipped in full."""
    items = f.products(2)
    f.stocked_dealer(world, items)
    order = f.approved_order(world, [(items[0], 30), (items[1], 5)])
    f.ship_all(world, order)
    db.session.commit()
    return order


def text(response):
    return response.get_data(as_text=True)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def code_form(order, code, **extra):
    return {"code": code, "seen": "shipped", **extra}


def invoice_of(order):
    query = select(Invoice).where(Invoice.order_id == order.id)
    return db.session.scalar(query.execution_options(populate_existing=True))


# ---- the code -------------------------------------------------------------------------------------

def test_the_code_is_six_digits_stable_per_order_and_never_stored(world, shipped):
    code = delivery.code_for(shipped.id)
    assert re.fullmatch(r"\d{6}", code) and delivery.code_for(shipped.id) == code
    row = db.session.get(DeliveryCode, shipped.id)
    assert row.salt and code not in row.salt and row.failed_attempts == 0
    other = f.approved_order(world, [(shipped.lines[0].product, 1)])
    f.ship_all(world, other)
    assert delivery.code_for(other.id) != code  # (a 1-in-a-million clash would make this flaky; salts differ)


def test_the_right_code_signs_the_order_off(world, shipped):
    sign_off = delivery.sign_off_with_code(shipped.seller_id, shipped.id, world.users["dealer"].id,
                                           delivery.code_for(shipped.id), {})
    db.session.commit()
    assert f.status_of(shipped) == "delivered" and sign_off.method == "code" and not sign_off.discrepancies
    assert f.credit_notes(shipped) == []


def test_a_wrong_code_is_refused_counted_and_locks_at_the_limit(world, shipped):
    dealer = world.users["dealer"].id
    bad = wrong(delivery.code_for(shipped.id))
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        with pytest.raises(delivery.WrongDeliveryCode) as caught:
            delivery.sign_off_with_code(shipped.seller_id, shipped.id, dealer, bad, {})
        db.session.commit()  # what the view does: the attempt counts
        assert caught.value.field == "code"
        state = delivery.code_state(shipped.id)
        assert state.failed_attempts == attempt and state.locked == (attempt == delivery.MAX_ATTEMPTS)
    assert "已锁定" in caught.value.message
    with pytest.raises(delivery.SignOffLocked):  # even the right code, once locked
        delivery.sign_off_with_code(shipped.seller_id, shipped.id, dealer, delivery.code_for(shipped.id), {})
    db.session.rollback()
    assert f.status_of(shipped) == "shipped"
    assert delivery.code_state(shipped.id).failed_attempts == delivery.MAX_ATTEMPTS
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delivery.code_failed")).all()
    assert len(audits) == delivery.MAX_ATTEMPTS
    # the retailer can still confirm in its portal
    delivery.confirm_receipt(shipped.buyer_id, shipped.id, world.users["retailer"].id, {})
    db.session.commit()
    assert f.status_of(shipped) == "delivered"


def test_a_malformed_code_is_refused_without_counting(world, shipped):
    for code in ("12345", "abcdef", "1234567"):
        with pytest.raises(DomainError) as caught:
            delivery.sign_off_with_code(shipped.seller_id, shipped.id, world.users["dealer"].id, code, {})
        assert not isinstance(caught.value, delivery.WrongDeliveryCode) and caught.value.field == "code"
        db.session.rollback()
    assert delivery.code_state(shipped.id).failed_attempts == 0


# ---- discrepancies ----------------------------------------------------------------------------------

def test_a_short_delivery_produces_a_credit_note_against_the_invoice(world, shipped):
    a, b = shipped.lines
    delivery.confirm_receipt(shipped.buyer_id, shipped.id, world.users["retailer"].id,
                             {(a.id, "short"): 3, (b.id, "damaged"): 1}, note="司机说少装了")
    db.session.commit()
    assert f.status_of(shipped) == "delivered"
    short_value = a.unit_price_fen * 3
    damaged_value = b.unit_price_fen * 1
    notes = {n.reason: n for n in f.credit_notes(shipped)}
    assert set(notes) == {"short_delivery", "damaged"}
    assert notes["short_delivery"].amount_fen == short_value and notes["damaged"].amount_fen == damaged_value
    assert notes["short_delivery"].source_ref.startswith("delivery:")
    invoice = invoice_of(shipped)
    assert invoice.paid_fen == short_value + damaged_value and invoice.total_fen == shipped.total_fen
    found = {(d.order_line_id, d.kind, d.qty, d.credit_note_id)
             for d in db.session.scalars(select(DeliveryDiscrepancy))}
    assert found == {(a.id, "short", 3, notes["short_delivery"].id), (b.id, "damaged", 1, notes["damaged"].id)}


def test_more_short_and_damaged_than_shipped_is_refused(world, shipped):
    a = shipped.lines[0]
    with pytest.raises(DomainError) as caught:
        delivery.confirm_receipt(shipped.buyer_id, shipped.id, world.users["retailer"].id,
                                 {(a.id, "short"): 20, (a.id, "damaged"): 11})
    assert caught.value.field == f"damaged_{a.id}"
    db.session.rollback()
    assert f.status_of(shipped) == "shipped" and db.session.scalar(select(DeliverySignOff.id)) is None


@pytest.mark.parametrize("status", ["submitted", "approved", "picking", "delivered", "completed", "cancelled"])
def test_only_a_shipped_order_can_be_signed(world, status):
    [a] = f.products(1)
    order = f.builders_lifecycle.order(world.orgs["retailer"], world.orgs["dealer"], [(a, 2)], status=status)
    db.session.commit()
    with pytest.raises(TransitionRefused):
        delivery.confirm_receipt(order.buyer_id, order.id, world.users["retailer"].id, {})
    db.session.rollback()
    with pytest.raises(TransitionRefused):
        delivery.sign_off_with_code(order.seller_id, order.id, world.users["dealer"].id, "000000", {})
    db.session.rollback()
    assert f.status_of(order) == status and delivery.code_state(order.id).failed_attempts == 0


def test_nobody_signs_for_another_partys_order(world, shipped):
    with pytest.raises(NotFound):
        delivery.confirm_receipt(world.orgs["retailer_b"].id, shipped.id, world.users["retailer_b"].id, {})
    with pytest.raises(NotFound):
        delivery.sign_off_with_code(world.orgs["dealer_b"].id, shipped.id, world.users["dealer_b"].id,
                                    delivery.code_for(shipped.id), {})


# ---- pages ---------------------------------------------------------------------------------------------

def test_the_retailer_sees_the_code_and_the_dealer_never_does(login_as, world, shipped):
    code = delivery.code_for(shipped.id)
    shop = login_as("retailer")
    page = text(shop.get(f"/retailer/orders/{shipped.id}"))
    assert f'/retailer/orders/{shipped.id}/delivery' in page
    page = text(shop.get(f"/retailer/orders/{shipped.id}/delivery"))
    assert code in page and "顺丰" in page and "SF100" in page and "确认收货" in page
    dealer = login_as("dealer")
    for url in (f"/dealer/orders/{shipped.id}", f"/dealer/orders/{shipped.id}/sign-off"):
        assert code not in text(dealer.get(url))


def test_the_retailer_confirms_receipt_with_a_short_line(login_as, world, shipped):
    a, b = shipped.lines
    shop = login_as("retailer")
    shop.get(f"/retailer/orders/{shipped.id}/delivery")
    response = shop.post(f"/retailer/orders/{shipped.id}/delivery", {f"short_{a.id}": "2", "seen": "shipped"})
    assert response.status_code == 303 and response.headers["Location"] == f"/retailer/orders/{shipped.id}/delivery"
    assert f.status_of(shipped) == "delivered"
    page = text(shop.get(f"/retailer/orders/{shipped.id}/delivery"))
    assert "短少 2" in page and "已签收" in page and delivery.code_for(shipped.id) not in page
    [note] = f.credit_notes(shipped)
    assert note.reason == "short_delivery" and note.amount_fen == 2 * a.unit_price_fen


def test_the_receipt_form_refuses_bad_quantities_next_to_the_field(login_as, world, shipped):
    a, _b = shipped.lines
    shop = login_as("retailer")
    response = shop.post(f"/retailer/orders/{shipped.id}/delivery", {f"short_{a.id}": "31", "seen": "shipped"})
    assert response.status_code == 400 and f'id="short_{a.id}-msg"' in text(response)
    response = shop.post(f"/retailer/orders/{shipped.id}/delivery", {f"short_{a.id}": "abc", "seen": "shipped"},
                         htmx=True)
    assert response.status_code == 422 and "请输入整数" in text(response) and "<html" not in text(response)
    assert f.status_of(shipped) == "shipped" and f.credit_notes(shipped) == []


def test_sign_off_by_code_on_the_dealer_page_wrong_then_right(login_as, world, shipped):
    dealer = login_as("dealer")
    code = delivery.code_for(shipped.id)
    for response in (dealer.get(f"/dealer/orders/{shipped.id}/sign-off"),
                     dealer.hx_get(f"/dealer/orders/{shipped.id}/sign-off")):
        assert response.status_code == 200 and 'name="code"' in text(response)
    response = dealer.post(f"/dealer/orders/{shipped.id}/sign-off", code_form(shipped, wrong(code)))
    page = text(response)
    assert response.status_code == 400 and "收货码错误，还可以再试 4 次" in page and 'id="code-msg"' in page
    assert page.count("还可以再试") == 1  # the message once, next to the field
    assert wrong(code) not in page  # the typed code is not echoed
    assert delivery.code_state(shipped.id).failed_attempts == 1 and f.status_of(shipped) == "shipped"
    response = dealer.post(f"/dealer/orders/{shipped.id}/sign-off", code_form(shipped, wrong(code)), htmx=True)
    assert response.status_code == 422 and "还可以再试 3 次" in text(response) and "<html" not in text(response)

    a = shipped.lines[0]
    response = dealer.post(f"/dealer/orders/{shipped.id}/sign-off",
                           code_form(shipped, code, **{f"damaged_{a.id}": "1"}))
    assert response.status_code == 303 and response.headers["Location"] == f"/dealer/orders/{shipped.id}"
    assert f.status_of(shipped) == "delivered" and f.credit_notes(shipped)[0].reason == "damaged"
    assert "收货码签收" in text(dealer.get(f"/dealer/orders/{shipped.id}"))


def test_the_dealer_page_locks_after_too_many_wrong_codes(login_as, world, shipped):
    dealer = login_as("dealer")
    bad = wrong(delivery.code_for(shipped.id))
    for _ in range(delivery.MAX_ATTEMPTS):
        response = dealer.post(f"/dealer/orders/{shipped.id}/sign-off", code_form(shipped, bad))
        assert response.status_code == 400
    assert "已锁定" in text(response) and 'name="code"' not in text(response)
    assert text(response).count("已锁定") == 1  # the refusal that locked it, once
    response = dealer.post(f"/dealer/orders/{shipped.id}/sign-off", code_form(shipped, delivery.code_for(shipped.id)))
    assert response.status_code == 400 and "已锁定" in text(response) and f.status_of(shipped) == "shipped"
    assert "已锁定" in text(dealer.get(f"/dealer/orders/{shipped.id}"))


def test_sign_off_pages_refuse_other_parties_and_wrong_status(login_as, world, shipped):
    code = delivery.code_for(shipped.id)
    other_dealer = login_as("dealer_b")
    assert other_dealer.post(f"/dealer/orders/{shipped.id}/sign-off", code_form(shipped, code)).status_code == 404
    assert other_dealer.get(f"/dealer/orders/{shipped.id}/sign-off").status_code == 404
    other_shop = login_as("retailer_b")
    assert other_shop.get(f"/retailer/orders/{shipped.id}/delivery").status_code == 404
    assert other_shop.post(f"/retailer/orders/{shipped.id}/delivery", {"seen": "shipped"}).status_code == 404
    assert f.status_of(shipped) == "shipped" and delivery.code_state(shipped.id).failed_attempts == 0

    shop = login_as("retailer")
    assert shop.post(f"/retailer/orders/{shipped.id}/delivery", {"seen": "shipped"}).status_code == 303
    response = shop.post(f"/retailer/orders/{shipped.id}/delivery", {"seen": "shipped"})
    assert response.status_code == 409 and "请刷新" in text(response)
    response = login_as("dealer").post(f"/dealer/orders/{shipped.id}/sign-off", code_form(shipped, code))
    assert response.status_code == 409 and db.session.scalar(select(DeliverySignOff.method)) == "portal"
