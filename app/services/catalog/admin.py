"""Catalog administration: categories, products, product images and visibility rules.

Every create, update and delete writes an audit event. Image and visibility-rule changes are
recorded on the product (entity "product") so its history tells the whole story.

Checks return every problem at once (`*_problems`), so a form can show each message next to
its field; the write functions raise `InvalidInput` carrying them all. Services flush, the
caller commits."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (CHANNELS, DEALER_TIERS, TAX_RATES, Category, Product, ProductImage, ProductStatus,
                        ProductVisibility, Region)
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.catalog.gtin import is_valid_gtin
from app.services.catalog.images import PreparedImage, prepare_image
from app.services.catalog.search_text import pinyin_keys

CATEGORY_FIELDS = ["code", "name_zh", "name_en", "sort_order"]
PRODUCT_FIELDS = ["code", "gtin", "category_id", "name_zh", "name_en", "spec", "unit", "pack_size",
                  "min_order_qty", "order_multiple", "shelf_life_days", "tax_rate", "status", "launch_date",
                  "base_price_fen"]
RULE_FIELDS = ["id", "audience", "tier", "channel", "region_id"]
AUDIENCES = ("dealer", "retailer")
STATUSES = tuple(s.value for s in ProductStatus)


class InvalidInput(DomainError):
    """Several problems at once; `errors` holds one DomainError per problem."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


def _raise_if(problems: list[DomainError]) -> None:
    if problems:
        raise InvalidInput(problems)


def _text(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


# --- categories ---------------------------------------------------------------------------

def categories_query():
    return select(Category).order_by(Category.sort_order, Category.code)


def category_choices() -> list[tuple[int, str]]:
    return [(c.id, f"{c.code} {c.name_zh}") for c in db.session.scalars(categories_query())]


def product_counts(category_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(select(Product.category_id, func.count()).where(
        Product.category_id.in_(category_ids)).group_by(Product.category_id))
    return dict(rows.all())


def _clean_category(values: dict) -> dict:
    return {"code": _text(values.get("code")), "name_zh": _text(values.get("name_zh")),
            "name_en": _text(values.get("name_en")), "sort_order": int(values.get("sort_order") or 0)}


def category_problems(values: dict, category: Category | None = None) -> list[DomainError]:
    problems = []
    if not values["code"]:
        problems.append(DomainError(_("请输入分类编码。"), field="code"))
    else:
        clash = db.session.scalar(select(Category.id).where(Category.code == values["code"]))
        if clash is not None and (category is None or clash != category.id):
            problems.append(DomainError(_("分类编码已存在。"), field="code"))
    if not values["name_zh"]:
        problems.append(DomainError(_("请输入中文名称。"), field="name_zh"))
    return problems


def create_category(actor_id: int, values: dict) -> Category:
    values = _clean_category(values)
    _raise_if(category_problems(values))
    category = Category(**values)
    db.session.add(category)
    db.session.flush()
    audit.record(actor_id, "category.create", "category", category.id, None, audit.snapshot(category, CATEGORY_FIELDS))
    return category


def update_category(actor_id: int, category: Category, values: dict) -> Category:
    values = _clean_category(values)
    _raise_if(category_problems(values, category))
    before = audit.snapshot(category, CATEGORY_FIELDS)
    for name, value in values.items():
        setattr(category, name, value)
    audit.record(actor_id, "category.update", "category", category.id, before,
                 audit.snapshot(category, CATEGORY_FIELDS), keep=("code",))
    return category


def delete_category(actor_id: int, category: Category) -> None:
    if db.session.scalar(select(Product.id).where(Product.category_id == category.id).limit(1)) is not None:
        raise DomainError(_("该分类下还有商品，不能删除。"))
    audit.record(actor_id, "category.delete", "category", category.id, audit.snapshot(category, CATEGORY_FIELDS), None)
    db.session.delete(category)
    db.session.flush()


# --- products -----------------------------------------------------------------------------

def product_search(q: str = "", category_id: int | None = None, status: str | None = None):
    """A select() of products matching code, name, pinyin initials or GTIN, newest codes last."""
    query = select(Product).options(joinedload(Product.category, innerjoin=True))
    term = (q or "").strip()
    if term:
        query = query.where(or_(
            Product.code.icontains(term, autoescape=True),
            Product.name_zh.contains(term, autoescape=True),
            Product.name_en.icontains(term, autoescape=True),
            Product.pinyin.startswith(term.lower(), autoescape=True),
            Product.gtin.startswith(term, autoescape=True),
        ))
    if category_id:
        query = query.where(Product.category_id == category_id)
    if status:
        query = query.where(Product.status == status)
    return query.order_by(Product.code)


def _clean_product(values: dict) -> dict:
    cleaned = {name: values.get(name) for name in PRODUCT_FIELDS}
    for name in ("code", "name_zh", "name_en", "spec", "unit"):
        cleaned[name] = _text(cleaned[name])
    cleaned["gtin"] = _text(cleaned["gtin"]) or None
    return cleaned


def _positive(values: dict, name: str) -> bool:
    value = values.get(name)
    return isinstance(value, int) and value > 0


def product_problems(values: dict, product: Product | None = None) -> list[DomainError]:
    """Every rule a product's values break (database checks included), one error per field."""
    problems = []

    def problem(field: str, message: str) -> None:
        if all(p.field != field for p in problems):
            problems.append(DomainError(message, field=field))

    if not values["code"]:
        problem("code", _("请输入商品编码。"))
    gtin = values["gtin"]
    if gtin and not (gtin.isdigit() and len(gtin) in (8, 12, 13, 14)):
        problem("gtin", _("条码必须是 8、12、13 或 14 位数字。"))
    elif gtin and not is_valid_gtin(gtin):
        problem("gtin", _("条码校验位不正确。"))
    keys = [k for k in (values["code"], gtin) if k]
    if keys:
        own_id = product.id if product is not None else None
        for other_id, code, other_gtin in db.session.execute(
                select(Product.id, Product.code, Product.gtin).where(
                    or_(Product.code == values["code"], Product.gtin == gtin) if gtin else Product.code == values["code"])):
            if other_id == own_id:
                continue
            if code == values["code"]:
                problem("code", _("商品编码已被其他商品使用。"))
            if gtin and other_gtin == gtin:
                problem("gtin", _("条码已被商品 %(code)s 使用。", code=code))
    if not values["category_id"] or db.session.get(Category, values["category_id"]) is None:
        problem("category_id", _("请选择分类。"))
    if not values["name_zh"]:
        problem("name_zh", _("请输入中文名称。"))
    if not values["unit"]:
        problem("unit", _("请输入销售单位。"))
    for name in ("pack_size", "min_order_qty", "order_multiple", "shelf_life_days"):
        if not _positive(values, name):
            problem(name, _("必须是大于 0 的整数。"))
    if _positive(values, "min_order_qty") and _positive(values, "order_multiple") \
            and values["min_order_qty"] % values["order_multiple"]:
        problem("min_order_qty", _("起订量必须是订购倍数（%(m)d）的整数倍。", m=values["order_multiple"]))
    if values["tax_rate"] not in TAX_RATES:
        problem("tax_rate", _("税率只能是 13% 或 9%。"))
    if values["status"] not in STATUSES:
        problem("status", _("状态无效。"))
    price = values["base_price_fen"]
    if not isinstance(price, int) or price < 0:
        problem("base_price", _("请输入不小于 0 的价格。"))
    return problems


def _prepare_optional(image: bytes | None, problems: list[DomainError]) -> PreparedImage | None:
    if image is None:
        return None
    try:
        return prepare_image(image)
    except DomainError as error:
        problems.append(error)
        return None


def create_product(actor_id: int, values: dict, image: bytes | None = None) -> Product:
    """A new product (and its image when given); nothing is written if anything is wrong."""
    values = _clean_product(values)
    problems = product_problems(values)
    prepared = _prepare_optional(image, problems)
    _raise_if(problems)
    product = Product(**values, **pinyin_keys(values["name_zh"]))
    db.session.add(product)
    db.session.flush()
    audit.record(actor_id, "product.create", "product", product.id, None, audit.snapshot(product, PRODUCT_FIELDS))
    if prepared is not None:
        _store_image(actor_id, product, prepared)
    return product


def update_product(actor_id: int, product: Product, values: dict, image: bytes | None = None) -> Product:
    values = _clean_product(values)
    problems = product_problems(values, product)
    prepared = _prepare_optional(image, problems)
    _raise_if(problems)
    before = audit.snapshot(product, PRODUCT_FIELDS)
    for name, value in values.items():
        setattr(product, name, value)
    for name, value in pinyin_keys(product.name_zh).items():
        setattr(product, name, value)
    after = audit.snapshot(product, PRODUCT_FIELDS)
    if after != before:
        audit.record(actor_id, "product.update", "product", product.id, before, after, keep=("code",))
    if prepared is not None:
        _store_image(actor_id, product, prepared)
    db.session.flush()
    return product


# --- images -------------------------------------------------------------------------------

def _store_image(actor_id: int, product: Product, prepared: PreparedImage) -> None:
    row = db.session.get(ProductImage, product.id)
    before = {"image_version": product.image_version, "bytes": len(row.data) if row else 0}
    if row is None:
        row = ProductImage(product_id=product.id)
        db.session.add(row)
    row.content_type, row.data, row.thumbnail = prepared.content_type, prepared.data, prepared.thumbnail
    product.image_version += 1
    audit.record(actor_id, "product.image.update", "product", product.id, before,
                 {"image_version": product.image_version, "bytes": len(prepared.data),
                  "content_type": prepared.content_type})
    db.session.flush()


def set_product_image(actor_id: int, product: Product, image: bytes) -> None:
    _store_image(actor_id, product, prepare_image(image))


def remove_product_image(actor_id: int, product: Product) -> None:
    row = db.session.get(ProductImage, product.id)
    if row is None:
        raise DomainError(_("该商品没有图片。"))
    audit.record(actor_id, "product.image.delete", "product", product.id,
                 {"image_version": product.image_version, "bytes": len(row.data)}, None)
    db.session.delete(row)
    product.image_version += 1  # old URLs stop resolving to an image
    db.session.flush()


def product_image(product_id: int, thumbnail: bool, seen=None) -> tuple[bytes, str, int]:
    """(bytes, content type, current image version) of a product's image or thumbnail; NotFound
    without one, or when the product is outside `seen` (a condition on Product: what the
    viewer may see of the catalog, see visibility.seen_by_clause)."""
    column = ProductImage.thumbnail if thumbnail else ProductImage.data
    query = (select(column, ProductImage.content_type, Product.image_version)
             .join(Product, Product.id == ProductImage.product_id).where(ProductImage.product_id == product_id))
    row = db.session.execute(query.where(seen) if seen is not None else query).first()
    if row is None:
        raise NotFound(_("图片不存在。"))
    data, content_type, version = row
    return data, ("image/webp" if thumbnail else content_type), version


# --- visibility rules ---------------------------------------------------------------------

def visibility_rules(product_id: int) -> list[tuple[ProductVisibility, Region | None]]:
    return list(db.session.execute(
        select(ProductVisibility, Region).outerjoin(Region, Region.id == ProductVisibility.region_id)
        .where(ProductVisibility.product_id == product_id).order_by(ProductVisibility.id)).tuples())


def add_visibility_rule(actor_id: int, product: Product, *, audience: str | None, tier: str | None,
                        channel: str | None, region_code: str | None) -> ProductVisibility:
    audience, tier, channel, region_code = (_text(v) or None for v in (audience, tier, channel, region_code))
    problems = []
    if audience not in (None, *AUDIENCES):
        problems.append(DomainError(_("客户类型无效。"), field="audience"))
    if tier not in (None, *DEALER_TIERS):
        problems.append(DomainError(_("等级无效。"), field="tier"))
    if channel not in (None, *CHANNELS):
        problems.append(DomainError(_("渠道无效。"), field="channel"))
    if channel and audience == "dealer":
        problems.append(DomainError(_("渠道只适用于零售商。"), field="channel"))
    region = None
    if region_code:
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            problems.append(DomainError(_("没有编码为 %(code)s 的地区。", code=region_code), field="region_code"))
    if not problems and not any((audience, tier, channel, region)):
        problems.append(DomainError(_("请至少设定一个条件；没有规则的商品本来就对所有客户可见。"), field="audience"))
    region_id = region.id if region else None
    if not problems:
        for rule, _region in visibility_rules(product.id):
            if (rule.audience, rule.tier, rule.channel, rule.region_id) == (audience, tier, channel, region_id):
                problems.append(DomainError(_("相同的规则已存在。"), field="audience"))
    _raise_if(problems)
    rule = ProductVisibility(product_id=product.id, audience=audience, tier=tier, channel=channel, region_id=region_id)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor_id, "product.visibility.create", "product", product.id, None, audit.snapshot(rule, RULE_FIELDS))
    return rule


def delete_visibility_rule(actor_id: int, rule: ProductVisibility) -> None:
    audit.record(actor_id, "product.visibility.delete", "product", rule.product_id, audit.snapshot(rule, RULE_FIELDS), None)
    db.session.delete(rule)
    db.session.flush()
