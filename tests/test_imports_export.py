"""Exports (CSV with BOM, XLSX) re-import unchanged; large files preview in a fixed number of
queries."""
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditEvent, ContractPrice, PriceListItem, Product
from app.services.core import audit
from app.services.dataio.products import AUDITED_FIELDS
from tests import factories
from tests.builders_imports import (PRODUCT_HEADERS_ZH, add_contract, batch_id_from, csv_bytes, priced_catalog,
                                    read_xlsx, upload)


def database_state():
    db.session.expire_all()
    products = [audit.snapshot(p, AUDITED_FIELDS + ["pinyin"])
                for p in db.session.scalars(select(Product).order_by(Product.code))]
    items = [(i.price_list_id, i.product_id, i.min_qty, i.price_fen)
             for i in db.session.scalars(select(PriceListItem).order_by(PriceListItem.id))]
    contracts = [(c.customer_id, c.product_id, c.min_qty, c.price_fen, c.valid_from, c.valid_to, c.reference)
                 for c in db.session.scalars(select(ContractPrice).order_by(ContractPrice.id))]
    return products, items, contracts


@pytest.fixture
def priced_world(world):
    catalog = priced_catalog()
    factories.product(catalog["category"], code="P-EQ", name_zh="=1+1 特价", spec="-500ml", gtin="6901234567816")
    add_contract(world.orgs["retailer"], catalog["water"])
    add_contract(world.orgs["dealer"], catalog["tea"], min_qty=12, valid_from=None, valid_to=None, reference="")
    db.session.commit()
    return catalog


def test_csv_export_has_bom_import_headers_and_guards_formulas(login_as, priced_world):
    c = login_as("admin")
    response = c.get("/admin/exports/products.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'attachment; filename="products-' in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == PRODUCT_HEADERS_ZH
    assert "'=1+1 特价" in lines[1] and "'-500ml" in lines[1]
    assert lines[3].startswith("P-WATER,6901234567892,DRINK,矿泉水,Water,500ml×24,箱,24,1,1,365,13,active,2024-03-01,24.00")
    contracts = c.get("/admin/exports/contract_prices.csv").get_data().decode("utf-8-sig").splitlines()
    assert contracts[0] == "客户编码,商品编码,起始数量,价格,生效日期,失效日期,合同编号"
    assert len(contracts) == 3


def test_xlsx_export_stores_text_as_text(login_as, priced_world):
    c = login_as("admin")
    response = c.get("/admin/exports/products.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = read_xlsx(response.get_data())
    assert rows[0] == PRODUCT_HEADERS_ZH
    assert rows[1][3] == "=1+1 特价"  # a text cell, not a formula
    assert rows[3][0] == "P-WATER" and rows[3][1] == "6901234567892" and rows[3][14] == 24


@pytest.mark.parametrize("kind", ["products", "price_list_items", "contract_prices"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reimports_unchanged(login_as, priced_world, kind, fmt):
    c = login_as("admin")
    before = database_state()
    exported = c.get(f"/admin/exports/{kind}.{fmt}").get_data()
    response = upload(c, kind, exported, f"export.{fmt}")
    assert response.status_code == 303
    batch_id = batch_id_from(response)
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "新增 0，更新 0" in page and "有错误 0" in page
    response = c.post(f"/admin/imports/batches/{batch_id}/confirm")
    assert response.status_code == 303
    assert database_state() == before
    assert db.session.scalars(select(AuditEvent.action)).all() == ["import.apply"]


@contextmanager
def counting_queries():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_five_thousand_rows_preview_in_a_fixed_number_of_queries(login_as, world):
    priced_catalog()
    c = login_as("admin")
    rows = [["code", "gtin", "category_code", "name_zh", "pack_size", "order_multiple", "min_order_qty",
             "tax_rate", "base_price"]]
    rows += [[f"B{i:05d}", "", "DRINK", f"批量商品{i}", "12", "2", "4", "13", f"{i % 300}.{i % 100:02d}"]
             for i in range(5000)]
    rows[1][0] = "P-WATER"  # one update among the new ones
    data = csv_bytes(rows)

    started = time.perf_counter()
    with counting_queries() as statements:
        response = upload(c, "products", data, "big.csv")
    preview_seconds = time.perf_counter() - started
    assert response.status_code == 303
    assert len(statements) <= 15, len(statements)
    assert preview_seconds < 10

    batch_id = batch_id_from(response)
    page = c.get(f"/admin/imports/batches/{batch_id}")
    assert page.status_code == 200 and "第 1 / 25 页" in page.get_data(as_text=True)
    started = time.perf_counter()
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 303
    apply_seconds = time.perf_counter() - started
    assert db.session.scalar(select(func.count()).select_from(Product)) == 5001
    assert db.session.scalar(select(Product.base_price_fen).where(Product.code == "B04999")) == 19999
    print(f"\n5000 rows: preview {preview_seconds:.2f}s in {len(statements)} queries, apply {apply_seconds:.2f}s")
