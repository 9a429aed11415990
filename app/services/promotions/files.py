"""A promotion's files: its product list as a spreadsheet (export, and import that replaces the
list through the same checked save as the form), and a coupon promotion's codes (CSV or XLSX)
to hand out. Reading and writing the files is app/services/dataio/spreadsheets.py's job."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import CouponCode, Organisation, Product, Promotion, User
from app.services.core.errors import DomainError
from app.services.dataio.spreadsheets import read_table
from app.services.promotions import admin

MAX_PRODUCT_ROWS = 5_000
PRODUCT_HEADERS = ("商品编码", "商品名称")


def product_rows(promotion: Promotion) -> tuple[list[str], list[list]]:
    rows = db.session.execute(select(Product.code, Product.name_zh).where(
        Product.id.in_(promotion.product_ids or [-1])).order_by(Product.code)).all()
    return [_("商品编码"), _("商品名称")], [[code, name] for code, name in rows]


def coupon_rows(promotion: Promotion) -> tuple[list[str], list[list]]:
    """Every code of a coupon promotion, with whom it is issued to and its uses."""
    if promotion.lane != "coupon":
        raise DomainError(_("只有优惠券类促销有券码。"))
    rows = db.session.execute(select(CouponCode.code, Organisation.code, CouponCode.max_uses, CouponCode.used_uses)
                              .outerjoin(Organisation, Organisation.id == CouponCode.customer_id)
                              .where(CouponCode.promotion_id == promotion.id).order_by(CouponCode.id)).all()
    return ([_("券码"), _("指定客户"), _("可用次数"), _("已用次数")],
            [[code, customer or "", "" if max_uses is None else max_uses, used] for code, customer, max_uses, used in rows])


def import_products(actor: User, promotion: Promotion, filename: str, data: bytes) -> Promotion:
    """Replace the promotion's product list with the codes in the file's first column (a header
    row first); unknown codes are named and nothing changes. Saved like the form (audit, version;
    a changed list is new terms, approved afresh where approval applies)."""
    if promotion.kind == "bundle":
        raise DomainError(_("套餐的商品在表单的套餐商品中填写。"), field="file")
    table = read_table(filename, data, MAX_PRODUCT_ROWS)
    codes = sorted({cells[0].strip().upper() for _n, cells in table.rows if cells and cells[0].strip()})
    if not codes:
        raise DomainError(_("文件中没有商品编码。"), field="file")
    found = dict(db.session.execute(select(Product.code, Product.id).where(Product.code.in_(codes))).all())
    missing = [code for code in codes if code not in found]
    if missing:
        raise DomainError(_("没有这些商品编码：%(codes)s", codes="、".join(missing[:5])), field="file")
    values = {name: getattr(promotion, name) for name in (
        "code", "name", "kind", "lane", "rule", "category_ids", "audience", "starts_at", "ends_at", "status", "funding",
        "brand_share_pct", "priority", "exclusive_group", "stop_further", "budget_fen", "budget_uses",
        "per_customer_limit")}
    values["product_ids"] = sorted(found.values())
    return admin.save_promotion(actor, db.session.get(Organisation, promotion.owner_id), values, promotion.id)
