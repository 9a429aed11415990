"""Stock pages for admins and dealers: scoping, fragments, forms, actions."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, ReorderRule, StockBalance, StockLot, StockMovement, Warehouse
from app.services.inventory import reserve_order
from tests import factories
from tests.builders_stock import order, stock, warehouse


@pytest.fixture
def stocked(world):
    dealer, dealer_b, brand = world.orgs["dealer"], world.orgs["dealer_b"], world.brand
    wh = warehouse(dealer, world.regions["hz"], code="HZ-1", name="杭州一仓", is_default=True)
    wh2 = warehouse(dealer, world.regions["hz"], code="HZ-2", name="杭州二仓")
    other = warehouse(dealer_b, world.regions["cd"], code="CD-1", name="成都仓")
    dc = warehouse(brand, world.regions["zj"], code="DC-EAST", name="华东配送中心")
    product = factories.product(code="WATER-550", name_zh="矿泉水550ml")
    other_product = factories.product(code="TEA-500", name_zh="绿茶500ml")
    lot = stock(wh, product, 30, batch="B-001")
    stock(other, product, 7, batch="B-CD")
    stock(dc, other_product, 100, batch="B-DC")
    db.session.commit()
    return dict(wh=wh, wh2=wh2, other=other, dc=dc, product=product, other_product=other_product, lot=lot)


def _balance(wh, product):
    db.session.expire_all()
    return db.session.get(StockBalance, (wh.id, product.id))


def test_anonymous_goes_to_login_and_other_roles_are_refused(client, login_as, world):
    response = client.get("/dealer/stock/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login_as("retailer").get("/dealer/stock/").status_code == 403
    assert login_as("admin_b").get("/admin/stock/").status_code == 403  # no "stock" permission
    assert login_as("admin_b").get("/admin/notifications/").status_code == 200  # but notifications are for all


def test_dealer_sees_only_its_own_warehouses(login_as, stocked):
    c = login_as("dealer")
    page = c.get("/dealer/stock/").get_data(as_text=True)
    assert "杭州一仓" in page and "成都仓" not in page and "华东配送中心" not in page
    assert c.get(f"/dealer/stock/{stocked['other'].id}/{stocked['product'].id}").status_code == 404
    assert c.post(f"/dealer/stock/{stocked['other'].id}/{stocked['product'].id}/receive",
                  {"batch_no": "X", "qty": 1, "expiry_date": "2099-01-01"}).status_code == 404


def test_brand_sees_dealer_stock_but_does_not_manage_it(login_as, stocked):
    c = login_as("admin")
    page = c.get("/admin/stock/").get_data(as_text=True)
    assert "杭州一仓" in page and "成都仓" in page and "华东配送中心" in page
    dealer_only = c.hx_get("/admin/stock/?owner=dealer").get_data(as_text=True)
    assert "华东配送中心" not in dealer_only and "成都仓" in dealer_only
    detail = c.get(f"/admin/stock/{stocked['wh'].id}/{stocked['product'].id}").get_data(as_text=True)
    assert "B-001" in detail and 'id="receive"' not in detail
    response = c.post(f"/admin/stock/{stocked['wh'].id}/{stocked['product'].id}/receive",
                      {"batch_no": "X", "qty": 1, "expiry_date": "2099-01-01"})
    assert response.status_code == 403


def test_list_filter_answers_htmx_with_the_fragment(login_as, stocked):
    c = login_as("dealer")
    full = c.get("/dealer/stock/?q=WATER")
    fragment = c.hx_get("/dealer/stock/?q=WATER")
    assert "<html" in full.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="balances"' in body and "WATER-550" in body
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert "WATER-550" not in c.hx_get("/dealer/stock/?q=TEA").get_data(as_text=True)


def test_receive_form_success_and_bad_input(login_as, stocked):
    c = login_as("dealer")
    url = f"/dealer/stock/{stocked['wh'].id}/{stocked['product'].id}"
    c.get(url)
    response = c.post(url + "/receive", {"batch_no": "B-002", "qty": "12", "production_date": "2026-01-05"})
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    assert "已入库 12" in c.get(url).get_data(as_text=True)
    assert _balance(stocked["wh"], stocked["product"]).on_hand == 42

    bad = c.post(url + "/receive", {"batch_no": "B-003", "qty": "5"})  # no date for a new batch
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="production_date-msg">请填写生产日期或到期日' in page
    zero = c.post(url + "/receive", {"batch_no": "B-003", "qty": "0", "expiry_date": "2099-01-01"})
    assert zero.status_code == 400 and 'aria-invalid="true"' in zero.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StockLot).where(StockLot.batch_no == "B-003")) == 0


def test_adjust_needs_reason_and_respects_reservations(login_as, stocked, world):
    c = login_as("dealer")
    wh, product, lot = stocked["wh"], stocked["product"], stocked["lot"]
    url = f"/dealer/stock/{wh.id}/{product.id}"
    c.get(url)
    no_reason = c.post(url + "/adjust", {"lot_id": lot.id, "delta": "-2", "reason": ""})
    assert no_reason.status_code == 400
    o = order(world.orgs["retailer"], world.orgs["dealer"], {product: 29})
    reserve_order(o.id, None)
    db.session.commit()
    too_much = c.post(url + "/adjust", {"lot_id": lot.id, "delta": "-2", "reason": "破损"})
    assert too_much.status_code == 400 and "已预留的库存不能调减" in too_much.get_data(as_text=True)
    ok = c.post(url + "/adjust", {"lot_id": lot.id, "delta": "-1", "reason": "破损"})
    assert ok.status_code == 303
    assert _balance(wh, product).on_hand == 29
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "stock.adjust")) == "stock.adjust"


def test_reorder_rule_form_and_low_stock_page(login_as, stocked):
    c = login_as("dealer")
    wh, product = stocked["wh"], stocked["product"]
    url = f"/dealer/stock/{wh.id}/{product.id}"
    c.get(url)
    bad = c.post(url + "/rule", {"safety_stock": "10", "reorder_point": "5", "lead_time_days": "7"})
    assert bad.status_code == 400 and "再订货点不能低于安全库存" in bad.get_data(as_text=True)
    assert c.post(url + "/rule", {"safety_stock": "10", "reorder_point": "40", "lead_time_days": "7"}).status_code == 303
    assert db.session.get(ReorderRule, (wh.id, product.id)).reorder_point == 40
    low = c.get("/dealer/stock/low")
    assert "WATER-550" in low.get_data(as_text=True)
    assert "WATER-550" in c.hx_get("/dealer/stock/low").get_data(as_text=True)


def test_compute_rule_from_demand_button(login_as, stocked):
    c = login_as("dealer")
    url = f"/dealer/stock/{stocked['wh'].id}/{stocked['product'].id}"
    c.get(url)
    response = c.post(url + "/rule/compute", {"days": "30"})
    assert response.status_code == 303  # no shipments yet: says so, changes nothing
    assert "近期没有发货记录" in c.get(url).get_data(as_text=True)


def test_movements_fragment_and_expire_button(login_as, stocked):
    wh, product = stocked["wh"], stocked["product"]
    old = stock(wh, product, 4, batch="OLD", expires_in_days=-3)
    db.session.commit()
    c = login_as("dealer")
    url = f"/dealer/stock/{wh.id}/{product.id}"
    page = c.get(url).get_data(as_text=True)
    assert "已过期" in page and "报废" in page
    fragment = c.hx_get(url).get_data(as_text=True)
    assert 'id="movements"' in fragment and "<html" not in fragment and "入库" in fragment
    assert 'hx-confirm="报废批次 OLD 的全部库存（4）？"' in page
    asked = c.post(f"{url}/lots/{old.id}/expire", {})
    assert asked.status_code == 200 and "报废批次 OLD 的全部库存（4）？" in asked.get_data(as_text=True)
    assert _balance(wh, product).on_hand == 34  # nothing written off before the confirmation
    response = c.post(f"{url}/lots/{old.id}/expire", {"confirmed": "1"})
    assert response.status_code == 303
    assert _balance(wh, product).on_hand == 30
    assert db.session.scalar(select(StockMovement.kind).where(StockMovement.lot_id == old.id,
                                                              StockMovement.kind == "expire")) == "expire"


def test_expiring_page_full_and_fragment(login_as, stocked):
    stock(stocked["wh"], stocked["product"], 3, batch="SOON", expires_in_days=10)
    db.session.commit()
    c = login_as("dealer")
    assert "SOON" in c.get("/dealer/stock/expiring?days=30").get_data(as_text=True)
    fragment = c.hx_get("/dealer/stock/expiring?days=5").get_data(as_text=True)
    assert 'id="expiring"' in fragment and "SOON" not in fragment


def test_admin_sets_unit_cost(login_as, stocked):
    c = login_as("admin")
    url = f"/admin/stock/{stocked['dc'].id}/{stocked['other_product'].id}"
    c.get(url)
    assert c.post(url + "/cost", {"cost": "abc"}).status_code == 400
    assert c.post(url + "/cost", {"cost": "31.50"}).status_code == 303
    assert "31.50" in c.get(url).get_data(as_text=True)
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/stock/{stocked['wh'].id}/{stocked['product'].id}/cost", {"cost": "1"}).status_code == 404


def test_warehouse_create_form(login_as, stocked, world):
    c = login_as("dealer")
    c.get("/dealer/stock/warehouses")
    bad = c.post("/dealer/stock/warehouses", {"code": "HZ-3", "name": "三仓", "region_code": "NOPE"})
    assert bad.status_code == 400 and "地区编码不存在" in bad.get_data(as_text=True)
    dup = c.post("/dealer/stock/warehouses", {"code": "hz-1", "name": "重复", "region_code": world.regions["hz"].code})
    assert dup.status_code == 400 and "仓库编码已存在" in dup.get_data(as_text=True)
    ok = c.post("/dealer/stock/warehouses", {"code": "HZ-3", "name": "三仓", "region_code": ""})  # the dealer's region
    assert ok.status_code == 303
    assert db.session.scalar(select(Warehouse.region_id).where(Warehouse.code == "HZ-3")) == world.regions["hz"].id
    page = c.get("/dealer/stock/warehouses").get_data(as_text=True)
    assert "HZ-3" in page and "CD-1" not in page


def test_shelf_life_rules_admin_page(login_as, world):
    c = login_as("admin")
    c.get("/admin/stock/shelf-life")
    bad = c.post("/admin/stock/shelf-life", {"name": "超市", "audience": "retailer", "min_remaining_pct": "0"})
    assert bad.status_code == 400
    ok = c.post("/admin/stock/shelf-life", {"name": "超市", "audience": "retailer", "channel": "supermarket",
                                             "min_remaining_pct": "34"})
    assert ok.status_code == 303
    page = c.get("/admin/stock/shelf-life").get_data(as_text=True)
    assert "34%" in page and "<td>零售商</td>" in page and "<td>超市</td>" in page  # labels, not raw codes
    assert ">supermarket<" not in page and ">retailer<" not in page and ">kiosk<" not in page
    assert login_as("dealer").get("/dealer/stock/shelf-life").status_code == 404


def test_the_ledger_names_documents_as_people_know_them(login_as, stocked, world):
    wh, product = stocked["wh"], stocked["product"]
    o = order(world.orgs["retailer"], world.orgs["dealer"], {product: 2}, number="SO-LEDGER-1")
    reserve_order(o.id, None)
    for document in ("demo:shipment:2:-1", "erp:REF-9", "count:5"):
        db.session.add(StockMovement(warehouse_id=wh.id, product_id=product.id, kind="adjust", on_hand_delta=0,
                                     reserved_delta=0, document=document, reason="x"))
    db.session.commit()
    html = login_as("dealer").get(f"/dealer/stock/{wh.id}/{product.id}").get_data(as_text=True)
    ledger = html.split('id="movements"', 1)[1]
    assert "SO-LEDGER-1" in ledger and "演示数据" in ledger and "ERP · REF-9" in ledger and "盘点 #5" in ledger
    assert "order:" not in ledger and "demo:" not in ledger and "count:" not in ledger
