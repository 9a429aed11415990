"""Stocktake pages and CSV/XLSX import with preview, per-row errors and all-or-nothing apply."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Product, StockBalance, StockCount, StockLot, StockMovement
from tests import factories
from tests.builders_stock import stock, warehouse


@pytest.fixture
def wh(world):
    w = warehouse(world.orgs["dealer"], world.regions["hz"], code="HZ-1")
    warehouse(world.orgs["dealer_b"], world.regions["cd"], code="CD-1")
    factories.product(code="WATER", shelf_life_days=365)
    factories.product(code="TEA", shelf_life_days=180)
    db.session.commit()
    return w


def _on_hand(code: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(StockBalance.on_hand), 0))
                             .join(StockBalance.product).where(StockBalance.product.has(code=code)))


def _upload(c, content: bytes, filename: str):
    return c.post("/dealer/stock/import", {"file": (io.BytesIO(content), filename)},
                  content_type="multipart/form-data")


def test_stocktake_pages(login_as, wh):
    lot = stock(wh, db.session.scalar(select(Product).where(Product.code == "WATER")), 10, batch="L1")
    db.session.commit()
    c = login_as("dealer")
    assert "新建盘点单" in c.get("/dealer/stock/counts/").get_data(as_text=True)
    unknown = c.post("/dealer/stock/counts/new", {"warehouse_id": wh.id, "product_code": "NOPE"})
    assert unknown.status_code == 400 and "商品编码不存在" in unknown.get_data(as_text=True)
    response = c.post("/dealer/stock/counts/new", {"warehouse_id": wh.id})
    assert response.status_code == 303
    count = db.session.scalar(select(StockCount))
    url = f"/dealer/stock/counts/{count.id}"
    page = c.get(url).get_data(as_text=True)
    assert "L1" in page and "过账" in page
    line_id = count.lines[0].id
    bad = c.post(url, {"lines-0-line_id": line_id, "lines-0-counted": "-4"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert c.post(url, {"lines-0-line_id": line_id, "lines-0-counted": "8"}).status_code == 303
    assert "-2" in c.get(url).get_data(as_text=True)
    assert c.post(url + "/post", {}).status_code == 303
    assert _on_hand("WATER") == 8
    assert db.session.get(StockLot, lot.id).on_hand == 8
    assert "已过账" in c.get("/dealer/stock/counts/").get_data(as_text=True)
    assert 'id="counts"' in c.hx_get("/dealer/stock/counts/").get_data(as_text=True)
    other = login_as("dealer_b")
    assert other.get(url).status_code == 404


CSV_OK = ("kind,warehouse_code,product_code,batch_no,qty,production_date,expiry_date,external_ref\n"
          "receipt,HZ-1,WATER,W1,100,2026-01-01,,R-1\n"
          "level,HZ-1,TEA,T1,40,,2027-06-30,\n").encode()


def test_csv_import_preview_then_apply(login_as, wh):
    c = login_as("dealer")
    c.get("/dealer/stock/import")
    response = _upload(c, CSV_OK, "stock.csv")
    assert response.status_code == 303
    preview_url = response.headers["Location"]
    preview = c.get(preview_url).get_data(as_text=True)
    assert "确认导入 2 行" in preview
    assert _on_hand("WATER") == 0  # nothing written before confirming
    applied = c.post(preview_url + "/apply", {})
    assert applied.status_code == 303 and applied.headers["Location"].endswith("/dealer/stock/")
    assert _on_hand("WATER") == 100 and _on_hand("TEA") == 40
    again = c.post(preview_url + "/apply", {})
    assert again.status_code == 303 and _on_hand("WATER") == 100
    # the same file again: the referenced receipt is a duplicate, the level is simply set again
    second = _upload(c, CSV_OK, "stock.csv")
    c.post(second.headers["Location"] + "/apply", {})
    assert _on_hand("WATER") == 100 and _on_hand("TEA") == 40


def test_file_with_errors_shows_them_per_row_and_writes_nothing(login_as, wh):
    c = login_as("dealer")
    c.get("/dealer/stock/import")
    content = ("类型,仓库编码,商品编码,批号,数量,生产日期\n"
               "receipt,HZ-1,WATER,W1,10,2026-01-01\n"
               "receipt,CD-1,WATER,W2,10,2026-01-01\n"
               "receipt,HZ-1,NOPE,W3,ten,2026-13-01\n").encode("gb18030")
    response = _upload(c, content, "bad.csv")
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "有 4 处错误" in page
    assert "warehouse_code：仓库编码不存在或不属于本单位" in page
    assert "product_code：商品编码不存在" in page and "qty：数量必须是整数" in page
    assert "确认导入" not in page
    batch_id = response.headers["Location"].rsplit("/", 1)[1]
    refused = c.post(f"/dealer/stock/import/{batch_id}/apply", {})
    assert refused.status_code == 422
    assert _on_hand("WATER") == 0 and db.session.scalar(select(func.count()).select_from(StockMovement)) == 0
    assert login_as("dealer_b").get(f"/dealer/stock/import/{batch_id}").status_code == 404


def test_level_below_reserved_fails_the_whole_file_when_applied(login_as, wh, world):
    from app.services.inventory import reserve_order
    from tests.builders_stock import order

    water = db.session.scalar(select(Product).where(Product.code == "WATER"))
    stock(wh, water, 10, batch="W1")
    reserve_order(order(world.orgs["retailer"], world.orgs["dealer"], {water: 8}).id, None)
    db.session.commit()
    c = login_as("dealer")
    c.get("/dealer/stock/import")
    content = b"kind,warehouse_code,product_code,batch_no,qty,expiry_date\nreceipt,HZ-1,TEA,T9,5,2027-01-01\nlevel,HZ-1,WATER,W1,3,\n"
    preview = _upload(c, content, "x.csv").headers["Location"]
    response = c.post(preview + "/apply", {})
    assert response.status_code == 422 and "低于已预留数量" in response.get_data(as_text=True)
    assert _on_hand("TEA") == 0 and _on_hand("WATER") == 10


def test_xlsx_import_and_rejected_file_type(login_as, wh):
    c = login_as("dealer")
    c.get("/dealer/stock/import")
    book = Workbook()
    sheet = book.active
    sheet.append(["kind", "warehouse_code", "product_code", "batch_no", "qty", "expiry_date"])
    sheet.append(["receipt", "HZ-1", "WATER", "X1", 7, "2027-03-01"])
    data = io.BytesIO()
    book.save(data)
    response = _upload(c, data.getvalue(), "stock.xlsx")
    c.post(response.headers["Location"] + "/apply", {})
    assert _on_hand("WATER") == 7
    wrong = _upload(c, b"hello", "stock.txt")
    assert wrong.status_code == 400 and 'id="file-msg"' in wrong.get_data(as_text=True)
