"""Signing for the brand's delivery puts the goods into the dealer's warehouse: the quantities that
arrived (short and damaged left out), in the batches and with the expiry dates the brand shipped,
on the stock page and the stock ledger, once however often or however concurrently it is signed.
A retailer signing for its dealer's delivery books nothing (retailers keep no stock here)."""
import traceback

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Product, StockAlert, StockLot, StockMovement, Warehouse
from app.models.fulfilment import Shipment
from app.services.core.errors import DomainError
from app.services.fulfilment import delivery
from app.services.inventory import rules
from app.services.inventory.alerts import scan_stock_alerts
from tests import builders_fulfilment as f
from tests import builders_stock
from tests.builders_stock import days
from tests.forked import run_forked


def text(response):
    return response.get_data(as_text=True)


def receipts() -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.kind == "receipt"))


def lots_of(warehouse) -> dict[str, tuple[int, object]]:
    return {lot.batch_no: (lot.on_hand, lot.expiry_date) for lot in db.session.scalars(
        select(StockLot).where(StockLot.warehouse_id == warehouse.id).execution_options(populate_existing=True))}


@pytest.fixture
def setup(world):
    """The brand's DC with two lots of the first product (first expiry first out takes EARLY
    first) and one of the second; the dealer's empty default warehouse; a replenishment order of
    12 + 3 shipped by the brand."""
    items = f.products(2)
    brand_wh = f.warehouse_with_lots(world.brand, world.regions["zj"], {
        items[0]: [("EARLY-1", 10, 100), ("LATE-1", 30, 300)], items[1]: [("ONLY-2", 20, 200)]})
    dealer_wh = builders_stock.warehouse(world.orgs["dealer"], world.regions["hz"], name="杭州主仓", is_default=True)
    order = f.approved_order(world, [(items[0], 12), (items[1], 3)], buyer=world.orgs["dealer"], seller=world.brand)
    f.ship_all(world, order)
    db.session.commit()
    return items, brand_wh, dealer_wh, order


def test_signing_on_the_page_books_the_brands_lots_into_the_dealers_warehouse(world, setup, login_as):
    (a, b), brand_wh, dealer_wh, order = setup
    brand_before = f.balance(brand_wh, a), f.balance(brand_wh, b)
    dealer = login_as("dealer")
    page = text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery"))
    assert "签收后，实收数量按发货批次入库到" in page and "杭州主仓" in page and 'name="warehouse_id"' not in page

    response = dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"})
    assert response.status_code == 303
    assert f.status_of(order) == "delivered"
    assert f.balance(dealer_wh, a) == (12, 0) and f.balance(dealer_wh, b) == (3, 0)
    assert lots_of(dealer_wh) == {"EARLY-1": (10, days(100)), "LATE-1": (2, days(300)), "ONLY-2": (3, days(200))}
    assert (f.balance(brand_wh, a), f.balance(brand_wh, b)) == brand_before  # reduced at shipment, not again
    number = db.session.scalar(select(Shipment.number).where(Shipment.order_id == order.id))
    assert f.movements("receipt", number) == 3

    after = text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery"))
    stocked = after.split('id="stocked"', 1)[1]
    assert "已按发货批次入库到" in stocked and "杭州主仓" in stocked and "12" in stocked
    assert f"/dealer/stock/?warehouse_id={dealer_wh.id}" in stocked
    listing = text(dealer.get(f"/dealer/stock/?warehouse_id={dealer_wh.id}"))
    assert a.code in listing and b.code in listing
    ledger = text(dealer.get(f"/dealer/stock/{dealer_wh.id}/{a.id}"))
    assert "EARLY-1" in ledger and "LATE-1" in ledger and f"补货签收 {order.number}" in ledger and number in ledger


def test_a_short_and_damaged_receipt_books_only_what_arrived(world, setup, login_as):
    (a, b), _brand_wh, dealer_wh, order = setup
    line_a, line_b = order.lines
    dealer = login_as("dealer")
    response = dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery",
                           {"seen": "shipped", f"short_{line_a.id}": "2", f"damaged_{line_b.id}": "1"})
    assert response.status_code == 303
    assert f.balance(dealer_wh, a) == (10, 0) and f.balance(dealer_wh, b) == (2, 0)
    # the shortfall comes off the lot expiring last: the books never claim fresher stock than arrived
    assert lots_of(dealer_wh) == {"EARLY-1": (10, days(100)), "ONLY-2": (2, days(200))}
    assert len(f.credit_notes(order)) == 2  # short and damaged, credited by the brand as before


def test_signing_twice_books_once(world, setup, login_as):
    (a, b), _brand_wh, dealer_wh, order = setup
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 303
    again = dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"})
    assert again.status_code in (400, 409)
    code = delivery.code_for(order.id)
    admin = login_as("admin")  # the brand typing the driver's code afterwards is refused too
    assert admin.post(f"/admin/orders/{order.id}/sign-off", {"code": code, "seen": "shipped"}).status_code in (400, 409)
    assert f.balance(dealer_wh, a) == (12, 0) and f.balance(dealer_wh, b) == (3, 0) and receipts_into(dealer_wh) == 3


def receipts_into(warehouse) -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement).where(
        StockMovement.kind == "receipt", StockMovement.warehouse_id == warehouse.id))


def test_the_brand_signing_with_the_code_books_into_the_dealers_default_warehouse(world, setup, login_as):
    (a, _b), _brand_wh, dealer_wh, order = setup
    admin = login_as("admin")
    signed = admin.post(f"/admin/orders/{order.id}/sign-off", {"code": delivery.code_for(order.id), "seen": "shipped"})
    assert signed.status_code == 303
    assert f.balance(dealer_wh, a) == (12, 0)


def test_a_dealer_with_several_warehouses_chooses_one(world, setup, login_as):
    (a, _b), _brand_wh, dealer_wh, order = setup
    second = builders_stock.warehouse(world.orgs["dealer"], world.regions["hz"], name="杭州二仓")
    foreign = builders_stock.warehouse(world.orgs["dealer_b"], world.regions["cd"], name="成都仓")
    db.session.commit()
    dealer = login_as("dealer")
    page = text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery"))
    assert 'name="warehouse_id"' in page and f'<option selected value="{dealer_wh.id}">' in page
    refused = dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery",
                          {"seen": "shipped", "warehouse_id": str(foreign.id)})
    assert refused.status_code == 400 and f.status_of(order) == "shipped" and receipts_into(foreign) == 0
    assert 'class="error"' in text(refused).split('id="field-warehouse_id"')[1].split("</div>")[0]  # not a choice
    swapped = dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery",
                          {"seen": "shipped", "warehouse_id": str(foreign.id)}, htmx=True)
    assert swapped.status_code == 422 and text(swapped).lstrip().startswith('<section class="card" id="receipt-form">')
    done = dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery",
                       {"seen": "shipped", "warehouse_id": str(second.id)})
    assert done.status_code == 303
    assert f.balance(second, a) == (12, 0) and f.balance(dealer_wh, a) == (0, 0)
    assert "杭州二仓" in text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery")).split('id="stocked"')[1]


def test_the_service_refuses_a_warehouse_that_is_not_the_dealers(world, setup):
    _items, _brand_wh, _dealer_wh, order = setup
    foreign = builders_stock.warehouse(world.orgs["dealer_b"], world.regions["cd"])
    with pytest.raises(DomainError) as refused:
        delivery.confirm_receipt(world.orgs["dealer"].id, order.id, world.users["dealer"].id, {},
                                 warehouse_id=foreign.id)
    db.session.rollback()
    assert refused.value.field == "warehouse_id" and f.status_of(order) == "shipped"


def test_a_dealer_without_a_warehouse_signs_without_stock(world, login_as):
    [a] = f.products(1)
    f.warehouse_with_lots(world.brand, world.regions["zj"], {a: [("ONLY", 10, 200)]})
    order = f.approved_order(world, [(a, 4)], buyer=world.orgs["dealer"], seller=world.brand)
    f.ship_all(world, order)
    db.session.commit()
    before = receipts()
    dealer = login_as("dealer")
    assert "您还没有可用的仓库" in text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery"))
    assert dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 303
    assert f.status_of(order) == "delivered" and receipts() == before
    assert "本次签收没有入库" in text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery"))


def test_a_retailers_sign_off_books_no_stock(world, login_as):
    [a] = f.products(1)
    dealer_wh = f.stocked_dealer(world, [a])
    order = f.approved_order(world, [(a, 5)])
    f.ship_all(world, order)
    db.session.commit()
    before, on_hand = receipts(), f.balance(dealer_wh, a)
    shop = login_as("retailer")
    assert shop.post(f"/retailer/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 303
    assert f.status_of(order) == "delivered"
    assert receipts() == before and f.balance(dealer_wh, a) == on_hand


def test_another_dealer_can_neither_see_nor_sign_it(world, setup, login_as):
    (a, _b), _brand_wh, dealer_wh, order = setup
    other = login_as("dealer_b")
    assert other.get(f"/dealer/replenishment/orders/{order.id}/delivery").status_code == 404
    assert other.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 404
    assert f.status_of(order) == "shipped" and f.balance(dealer_wh, a) == (0, 0)


def test_signing_clears_the_low_stock_alert_as_a_manual_receipt_does(world, setup, login_as):
    (a, _b), _brand_wh, dealer_wh, order = setup
    rules.set_reorder_rule(dealer_wh.id, a.id, safety_stock=2, reorder_point=5, lead_time_days=3, actor_id=None)
    scan_stock_alerts()
    db.session.commit()
    alert = select(StockAlert.is_open).where(StockAlert.warehouse_id == dealer_wh.id, StockAlert.product_id == a.id,
                                             StockAlert.kind == "low_stock")
    assert db.session.scalar(alert) is True
    assert login_as("dealer").post(f"/dealer/replenishment/orders/{order.id}/delivery",
                                   {"seen": "shipped"}).status_code == 303
    scan_stock_alerts()
    db.session.commit()
    assert db.session.scalar(alert.execution_options(populate_existing=True)) is False


# ---- two sign-offs at once -----------------------------------------------------------------------

def _sign(database_url: str, buyer_id: int, order_id: int, actor_id: int, barrier, results) -> None:
    from app import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    with app.app_context():
        try:
            barrier.wait(timeout=60)
            try:
                delivery.confirm_receipt(buyer_id, order_id, actor_id, {}, seen="shipped")
                db.session.commit()
                results.put(("done", ""))
            except DomainError as error:
                db.session.rollback()
                results.put(("refused", error.message))
            except Exception:  # a deadlock, a unique violation: failures
                db.session.rollback()
                results.put(("error", traceback.format_exc()))
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.xdist_group("serial")  # starts worker processes on PostgreSQL
def test_two_sign_offs_at_once_book_once(world, setup):
    (a, b), _brand_wh, dealer_wh, order = setup
    args = (world.orgs["dealer"].id, order.id, world.users["dealer"].id)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    ids = dealer_wh.id, a.id, b.id
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    outcomes = run_forked(_sign, [(url, *args)] * 2)
    assert [detail for outcome, detail in outcomes if outcome == "error"] == []
    assert sorted(o for o, _ in outcomes) == ["done", "refused"]
    dealer_wh, a, b = db.session.get(Warehouse, ids[0]), db.session.get(Product, ids[1]), db.session.get(Product, ids[2])
    assert f.balance(dealer_wh, a) == (12, 0) and f.balance(dealer_wh, b) == (3, 0) and receipts_into(dealer_wh) == 3


def test_the_signed_delivery_page_shows_no_empty_receipt_card(world, setup, login_as):
    *_rest, order = setup
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 303
    page = text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery"))
    assert '<section id="receipt-form">' in page and '<section class="card" id="receipt-form">' not in page
    assert 'id="stocked"' in page


def test_the_stocked_card_lists_products_in_the_orders_line_order(world, setup, login_as):
    (a, b), _brand_wh, dealer_wh, _first = setup
    assert a.code < b.code
    order = f.approved_order(world, [(b, 2), (a, 1)], buyer=world.orgs["dealer"], seller=world.brand)
    f.ship_all(world, order)
    db.session.commit()
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 303
    stocked = text(dealer.get(f"/dealer/replenishment/orders/{order.id}/delivery")).split('id="stocked"', 1)[1]
    link = f'href="/dealer/stock/{dealer_wh.id}/{{}}"'.format
    assert stocked.index(link(b.id)) < stocked.index(link(a.id))  # as the order lists them, not by code


def test_booked_lots_carry_a_production_date(world, setup, login_as):
    """The brand's lot's production date when the brand's stock lot is known; for a lot shipped
    without one (the demo's history), the expiry date less the product's shelf life."""
    from datetime import date, timedelta

    from app.models.fulfilment import ShipmentLot
    (a, b), brand_wh, dealer_wh, order = setup
    made = date(2026, 11, 2)
    early = db.session.scalar(select(StockLot).where(StockLot.warehouse_id == brand_wh.id, StockLot.batch_no == "EARLY-1"))
    early.production_date = made
    unknown = db.session.scalar(select(ShipmentLot).join(Shipment).where(Shipment.order_id == order.id,
                                                                         ShipmentLot.batch_no == "ONLY-2"))
    unknown.lot_id = None
    db.session.commit()
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/replenishment/orders/{order.id}/delivery", {"seen": "shipped"}).status_code == 303
    booked = {lot.batch_no: lot for lot in db.session.scalars(
        select(StockLot).where(StockLot.warehouse_id == dealer_wh.id).execution_options(populate_existing=True))}
    assert booked["EARLY-1"].production_date == made
    assert booked["ONLY-2"].production_date == booked["ONLY-2"].expiry_date - timedelta(days=b.shelf_life_days)
