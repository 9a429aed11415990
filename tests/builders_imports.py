"""Builders for the import/export tests: files in memory and a small priced catalog."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from openpyxl import Workbook, load_workbook

from app.extensions import db
from app.models import ContractPrice, PriceList, PriceListItem
from tests import factories

PRODUCT_HEADERS_ZH = ["商品编码", "条码", "分类编码", "中文名称", "英文名称", "规格", "单位", "箱规", "起订量",
                      "订购倍数", "保质期天数", "税率", "状态", "上市日期", "基础价"]


def csv_bytes(rows: list[list], encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def upload(client, kind: str, data: bytes, filename: str, htmx: bool = False):
    return client.post(f"/admin/imports/{kind}", {"file": (io.BytesIO(data), filename)}, htmx=htmx)


def batch_id_from(response) -> int:
    location = response.headers.get("Location") or response.headers["HX-Redirect"]
    return int(re.search(r"/admin/imports/batches/(\d+)", location).group(1))


def row_html(page: str, number: int) -> str:
    """The preview's table row for file row `number`."""
    match = re.search(rf'<tr id="row-{number}".*?</tr>', page, re.S)
    assert match, f"row {number} not in the preview"
    return match.group(0)


def priced_catalog():
    """Category DRINK; products P-WATER (GTIN 6901234567892, multiple 1) and P-TEA (multiple 6);
    price list LIST-A with a break; a contract for world's retailer. Call after the world fixture."""
    drinks = factories.category(code="DRINK", name_zh="饮料", name_en="Drinks")
    water = factories.product(drinks, code="P-WATER", gtin="6901234567892", name_zh="矿泉水",
                              name_en="Water", base_price_fen=2400, launch_date=date(2024, 3, 1))
    tea = factories.product(drinks, code="P-TEA", gtin=None, name_zh="绿茶", name_en="", spec="",
                            order_multiple=6, min_order_qty=6, tax_rate=9, status="draft", base_price_fen=3650)
    price_list = PriceList(code="LIST-A", name="A 类经销商", audience="dealer", tier="A")
    db.session.add(price_list)
    db.session.flush()
    db.session.add_all([
        PriceListItem(price_list_id=price_list.id, product_id=water.id, min_qty=1, price_fen=2200),
        PriceListItem(price_list_id=price_list.id, product_id=water.id, min_qty=50, price_fen=2100),
        PriceListItem(price_list_id=price_list.id, product_id=tea.id, min_qty=12, price_fen=3300),
    ])
    db.session.commit()
    return {"category": drinks, "water": water, "tea": tea, "price_list": price_list}


def add_contract(customer, product, **kw) -> ContractPrice:
    values = dict(min_qty=1, price_fen=1999, valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31),
                  reference="HT-2025-001")
    values.update(kw)
    contract = ContractPrice(customer_id=customer.id, product_id=product.id, **values)
    db.session.add(contract)
    db.session.commit()
    return contract
