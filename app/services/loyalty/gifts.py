"""The points catalog: gift products the brand offers for points, each with a points price and
a cap on how many may be claimed in all.

A claim (`claim_gift`) takes the points (FEFO, conditional UPDATE of the balance) and one unit
of the cap (conditional UPDATE `claimed + qty <= stock_cap`) in the caller's transaction, or
refuses with nothing changed. The gift waits as a pending claim and rides the retailer's next
order as a zero-priced line (services/loyalty/lane.py)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import PointsGift, PointsGiftClaim, Product
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.loyalty import ledger

MAX_CLAIM_QTY = 10
AUDIT_FIELDS = ["product_id", "points_price", "stock_cap", "active"]


def catalog(active_only: bool = True) -> list[PointsGift]:
    query = select(PointsGift).join(Product, Product.id == PointsGift.product_id).order_by(PointsGift.points_price,
                                                                                          PointsGift.id)
    if active_only:
        query = query.where(PointsGift.active.is_(True), PointsGift.claimed < PointsGift.stock_cap)
    return list(db.session.scalars(query.options(joinedload(PointsGift.product))))


def gift(gift_id: int) -> PointsGift:
    row = db.session.get(PointsGift, gift_id) if isinstance(gift_id, int) and 0 < gift_id < 2**31 else None
    if row is None:
        raise NotFound(_("礼品不存在。"))
    return row


def save_gift(actor_id: int, product_code: str, points_price: int, stock_cap: int, active: bool,
              gift_id: int | None = None) -> PointsGift:
    code = (product_code or "").strip()
    product = db.session.scalar(select(Product).where(Product.code == code)) if code else None
    if product is None:
        raise DomainError(_("没有这个商品编码。"), field="product_code")
    row = PointsGift(claimed=0) if gift_id is None else gift(gift_id)
    clash = db.session.scalar(select(PointsGift.id).where(PointsGift.product_id == product.id))
    if clash is not None and clash != gift_id:
        raise DomainError(_("该商品已在积分商城中。"), field="product_code")
    if stock_cap < (row.claimed or 0):
        raise DomainError(_("数量上限不能低于已兑换的 %(n)d。", n=row.claimed), field="stock_cap")
    before = audit.snapshot(row, AUDIT_FIELDS) if gift_id else None
    row.product_id, row.points_price, row.stock_cap, row.active = product.id, points_price, stock_cap, bool(active)
    if gift_id is None:
        db.session.add(row)
    db.session.flush()
    audit.record(actor_id, "loyalty.gift", "points_gift", row.id, before, audit.snapshot(row, AUDIT_FIELDS))
    return row


def claim_gift(retailer_id: int, gift_id: int, qty: int = 1) -> PointsGiftClaim:
    """Buy `qty` of a gift with points; refused (nothing changed once the caller rolls back)
    when the gift is inactive, its cap is reached or the balance is short."""
    if not isinstance(qty, int) or not 1 <= qty <= MAX_CLAIM_QTY:
        raise DomainError(_("数量须在 1 到 %(n)d 之间。", n=MAX_CLAIM_QTY), field="qty")
    row = gift(gift_id)
    if not row.active:
        raise NotFound(_("礼品不存在。"))
    taken = db.session.execute(update(PointsGift).where(
        PointsGift.id == row.id, PointsGift.active.is_(True), PointsGift.claimed + qty <= PointsGift.stock_cap)
        .values(claimed=PointsGift.claimed + qty).execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise DomainError(_("该礼品已兑完。"), field="qty")
    points = row.points_price * qty
    claim = PointsGiftClaim(retailer_id=retailer_id, gift_id=row.id, product_id=row.product_id, qty=qty,
                            points=points, status="pending")
    db.session.add(claim)
    db.session.flush()
    ledger.spend(retailer_id, points, "gift", f"gift:claim:{claim.id}")
    return claim
