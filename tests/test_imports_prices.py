"""Importing price list items and contract prices: creates, updates, every error kind, audit."""
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, ContractPrice, OutboxEvent, PriceListItem
from tests.builders_imports import (add_contract, batch_id_from, csv_bytes, priced_catalog, row_html, upload,
                                    xlsx_bytes)


def items() -> dict[tuple, int]:
    db.session.expire_all()
    return {(i.price_list.code, i.product_id, i.min_qty): i.price_fen for i in db.session.scalars(select(PriceListItem))}


def test_price_list_items_create_and_update(login_as, world):
    catalog = priced_catalog()
    water, tea = catalog["water"].id, catalog["tea"].id
    c = login_as("admin")
    data = csv_bytes([["价目表编码", "商品编码", "起始数量", "价格"],
                      ["LIST-A", "P-WATER", "1", "21.50"],    # update
                      ["LIST-A", "P-WATER", "50", "21"],      # unchanged
                      ["LIST-A", "P-TEA", "", "34.00"]])      # create with min qty 1
    response = upload(c, "price_list_items", data, "prices.csv")
    assert response.status_code == 303
    batch_id = batch_id_from(response)
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "更新" in row_html(page, 2) and "无变化" in row_html(page, 3) and "新增" in row_html(page, 4)
    assert items()[("LIST-A", water, 1)] == 2200

    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 303
    assert items() == {("LIST-A", water, 1): 2150, ("LIST-A", water, 50): 2100, ("LIST-A", tea, 12): 3300,
                       ("LIST-A", tea, 1): 3400}
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["price_list.item.update", "price_list.item.create", "import.apply"]
    list_id = catalog["price_list"].id
    assert (events[0].entity, events[0].entity_id) == ("price_list", list_id)
    assert events[0].before["price_fen"] == 2200 and events[0].after["price_fen"] == 2150
    assert events[0].after["product_code"] == "P-WATER" and "min_qty" not in events[0].after
    assert events[1].after["price_fen"] == 3400 and events[1].after["product_code"] == "P-TEA"
    assert events[2].after["created"] == 1 and events[2].after["unchanged"] == 1
    changes = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "price.changed")
                                 .order_by(OutboxEvent.id)).all()  # webhooks hear imported prices too
    assert [(e.data["product_code"], e.data["change"], e.data["price_fen"]) for e in changes] == [
        ("P-WATER", "updated", 2150), ("P-TEA", "created", 3400)]


def test_price_list_item_errors(login_as, world):
    priced_catalog()
    c = login_as("admin")
    rows = [
        (2, ["LIST-X", "P-WATER", "1", "20"], "价目表 LIST-X 不存在"),
        (3, ["LIST-A", "P-NONE", "1", "20"], "商品编码 P-NONE 不存在"),
        (4, ["LIST-A", "P-TEA", "10", "20"], "起始数量 10 不是订购倍数 6 的整数倍"),
        (5, ["LIST-A", "P-WATER", "1", "abc"], "价格：请输入数字金额"),
        (6, ["LIST-A", "P-WATER", "2", "-3"], "价格：金额不能为负数"),
        (7, ["LIST-A", "P-WATER", "3", "3.001"], "价格：金额最多两位小数"),
        (8, ["LIST-A", "P-WATER", "0", "3"], "起始数量 必须是 1 到"),
        (9, ["LIST-A", "P-WATER", "20", "3"], None),
        (10, ["LIST-A", "P-WATER", "20", "4"], "与第 9 行重复"),
        (11, ["", "P-WATER", "1", ""], "缺少必填项：价目表编码"),
    ]
    data = csv_bytes([["price_list_code", "product_code", "min_qty", "price"]] + [cells for _n, cells, _m in rows])
    batch_id = batch_id_from(upload(c, "price_list_items", data, "bad.csv"))
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    for number, _cells, message in rows:
        if message:
            assert message in row_html(page, number), (number, message)
    assert "缺少必填项：价格" in row_html(page, 11)
    before = items()
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 422
    assert items() == before


def test_contract_prices_from_xlsx(login_as, world):
    catalog = priced_catalog()
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    existing = add_contract(retailer, catalog["water"])
    c = login_as("admin")
    data = xlsx_bytes([
        ["客户编码", "商品编码", "起始数量", "价格", "生效日期", "失效日期", "合同编号"],
        [retailer.code, "P-WATER", 1, 18.8, date(2025, 1, 1), None, None],   # update the price only
        [dealer.code, "P-TEA", 12, 30, "2025/7/1", "2025-12-31", "HT-D-7"],   # create
    ])
    batch_id = batch_id_from(upload(c, "contract_prices", data, "contracts.xlsx"))
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "更新" in row_html(page, 2) and "新增" in row_html(page, 3)
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 303

    db.session.expire_all()
    updated = db.session.get(ContractPrice, existing.id)
    assert (updated.price_fen, updated.valid_to, updated.reference) == (1880, date(2025, 12, 31), "HT-2025-001")
    created = db.session.scalar(select(ContractPrice).where(ContractPrice.customer_id == dealer.id))
    assert (created.product_id, created.min_qty, created.price_fen, created.valid_from, created.valid_to,
            created.reference) == (catalog["tea"].id, 12, 3000, date(2025, 7, 1), date(2025, 12, 31), "HT-D-7")
    actions = sorted(db.session.scalars(select(AuditEvent.action)))
    assert actions == ["contract_price.create", "contract_price.update", "import.apply"]
    change = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract_price.update"))
    assert change.entity_id == existing.id
    assert change.before == {"customer_code": retailer.code, "product_code": "P-WATER", "price_fen": 1999}
    assert change.after == {"customer_code": retailer.code, "product_code": "P-WATER", "price_fen": 1880}
    changes = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "price.changed")
                                 .order_by(OutboxEvent.id)).all()
    assert [(e.data["customer_code"], e.data["change"], e.org_ids) for e in changes] == [
        (retailer.code, "updated", [retailer.id]), (dealer.code, "created", [dealer.id])]


def test_contract_price_errors(login_as, world):
    priced_catalog()
    retailer = world.orgs["retailer"]
    c = login_as("admin")
    rows = [
        (2, ["NO-SUCH", "P-WATER", "1", "10", "", "", ""], "客户编码 NO-SUCH 不存在"),
        (3, ["BRAND", "P-WATER", "1", "10", "", "", ""], "客户编码 BRAND 不存在"),  # the brand is no customer
        (4, [retailer.code, "P-WATER", "1", "10", "2025-06-01", "2025-05-31", ""],
         "失效日期 2025-05-31 早于生效日期 2025-06-01"),
        (5, [retailer.code, "P-WATER", "1", "10", "June 1st", "", ""], "生效日期 不是有效的日期"),
        (6, [retailer.code, "P-TEA", "7", "10", "", "", ""], "起始数量 7 不是订购倍数 6 的整数倍"),
        (7, [retailer.code, "P-WATER", "1", "10.555", "", "", ""], "价格：金额最多两位小数"),
        (8, [retailer.code, "P-WATER", "5", "10", "2025-01-01", "", "R" * 41], "合同编号 不能超过 40 个字符"),
        (9, [retailer.code, "P-WATER", "6", "10", "2025-01-01", "", ""], None),
        (10, [retailer.code, "P-WATER", "6", "11", "2025-01-01", "", ""], "与第 9 行重复"),
        (11, [retailer.code, "P-WATER", "6", "11", "2025-02-01", "", ""], None),  # another start: no duplicate
    ]
    data = csv_bytes([["customer_code", "product_code", "min_qty", "price", "valid_from", "valid_to", "reference"]]
                     + [cells for _n, cells, _m in rows])
    batch_id = batch_id_from(upload(c, "contract_prices", data, "bad.csv"))
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    for number, _cells, message in rows:
        if message:
            assert message in row_html(page, number), (number, message)
    assert "新增" in row_html(page, 11)
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ContractPrice)) == 0


def test_pricing_permission_alone(login_as, world):
    priced_catalog()
    world.users["admin_b"].permissions = "pricing"
    db.session.commit()
    c = login_as("admin_b")
    assert c.get("/admin/imports/products").status_code == 403
    assert c.get("/admin/exports/contract_prices.csv").status_code == 200
    data = csv_bytes([["price_list_code", "product_code", "price"], ["LIST-A", "P-TEA", "1"]])
    assert upload(c, "price_list_items", data, "p.csv").status_code == 303
