"""Importing products: upload (CSV, XLSX, GBK), preview with every reason a row fails, confirm
only for a clean file, re-validation on confirm, access rules and bad files."""
import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, ImportBatch, Product
from tests import factories
from tests.builders_imports import (PRODUCT_HEADERS_ZH, batch_id_from, csv_bytes, priced_catalog, row_html,
                                    upload, xlsx_bytes)


def zip_bytes(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def product_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def get_product(code: str) -> Product | None:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.code == code))


def test_clean_csv_previews_then_confirms(login_as, world):
    catalog = priced_catalog()
    c = login_as("admin")
    data = csv_bytes([
        PRODUCT_HEADERS_ZH,
        ["P-JUICE", "6901234567809", "DRINK", "农夫果园", "Fruit juice", "450ml×15", "箱", "15", "2", "2",
         "270", "13", "active", "2025-05-01", "45.90"],
        ["P-WATER", "6901234567892", "DRINK", "矿泉水", "Water", "500ml×24", "箱", "24", "1", "1",
         "365", "13", "active", "2024-03-01", "25.10"],
    ], bom=True)
    response = upload(c, "products", data, "商品.csv")
    assert response.status_code == 303
    batch_id = batch_id_from(response)
    assert product_count() == 2  # nothing written by the preview

    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "新增" in row_html(page, 2) and "农夫果园" in row_html(page, 2)
    assert "更新" in row_html(page, 3)
    assert "确认导入 2 行" in page

    response = c.post(f"/admin/imports/batches/{batch_id}/confirm")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/imports/batches/{batch_id}")
    assert "新增 1 行，更新 1 行" in c.get(response.headers["Location"]).get_data(as_text=True)

    juice = get_product("P-JUICE")
    assert (juice.gtin, juice.name_en, juice.pack_size, juice.min_order_qty, juice.order_multiple) == \
        ("6901234567809", "Fruit juice", 15, 2, 2)
    assert juice.base_price_fen == 4590 and juice.launch_date == date(2025, 5, 1)
    assert juice.pinyin == "nfgy" and juice.category_id == catalog["category"].id and juice.status == "active"
    assert get_product("P-WATER").base_price_fen == 2510
    actions = dict(db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
    assert actions == {"product.create": 1, "product.update": 1, "import.apply": 1}
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "product.update"))
    assert (update.before, update.after) == ({"base_price_fen": 2400, "code": "P-WATER"},
                                             {"base_price_fen": 2510, "code": "P-WATER"})
    assert db.session.get(ImportBatch, batch_id).status == "applied"
    # An applied batch offers no confirm and refuses a second one.
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 409
    assert product_count() == 3


def test_xlsx_with_english_headers_and_typed_cells(login_as, world):
    priced_catalog()
    c = login_as("admin")
    data = xlsx_bytes([
        ["code", "gtin", "category_code", "name_zh", "name_en", "pack_size", "tax_rate", "status",
         "launch_date", "base_price", "min_order_qty", "order_multiple"],
        ["P-COLA", 6901234567816, "DRINK", "可乐", "Cola", 24, 9, "在售", date(2025, 6, 1), 38.5, 4, 2],
        [None, None, None, None, None, None, None, None, None, None, None, None],  # blank rows are skipped
        ["P-TEA", None, None, None, None, None, None, None, None, 36.6, None, None],  # update: price only
    ])
    response = upload(c, "products", data, "products.xlsx")
    assert response.status_code == 303
    batch_id = batch_id_from(response)
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "新增" in row_html(page, 2) and "更新" in row_html(page, 4)
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 303
    cola = get_product("P-COLA")
    assert (cola.gtin, cola.tax_rate, cola.status, cola.base_price_fen, cola.launch_date) == \
        ("6901234567816", 9, "active", 3850, date(2025, 6, 1))
    tea = get_product("P-TEA")
    assert (tea.base_price_fen, tea.order_multiple, tea.tax_rate, tea.name_zh) == (3660, 6, 9, "绿茶")


def test_gbk_csv_from_chinese_excel(login_as, world):
    priced_catalog()
    c = login_as("admin")
    data = csv_bytes([["商品编码", "分类编码", "中文名称", "基础价"], ["P-MILK", "DRINK", "纯牛奶", "60"]],
                     encoding="gbk")
    response = upload(c, "products", data, "gbk.csv")
    batch_id = batch_id_from(response)
    assert "纯牛奶" in c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 303
    milk = get_product("P-MILK")
    assert (milk.name_zh, milk.pinyin, milk.base_price_fen, milk.status) == ("纯牛奶", "cnn", 6000, "draft")


ERROR_ROWS = [
    # (row in the file, cells, a message the preview shows for that row)
    (2, ["P-A", "", "NOPE", "甲", "", "", "", "", "", "", "", "13", "", "", "10"], "分类编码 NOPE 不存在"),
    (3, ["P-B", "6901234567891", "DRINK", "乙", "", "", "", "", "", "", "", "13", "", "", "10"],
     "条码 6901234567891 无效"),
    (4, ["P-C", "", "DRINK", "丙", "", "", "", "", "", "", "", "13", "", "", "10"], None),
    (5, ["P-C", "", "DRINK", "丙二", "", "", "", "", "", "", "", "13", "", "", "10"], "商品编码 P-C 与第 4 行重复"),
    (6, ["P-D", "6901234567892", "DRINK", "丁", "", "", "", "", "", "", "", "13", "", "", "10"],
     "条码 6901234567892 已被商品 P-WATER 使用"),
    (7, ["P-E", "", "DRINK", "戊", "", "", "", "", "", "", "", "13", "", "", "十块"], "基础价：请输入数字金额"),
    (8, ["P-F", "", "DRINK", "己", "", "", "", "", "", "", "", "13", "", "", "-1"], "基础价：金额不能为负数"),
    (9, ["P-G", "", "DRINK", "庚", "", "", "", "", "", "", "", "13", "", "", "1.234"], "基础价：金额最多两位小数"),
    (10, ["P-H", "", "DRINK", "辛", "", "", "", "", "", "", "", "6", "", "", "10"], "税率 只能是 13 / 9"),
    (11, ["P-I", "", "DRINK", "壬", "", "", "", "", "5", "2", "", "13", "", "", "10"],
     "起订量 5 不是订购倍数 2 的整数倍"),
    (12, ["P-J", "", "DRINK", "癸", "", "", "", "", "", "", "", "13", "", "2025-02-30", "10"],
     "上市日期 不是有效的日期"),
    (13, ["P-K", "", "DRINK", "", "", "", "", "", "", "", "", "13", "", "", ""], "缺少必填项：中文名称"),
    (14, ["", "", "DRINK", "无编码", "", "", "", "", "", "", "", "13", "", "", "10"], "缺少必填项：商品编码"),
    (15, ["P-L", "6901234567809", "DRINK", "子", "", "", "", "", "", "", "", "13", "", "", "10"], None),
    (16, ["P-M", "6901234567809", "DRINK", "丑", "", "", "", "", "", "", "", "13", "", "", "10"],
     "条码 6901234567809 与第 15 行重复"),
    (17, ["P-N", "", "DRINK", "寅", "", "", "", "0", "", "", "", "13", "sold", "", "10"], "箱规 必须是 1 到"),
    (18, ["P-TEA", "", "", "", "", "", "", "", "3", "", "", "", "", "", ""], "起订量 3 不是订购倍数 6 的整数倍"),
    (19, ["P-O", "6.90123E+12", "DRINK", "卯", "", "", "", "", "", "", "", "13", "", "", "10"],
     "条码 6.90123E+12 被 Excel 改成了科学计数法"),
    (20, ["P-P", "", "DRINK", "辰\n巳", "", "", "", "", "", "", "", "13", "", "", "10"], "中文名称 含有换行"),
]


def test_every_error_shows_with_its_row_number_and_blocks_confirm(login_as, world):
    priced_catalog()
    c = login_as("admin")
    data = csv_bytes([PRODUCT_HEADERS_ZH] + [cells for _n, cells, _m in ERROR_ROWS])
    batch_id = batch_id_from(upload(c, "products", data, "errors.csv"))
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    for number, _cells, message in ERROR_ROWS:
        if message:
            assert message in row_html(page, number), (number, message)
    assert "缺少必填项：基础价" in row_html(page, 13)
    assert "状态 只能是" in row_html(page, 17)
    assert "确认导入" not in page and "文件有错误，不能导入" in page

    before = product_count()
    response = c.post(f"/admin/imports/batches/{batch_id}/confirm")
    assert response.status_code == 422
    assert "文件有错误，不能导入" in response.get_data(as_text=True)
    assert product_count() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0

    only_errors = c.get(f"/admin/imports/batches/{batch_id}?errors=1").get_data(as_text=True)
    assert 'id="row-4"' not in only_errors and 'id="row-5"' in only_errors


def test_unknown_and_missing_columns_are_reported(login_as, world):
    priced_catalog()
    c = login_as("admin")
    data = csv_bytes([["名称", "价格备注", "基础价"], ["甲", "x", "10"]])
    batch_id = batch_id_from(upload(c, "products", data, "cols.csv"))
    page = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "无法识别的列：名称、价格备注" in page
    assert "缺少必需的列：商品编码" in page
    assert "确认导入" not in page
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 422


def test_confirm_checks_the_rows_again(login_as, world):
    catalog = priced_catalog()
    c = login_as("admin")
    data = csv_bytes([["code", "gtin", "category_code", "name_zh", "base_price"],
                      ["P-NEW", "6901234567809", "DRINK", "新品", "12.00"],
                      ["P-NEW2", "", "DRINK", "新品二", "13.00"]])
    batch_id = batch_id_from(upload(c, "products", data, "late.csv"))
    assert "确认导入 2 行" in c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    # Meanwhile someone gives that barcode to another product.
    factories.product(catalog["category"], code="P-OTHER", gtin="6901234567809")
    db.session.commit()

    response = c.post(f"/admin/imports/batches/{batch_id}/confirm")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 行现在不能导入" in page
    assert "条码 6901234567809 已被商品 P-OTHER 使用" in row_html(page, 2)
    assert get_product("P-NEW") is None and get_product("P-NEW2") is None  # all rows or none
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch_id).error_count == 1
    assert "确认导入" not in c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)


def test_discard_writes_nothing(login_as, world):
    priced_catalog()
    c = login_as("admin")
    data = csv_bytes([["code", "category_code", "name_zh", "base_price"], ["P-X", "DRINK", "某某", "1"]])
    batch_id = batch_id_from(upload(c, "products", data, "x.csv"))
    response = c.post(f"/admin/imports/batches/{batch_id}/discard")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/imports/products")
    assert c.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 409
    assert get_product("P-X") is None
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch_id).status == "discarded"


def test_htmx_upload_and_preview_fragment(login_as, world):
    priced_catalog()
    c = login_as("admin")
    data = csv_bytes([["code", "category_code", "name_zh", "base_price"], ["P-Y", "DRINK", "某某", "1"]])
    response = upload(c, "products", data, "y.csv", htmx=True)
    assert response.status_code == 204
    batch_id = batch_id_from(response)
    fragment = c.hx_get(f"/admin/imports/batches/{batch_id}")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and body.lstrip().startswith("<section id=\"import-rows\"")
    assert "<html" not in body and 'id="row-2"' in body
    full = c.get(f"/admin/imports/batches/{batch_id}").get_data(as_text=True)
    assert "<html" in full and 'id="row-2"' in full and "确认导入 1 行" in full
    assert "HX-Request" in fragment.headers["Vary"]
    batches = c.hx_get("/admin/imports/products").get_data(as_text=True)
    assert "<html" not in batches and "y.csv" in batches
    assert "<html" in c.get("/admin/imports/products").get_data(as_text=True)


@pytest.mark.parametrize("filename, data, message", [
    ("products.txt", b"code\nP1\n", "只支持 CSV 或 XLSX 文件"),
    ("products.xlsx", b"this is not a workbook", "无法读取该 XLSX 文件"),
    ("products.csv", b"PK\x03\x04\x00\x00binary", "这不是 CSV 文本文件"),
    ("products.csv", b"\xff\xfe\x00c\x00o", "这不是 CSV 文本文件"),
    ("products.csv", "商品编码\n".encode(), "文件中没有数据行"),
    ("products.csv", b"", "文件是空的"),
    ("", b"", "请选择要上传的文件"),
    ("products.csv", b'code\n"' + b"x" * 200_000 + b'"\n', "无法读取该 CSV 文件"),
    ("products.xlsx", zip_bytes({"hello.txt": "not a workbook"}), "无法读取该 XLSX 文件"),
])
def test_bad_files_get_a_message_next_to_the_file_field(login_as, world, filename, data, message):
    c = login_as("admin")
    response = upload(c, "products", data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field = page[page.index('id="field-file"'):]
    assert message in field[:field.index("</div>")]
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_row_limit(login_as, world, monkeypatch):
    from app.services.dataio import importing
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    c = login_as("admin")
    rows = [["code", "category_code", "name_zh", "base_price"]] + [[f"P{i}", "DRINK", "某", "1"] for i in range(4)]
    response = upload(c, "products", csv_bytes(rows), "big.csv")
    assert response.status_code == 400
    assert "文件超过 3 行数据，请拆分后分批导入" in response.get_data(as_text=True)


def test_upload_size_limit(login_as, world):
    c = login_as("admin")
    response = upload(c, "products", b"a" * (8 * 1024 * 1024 + 10), "huge.csv")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "文件不能超过 8 MB" in page[page.index('id="field-file"'):]


def test_access(login_as, world, client):
    priced_catalog()
    admin = login_as("admin")
    data = csv_bytes([["code", "category_code", "name_zh", "base_price"], ["P-Z", "DRINK", "某", "1"]])
    batch_id = batch_id_from(upload(admin, "products", data, "z.csv"))

    no_permission = login_as("admin_b")
    for url in ("/admin/imports", "/admin/imports/products", "/admin/imports/contract_prices",
                f"/admin/imports/batches/{batch_id}", "/admin/exports/products.csv",
                "/admin/exports/price_list_items.xlsx"):
        assert no_permission.get(url).status_code == 403, url
    assert upload(no_permission, "products", data, "z.csv").status_code == 403
    assert no_permission.post(f"/admin/imports/batches/{batch_id}/confirm").status_code == 403
    assert no_permission.post(f"/admin/imports/batches/{batch_id}/discard").status_code == 403
    assert get_product("P-Z") is None

    assert login_as("dealer").get("/admin/imports").status_code == 403
    response = client.get("/admin/imports/products")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert admin.get("/admin/imports/nothing").status_code == 404
    assert admin.get("/admin/exports/products.pdf").status_code == 404
    assert admin.get("/admin/imports/batches/999999").status_code == 404
    # The nav shows the link to admins who may import.
    assert "导入导出" in admin.get("/admin/").get_data(as_text=True)
    assert "导入导出" not in no_permission.get("/admin/").get_data(as_text=True)


def test_catalog_permission_alone_sees_only_products(login_as, world):
    world.users["admin_b"].permissions = "catalog"
    db.session.commit()
    c = login_as("admin_b")
    page = c.get("/admin/imports").get_data(as_text=True)
    assert "/admin/imports/products" in page and "/admin/imports/contract_prices" not in page
    assert c.get("/admin/imports/price_list_items").status_code == 403


def test_upload_without_csrf_is_refused(login_as, world):
    c = login_as("admin")
    response = c.request("POST", "/admin/imports/products",
                         data={"file": (io.BytesIO(b"code\nP1\n"), "a.csv")})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
