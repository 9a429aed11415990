"""Products from a file: which rows create a product, which update one (matched by code), and
why a row cannot be imported.

An empty cell means "not given": a new product takes the default, an existing one keeps its
value. Existing data is loaded in a fixed number of queries whatever the number of rows."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import TAX_RATES, Category, Product, ProductStatus
from app.services.core.messages import message
from app.services.core import audit
from app.services.catalog.gtin import is_valid_gtin
from app.services.dataio.fields import CheckedRow, Column, RowReader, in_chunks
from app.services.catalog.search_text import pinyin_keys

COLUMNS = (
    Column("code", "商品编码", ("product_code",)),
    Column("gtin", "条码", ("barcode",)),
    Column("category_code", "分类编码"),
    Column("name_zh", "中文名称"),
    Column("name_en", "英文名称"),
    Column("spec", "规格"),
    Column("unit", "单位"),
    Column("pack_size", "箱规"),
    Column("min_order_qty", "起订量"),
    Column("order_multiple", "订购倍数"),
    Column("shelf_life_days", "保质期天数"),
    Column("tax_rate", "税率"),
    Column("status", "状态"),
    Column("launch_date", "上市日期"),
    Column("base_price", "基础价"),
)
REQUIRED_COLUMNS = ("code",)

STATUS_CHOICES = {
    "draft": ProductStatus.DRAFT.value, "草稿": ProductStatus.DRAFT.value,
    "active": ProductStatus.ACTIVE.value, "在售": ProductStatus.ACTIVE.value, "上架": ProductStatus.ACTIVE.value,
    "discontinued": ProductStatus.DISCONTINUED.value, "停售": ProductStatus.DISCONTINUED.value,
    "下架": ProductStatus.DISCONTINUED.value,
}
DEFAULTS = {"gtin": None, "name_en": "", "spec": "", "unit": "箱", "pack_size": 1, "min_order_qty": 1,
            "order_multiple": 1, "shelf_life_days": 365, "tax_rate": 13, "status": ProductStatus.DRAFT.value,
            "launch_date": None}
AUDITED_FIELDS = ["code", "gtin", "category_id", "name_zh", "name_en", "spec", "unit", "pack_size",
                  "min_order_qty", "order_multiple", "shelf_life_days", "tax_rate", "status",
                  "launch_date", "base_price_fen"]  # as app/services/catalog/admin.py records them
TEXT_LIMITS = (("name_zh", 100), ("name_en", 100), ("spec", 60), ("unit", 10))
INTEGER_LIMITS = (("pack_size", 1, 10_000), ("min_order_qty", 1, 100_000), ("order_multiple", 1, 100_000),
                  ("shelf_life_days", 1, 3_650))


class _Existing:
    """What the database already holds for the codes and barcodes in the file."""

    def __init__(self, rows: list[tuple[int, dict]]):
        codes = {v["code"] for _n, v in rows if v.get("code")}
        gtins = {v["gtin"] for _n, v in rows if v.get("gtin")}
        self.categories = dict(db.session.execute(select(Category.code, Category.id)).all())
        self.products: dict[str, Product] = {}
        for chunk in in_chunks(codes):
            self.products.update((p.code, p) for p in db.session.scalars(select(Product).where(Product.code.in_(chunk))))
        self.gtin_owners: dict[str, str] = {}
        for chunk in in_chunks(gtins):
            self.gtin_owners.update(db.session.execute(
                select(Product.gtin, Product.code).where(Product.gtin.in_(chunk))).all())


def check_products(rows: list[tuple[int, dict]]) -> list[CheckedRow]:
    existing = _Existing(rows)
    first_row_of_code: dict[str, int] = {}
    first_row_of_gtin: dict[str, int] = {}
    checked = []
    for number, values in rows:
        reader = RowReader(values, COLUMNS)
        fields: dict = {}
        code = reader.text("code", 30) if reader.require("code") else None
        product = existing.products.get(code) if code else None
        if code:
            if code in first_row_of_code:
                reader.error(message("import.product_repeated", code=code, row=first_row_of_code[code]))
            first_row_of_code.setdefault(code, number)
            fields["code"] = code
        if product is None:
            reader.require("category_code", "name_zh", "base_price")
        _check_category(reader, existing, fields)
        _check_gtin(reader, existing, code, first_row_of_gtin, number, fields)
        for key, limit in TEXT_LIMITS:
            value = reader.text(key, limit)
            if value is not None:
                fields[key] = value
        for key, low, high in INTEGER_LIMITS:
            value = reader.integer(key, low, high)
            if value is not None:
                fields[key] = value
        for key, value in (("tax_rate", reader.tax_rate("tax_rate", TAX_RATES)),
                           ("status", reader.choice("status", STATUS_CHOICES)),
                           ("launch_date", reader.date("launch_date")),
                           ("base_price_fen", reader.money_fen("base_price"))):
            if value is not None:
                fields[key] = value
        _check_order_quantities(reader, product, fields)
        checked.append(_planned(number, values, reader.errors, product, fields))
    return checked


def _check_category(reader: RowReader, existing: _Existing, fields: dict) -> None:
    category_code = reader.text("category_code", 20)
    if category_code is None:
        return
    if category_code not in existing.categories:
        reader.error(message("import.no_category", code=category_code))
    else:
        fields["category_id"] = existing.categories[category_code]


def _check_gtin(reader: RowReader, existing: _Existing, code: str | None, first_row_of_gtin: dict,
                number: int, fields: dict) -> None:
    gtin = reader.text("gtin", 14)
    if gtin is None:
        return
    owner = existing.gtin_owners.get(gtin)
    if "E+" in gtin.upper():
        reader.error(message("import.gtin_scientific", gtin=gtin))
    elif not is_valid_gtin(gtin):
        reader.error(message("import.gtin_invalid", gtin=gtin))
    elif gtin in first_row_of_gtin:
        reader.error(message("import.gtin_repeated", gtin=gtin, row=first_row_of_gtin[gtin]))
    elif owner is not None and owner != code:
        reader.error(message("import.gtin_taken", gtin=gtin, other=owner))
    else:
        fields["gtin"] = gtin
    first_row_of_gtin.setdefault(gtin, number)


def _check_order_quantities(reader: RowReader, product: Product | None, fields: dict) -> None:
    if "min_order_qty" not in fields and "order_multiple" not in fields:
        return

    def effective(key):
        return fields.get(key, getattr(product, key) if product is not None else DEFAULTS[key])

    minimum, multiple = effective("min_order_qty"), effective("order_multiple")
    if minimum % multiple:
        reader.error(message("import.min_not_multiple", qty=minimum, multiple=multiple))


def _planned(number: int, values: dict, errors: list[str], product: Product | None, fields: dict) -> CheckedRow:
    if errors:
        return CheckedRow(number, values, errors)
    if product is None:
        return CheckedRow(number, values, errors, "create", {**DEFAULTS, **fields})
    changes = {k: v for k, v in fields.items() if getattr(product, k) != v}
    return CheckedRow(number, values, errors, "update" if changes else "unchanged", changes, product)


def apply_products(actor_id: int, checked: list[CheckedRow]) -> None:
    """Create and update the products of valid, checked rows; one audit event per product."""
    created = []
    for row in checked:
        if row.action == "create":
            product = Product(**row.changes, **pinyin_keys(row.changes["name_zh"]))
            db.session.add(product)
            created.append(product)
        elif row.action == "update":
            product = row.target
            before = audit.snapshot(product, AUDITED_FIELDS)
            for key, value in row.changes.items():
                setattr(product, key, value)
            if "name_zh" in row.changes:
                for name, value in pinyin_keys(product.name_zh).items():
                    setattr(product, name, value)
            audit.record(actor_id, "product.update", "product", product.id, before,
                         audit.snapshot(product, AUDITED_FIELDS), keep=("code",))
    db.session.flush()
    for product in created:
        audit.record(actor_id, "product.create", "product", product.id, None, audit.snapshot(product, AUDITED_FIELDS))
