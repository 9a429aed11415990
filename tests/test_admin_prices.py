"""Admin price pages: price lists with their items (in place with htmx, and without JS), contract
prices, the price check, and the "pricing" permission."""
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, ContractPrice, PriceList, PriceListItem
from tests import factories
from tests.builders_catalog import contract, field_error, list_item, price_list


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def product(world):
    p = factories.product(code="TEA-1", name_zh="冰红茶", base_price_fen=4000)
    db.session.commit()
    return p


def list_form(**overrides) -> dict:
    data = {"code": "RT-HZ", "name": "杭州零售价", "audience": "retailer", "tier": "", "channel": "kiosk",
            "region_code": "", "priority": "5", "valid_from": "2024-01-01", "valid_to": "", "active": "y"}
    data.update(overrides)
    return data


# --- price lists ----------------------------------------------------------------------------

def test_create_price_list_and_edit_it(admin, world):
    response = admin.post("/admin/price-lists/new", list_form(region_code=world.regions["hz"].code))
    assert response.status_code == 303
    created = db.session.scalars(select(PriceList)).one()
    assert response.headers["Location"] == f"/admin/price-lists/{created.id}"
    assert (created.audience, created.channel, created.region_id, created.priority, created.active) == (
        "retailer", "kiosk", world.regions["hz"].id, 5, True)
    assert created.valid_from == date(2024, 1, 1) and created.tier is None

    page = admin.get(f"/admin/price-lists/{created.id}").get_data(as_text=True)
    assert "价目表 RT-HZ 已创建" in page and f'value="{world.regions["hz"].code}"' in page

    data = list_form(name="杭州零售价 2", priority="7", region_code=world.regions["hz"].code)
    del data["active"]  # an unticked checkbox is not sent
    assert admin.post(f"/admin/price-lists/{created.id}", data).status_code == 303
    db.session.expire_all()
    changed = db.session.get(PriceList, created.id)
    assert (changed.name, changed.priority, changed.active) == ("杭州零售价 2", 7, False)
    update = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "price_list.update")).one()
    assert update.before == {"active": True, "code": "RT-HZ", "name": "杭州零售价", "priority": 5}
    assert update.after == {"active": False, "code": "RT-HZ", "name": "杭州零售价 2", "priority": 7}


@pytest.mark.parametrize("overrides, field, message", [
    ({"code": "TAKEN"}, "code", "价目表编码已存在"),
    ({"audience": "dealer", "channel": "kiosk"}, "channel", "只适用于零售商"),
    ({"audience": "nobody"}, "audience", "请选择客户类型"),
    ({"region_code": "NOWHERE"}, "region_code", "没有编码为 NOWHERE 的地区"),
    ({"valid_from": "2024-05-01", "valid_to": "2024-04-01"}, "valid_to", "不能早于开始日期"),
    ({"valid_from": "2024-13-45"}, "valid_from", ""),
    ({"name": ""}, "name", "必填"),
])
def test_invalid_price_list(admin, world, overrides, field, message):
    price_list("TAKEN")
    db.session.commit()
    response = admin.post("/admin/price-lists/new", list_form(**overrides))
    assert response.status_code == 400
    error = field_error(response.get_data(as_text=True), field)
    assert error is not None and message in error
    assert count(PriceList) == 1 and count(AuditEvent) == 0


def test_price_lists_page_lists_and_filters(admin, world):
    price_list("DL-A", audience="dealer", tier="A")
    price_list("RT-1", audience="retailer", channel="catering")
    db.session.commit()
    html = admin.get("/admin/price-lists").get_data(as_text=True)
    assert "DL-A" in html and "RT-1" in html and "等级 A" in html and "餐饮" in html
    html = admin.get("/admin/price-lists?audience=dealer").get_data(as_text=True)
    assert "DL-A" in html and "RT-1" not in html


def test_delete_price_list_removes_items_and_audits(admin, product):
    plist = price_list("GONE")
    list_item(plist, product, 3000)
    db.session.commit()
    assert admin.post(f"/admin/price-lists/{plist.id}/delete", {"confirmed": "1"}).status_code == 303
    assert count(PriceList) == 0 and count(PriceListItem) == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "price_list.delete")).one()
    assert event.before["code"] == "GONE" and event.before["items"] == 1 and event.after is None


# --- items ----------------------------------------------------------------------------------

def test_add_item_without_js_redirects_back(admin, product):
    plist = price_list("RT")
    db.session.commit()
    response = admin.post(f"/admin/price-lists/{plist.id}/items",
                          {"product_code": "TEA-1", "min_qty": "10", "price": "36.80"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/admin/price-lists/{plist.id}?page=1")
    item = db.session.scalars(select(PriceListItem)).one()
    assert (item.product_id, item.min_qty, item.price_fen) == (product.id, 10, 3680)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "price_list.item.create")).one()
    assert (event.entity, event.entity_id) == ("price_list", plist.id)
    assert event.after == {"item_id": item.id, "product_code": "TEA-1", "min_qty": 10, "price_fen": 3680}
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "¥36.80" in page and "已添加价格" in page


def test_add_item_with_htmx_returns_the_items_section(admin, product):
    plist = price_list("RT")
    db.session.commit()
    response = admin.post(f"/admin/price-lists/{plist.id}/items",
                          {"product_code": "TEA-1", "min_qty": "1", "price": "38"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<section class="card" id="items">' in html
    assert "<html" not in html and "¥38.00" in html and "已添加价格" in html
    assert count(PriceListItem) == 1


@pytest.mark.parametrize("data, field, message", [
    ({"product_code": "NOPE", "min_qty": "1", "price": "1"}, "product_code", "没有编码为 NOPE 的商品"),
    ({"product_code": "TEA-1", "min_qty": "0", "price": "1"}, "min_qty", "大于 0"),
    ({"product_code": "TEA-1", "min_qty": "1", "price": "1.234"}, "price", "最多两位小数"),
    ({"product_code": "TEA-1", "min_qty": "1", "price": "-3"}, "price", "不能为负数"),
    ({"product_code": "TEA-1", "min_qty": "5", "price": "30"}, "min_qty", "已有价格"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_item(admin, product, data, field, message, htmx):
    plist = price_list("RT")
    list_item(plist, product, 3500, min_qty=5)
    db.session.commit()
    response = admin.post(f"/admin/price-lists/{plist.id}/items", data, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == (422 if htmx else 400)
    assert ("<html" in html) is not htmx
    assert message in field_error(html, field)
    assert count(PriceListItem) == 1 and count(AuditEvent) == 0


def test_edit_item_in_place_and_without_js(admin, product):
    plist = price_list("RT")
    item = list_item(plist, product, 3500, min_qty=5)
    db.session.commit()
    url = f"/admin/price-lists/{plist.id}/items/{item.id}/edit"

    fragment = admin.hx_get(url)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and 'name="edit-price"' in html and 'value="35.00"' in html
    full = admin.get(url).get_data(as_text=True)
    assert "<html" in full and 'name="edit-price"' in full

    bad = admin.post(url, {"edit-min_qty": "5", "edit-price": "abc"}, htmx=True)
    assert bad.status_code == 422 and "请输入数字金额" in field_error(bad.get_data(as_text=True), "edit-price")

    response = admin.post(url, {"edit-min_qty": "6", "edit-price": "34.5"}, htmx=True)
    assert response.status_code == 200 and "¥34.50" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(PriceListItem, item.id).min_qty, db.session.get(PriceListItem, item.id).price_fen) == (6, 3450)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "price_list.item.update")).one()
    assert event.before == {"item_id": item.id, "product_code": "TEA-1", "min_qty": 5, "price_fen": 3500}
    assert event.after == {"item_id": item.id, "product_code": "TEA-1", "min_qty": 6, "price_fen": 3450}

    plain = admin.post(url, {"edit-min_qty": "6", "edit-price": "33"})
    assert plain.status_code == 303


def test_delete_item_with_and_without_js(admin, product):
    plist = price_list("RT")
    first, second = list_item(plist, product, 3500), list_item(plist, product, 3300, min_qty=10)
    db.session.commit()
    response = admin.post(f"/admin/price-lists/{plist.id}/items/{first.id}/delete", {"confirmed": "1"}, htmx=True)
    assert response.status_code == 200 and "已删除" in response.get_data(as_text=True)
    assert admin.post(f"/admin/price-lists/{plist.id}/items/{second.id}/delete", {"confirmed": "1"}).status_code == 303
    assert count(PriceListItem) == 0
    deletes = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "price_list.item.delete")).all()
    assert [e.before["price_fen"] for e in deletes] == [3500, 3300]


def test_item_of_another_list_is_404(admin, product):
    mine, other = price_list("MINE"), price_list("OTHER")
    item = list_item(other, product, 3000)
    db.session.commit()
    assert admin.post(f"/admin/price-lists/{mine.id}/items/{item.id}/delete", {"confirmed": "1"}).status_code == 404
    assert admin.get(f"/admin/price-lists/{mine.id}/items/{item.id}/edit").status_code == 404
    assert admin.get("/admin/price-lists/99999").status_code == 404
    assert count(PriceListItem) == 1


# --- contracts ------------------------------------------------------------------------------

def contract_form(world, **overrides) -> dict:
    data = {"customer_code": world.orgs["retailer"].code, "product_code": "TEA-1", "min_qty": "1",
            "price": "35.00", "valid_from": "2024-01-01", "valid_to": "2030-12-31", "reference": "HT-2024-001"}
    data.update(overrides)
    return data


def test_contract_create_edit_delete(admin, world, product):
    response = admin.post("/admin/contracts/new", contract_form(world))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/contracts?customer_code={world.orgs['retailer'].code}"
    row = db.session.scalars(select(ContractPrice)).one()
    assert (row.customer_id, row.product_id, row.price_fen, row.reference) == (
        world.orgs["retailer"].id, product.id, 3500, "HT-2024-001")
    listing = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "HT-2024-001" in listing and "¥35.00" in listing

    form = admin.get(f"/admin/contracts/{row.id}").get_data(as_text=True)
    assert f'value="{world.orgs["retailer"].code}"' in form and 'value="35.00"' in form
    assert admin.post(f"/admin/contracts/{row.id}", contract_form(world, price="34")).status_code == 303
    db.session.expire_all()
    assert db.session.get(ContractPrice, row.id).price_fen == 3400

    assert admin.post(f"/admin/contracts/{row.id}/delete", {"confirmed": "1"}).status_code == 303
    assert count(ContractPrice) == 0
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "contract_price")
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["contract_price.create", "contract_price.update", "contract_price.delete"]
    assert events[1].before == {"customer_code": world.orgs["retailer"].code, "price_fen": 3500, "product_code": "TEA-1"}
    assert events[1].after["price_fen"] == 3400


@pytest.mark.parametrize("overrides, field, message", [
    ({"customer_code": "X999"}, "customer_code", "没有编码为 X999 的客户"),
    ({"customer_code": "BRAND"}, "customer_code", "只能给经销商或零售商"),
    ({"product_code": "NONE"}, "product_code", "没有编码为 NONE 的商品"),
    ({"price": "1.234"}, "price", "最多两位小数"),
    ({"price": "abc"}, "price", "请输入数字金额"),
    ({"valid_to": "2023-01-01"}, "valid_to", "不能早于开始日期"),
    ({"min_qty": "0"}, "min_qty", "大于 0"),
])
def test_invalid_contract(admin, world, product, overrides, field, message):
    response = admin.post("/admin/contracts/new", contract_form(world, **overrides))
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), field)
    assert count(ContractPrice) == 0


def test_duplicate_contract_break_is_refused(admin, world, product):
    contract(world.orgs["retailer"], product, 3500, valid_from=date(2024, 1, 1))
    db.session.commit()
    response = admin.post("/admin/contracts/new", contract_form(world))
    assert response.status_code == 400 and "已有合同价" in field_error(response.get_data(as_text=True), "min_qty")
    assert count(ContractPrice) == 1


def test_contracts_filter_by_customer(admin, world, product):
    contract(world.orgs["retailer"], product, 3500, reference="MINE-1")
    contract(world.orgs["retailer_b"], product, 3600, reference="THEIRS-1")
    db.session.commit()
    html = admin.get(f"/admin/contracts?customer_code={world.orgs['retailer'].code}").get_data(as_text=True)
    assert "MINE-1" in html and "THEIRS-1" not in html


# --- price check ----------------------------------------------------------------------------

def test_price_check_shows_price_reason_and_candidates(admin, world, product):
    retailer = world.orgs["retailer"]
    plist = price_list("RT-KIOSK", channel="kiosk", name="小卖部价")
    list_item(plist, product, 3800)
    list_item(plist, product, 3600, min_qty=10)
    contract(retailer, product, 3300, min_qty=50, reference="HT-BIG")
    db.session.commit()
    html = admin.get(f"/admin/price-check?customer_code={retailer.code}&product_code=TEA-1&qty=12").get_data(as_text=True)
    assert "¥36.00" in html and "价目表 小卖部价（满 10 起）" in html
    assert "HT-BIG" in html and "数量未达到" in html and "RT-KIOSK" in html
    html = admin.get(f"/admin/price-check?customer_code={retailer.code}&product_code=TEA-1&qty=50").get_data(as_text=True)
    assert "¥33.00" in html and "合同价 HT-BIG（满 50 起）" in html
    other = world.orgs["retailer_b"]
    html = admin.get(f"/admin/price-check?customer_code={other.code}&product_code=TEA-1&qty=1&on=2024-06-01").get_data(as_text=True)
    assert "¥40.00" in html and "基础价" in html and "RT-KIOSK" not in html


def test_price_check_errors_next_to_fields(admin, world, product):
    response = admin.get("/admin/price-check?customer_code=BRAND&product_code=TEA-1&qty=1")
    assert response.status_code == 400
    assert "经销商或零售商" in field_error(response.get_data(as_text=True), "customer_code")
    response = admin.get(f"/admin/price-check?customer_code={world.orgs['dealer'].code}&product_code=TEA-1&qty=0")
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "qty")
    assert admin.get("/admin/price-check").status_code == 200


def test_price_check_warns_when_customer_cannot_see_product(admin, world, product):
    from tests.builders_catalog import visibility
    visibility(product, channel="catering")
    db.session.commit()
    html = admin.get(f"/admin/price-check?customer_code={world.orgs['retailer'].code}&product_code=TEA-1&qty=1").get_data(as_text=True)
    assert "该客户看不到此商品" in html


# --- permission -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/price-lists", "/admin/price-lists/new", "/admin/contracts",
                                 "/admin/contracts/new", "/admin/price-check"])
def test_pricing_pages_need_pricing_permission(login_as, url):
    assert login_as("admin_b").get(url).status_code == 403


def test_pricing_posts_need_pricing_permission(login_as, world, product):
    plist = price_list("RT")
    db.session.commit()
    no_pricing = login_as("admin_b")
    assert no_pricing.post("/admin/price-lists/new", list_form(code="NEW")).status_code == 403
    assert no_pricing.post(f"/admin/price-lists/{plist.id}/items",
                           {"product_code": "TEA-1", "min_qty": "1", "price": "1"}, htmx=True).status_code == 403
    assert no_pricing.post("/admin/contracts/new", contract_form(world)).status_code == 403
    assert (count(PriceList), count(PriceListItem), count(ContractPrice)) == (1, 0, 0)
