"""Hand-made stock changes: receive into a lot, adjust a lot with a reason, set a lot to a
counted quantity, write off an expired lot. Each goes through the ledger and the audit trail."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import MovementKind, Product, StockLot, Warehouse
from app.services.core.messages import Message, message
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.inventory import ledger
from app.services.inventory.freed import stock_became_available
from app.services.core.clock import today_local

MAX_QTY = 10_000_000


def expiry_from(product: Product, production_date: date | None, expiry_date: date | None) -> date:
    """The given expiry date, else production date + shelf life."""
    if expiry_date is not None:
        if production_date is not None and expiry_date <= production_date:
            raise DomainError(_("到期日必须晚于生产日期。"), field="expiry_date")
        return expiry_date
    if production_date is None:
        raise DomainError(_("请填写生产日期或到期日。"), field="production_date")
    return production_date + timedelta(days=product.shelf_life_days)


def _check_qty(qty: int, field: str = "qty") -> None:
    if qty <= 0:
        raise DomainError(_("数量必须大于 0。"), field=field)
    if qty > MAX_QTY:
        raise DomainError(_("数量过大。"), field=field)


def receive_stock(warehouse_id: int, product_id: int, qty: int, batch_no: str, *, actor_id: int | None,
                  production_date: date | None = None, expiry_date: date | None = None, reason: str = "",
                  document: str = "", kind: str = MovementKind.RECEIPT.value, free_waiting: bool = True) -> StockLot:
    """Put `qty` into the batch's lot (created when new; an existing batch must have the same
    expiry date). `free_waiting=False` in a loop of receipts: the caller then calls
    freed.stock_became_available once at the end, after every balance row is locked in order."""
    _check_qty(qty)
    product = db.session.get(Product, product_id)
    if product is None:
        raise DomainError(_("商品不存在。"), field="product_code")
    batch_no = (batch_no or "").strip()
    if not batch_no:
        raise DomainError(_("请填写批号。"), field="batch_no")
    existing = db.session.scalar(select(StockLot).where(StockLot.warehouse_id == warehouse_id,
                                                        StockLot.product_id == product_id, StockLot.batch_no == batch_no))
    if existing is not None:
        if expiry_date is not None and expiry_date != existing.expiry_date:
            raise DomainError(_("该批号已存在，到期日为 %(d)s。", d=existing.expiry_date.isoformat()), field="expiry_date")
        lot = existing
    else:
        lot = ledger.find_or_create_lot(warehouse_id, product_id, batch_no,
                                        expiry_from(product, production_date, expiry_date), production_date)
    ledger.add_to_lot(kind, lot, qty, actor_id=actor_id, reason=reason or message("stock.received"), document=document)
    if kind == MovementKind.RECEIPT.value and actor_id is not None and not document:
        audit.record(actor_id, "stock.receive", "stock_lot", lot.id, None, {"qty": qty, "batch_no": batch_no})
    if free_waiting:
        stock_became_available(warehouse_id, [product_id], actor_id)
    return lot


def lot_in(warehouse_id: int, lot_id: int) -> StockLot:
    lot = db.session.scalar(select(StockLot).where(StockLot.id == lot_id, StockLot.warehouse_id == warehouse_id))
    if lot is None:
        raise NotFound(_("批次不存在。"))
    return lot


def _current_on_hand(lot: StockLot) -> int:
    return db.session.scalar(select(StockLot.on_hand).where(StockLot.id == lot.id))


def adjust_lot(lot: StockLot, delta: int, reason: str | Message, *, actor_id: int | None) -> None:
    """Add (or, negative, remove) stock in a lot, with a reason (damage, found stock, ...): typed,
    or a Message when the system adjusts. A decrease may not take stock that is reserved."""
    if not isinstance(reason, Message):
        reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写调整原因。"), field="reason")
    if delta == 0:
        raise DomainError(_("调整数量不能为 0。"), field="delta")
    if abs(delta) > MAX_QTY:
        raise DomainError(_("数量过大。"), field="delta")
    before = _current_on_hand(lot)
    if delta > 0:
        ledger.add_to_lot(MovementKind.ADJUST.value, lot, delta, actor_id=actor_id, reason=reason)
    elif not ledger.take_from_lot(MovementKind.ADJUST.value, lot, -delta, actor_id=actor_id, reason=reason):
        raise DomainError(_("调减数量超过该批次可用库存（已预留的库存不能调减）。"), field="delta")
    audit.record(actor_id, "stock.adjust", "stock_lot", lot.id, {"on_hand": before},
                 {"on_hand": before + delta, "reason": reason})
    if delta > 0:
        stock_became_available(lot.warehouse_id, [lot.product_id], actor_id)


def set_lot_quantity(lot: StockLot, counted: int, *, actor_id: int | None, reason: str, document: str = "",
                     kind: str = MovementKind.COUNT.value) -> int:
    """Set a lot to a counted quantity, recording the difference; returns the difference. A
    primitive used in loops: the caller calls freed.stock_became_available once at the end."""
    if counted < 0 or counted > MAX_QTY:
        raise DomainError(_("盘点数量无效。"), field="counted_qty")
    ledger.change_balance(lot.warehouse_id, lot.product_id)  # lock the balance before reading the lot
    before = _current_on_hand(lot)
    difference = counted - before
    if difference > 0:
        ledger.add_to_lot(kind, lot, difference, actor_id=actor_id, reason=reason, document=document)
    elif difference < 0 and not ledger.take_from_lot(kind, lot, -difference, actor_id=actor_id, reason=reason,
                                                     document=document):
        raise DomainError(_("批次 %(b)s 盘点数 %(n)d 低于已预留数量，请先处理预留。", b=lot.batch_no, n=counted),
                          field="counted_qty")
    return difference


def expire_lot(lot: StockLot, *, actor_id: int | None, today: date | None = None) -> int:
    """Write off what is left of an expired lot; returns the quantity written off."""
    today = today or today_local()
    if lot.expiry_date > today:
        raise DomainError(_("该批次尚未过期。"), field="lot_id")
    ledger.change_balance(lot.warehouse_id, lot.product_id)
    qty = _current_on_hand(lot)
    if qty == 0:
        raise DomainError(_("该批次已无库存。"), field="lot_id")
    if not ledger.take_from_lot(MovementKind.EXPIRE.value, lot, qty, actor_id=actor_id,
                                reason=message("stock.expired")):
        raise DomainError(_("该批次的库存已被预留，请先释放预留。"), field="lot_id")
    audit.record(actor_id, "stock.expire", "stock_lot", lot.id, {"on_hand": qty}, {"on_hand": 0})
    return qty


def create_warehouse(actor_id: int, *, owner_id: int, code: str, name: str, region_id: int, address: str = "",
                     is_default: bool = False) -> Warehouse:
    code = code.strip().upper()
    if db.session.scalar(select(Warehouse.id).where(Warehouse.code == code)):
        raise DomainError(_("仓库编码已存在。"), field="code")
    if is_default:
        for other in db.session.scalars(select(Warehouse).where(Warehouse.owner_id == owner_id, Warehouse.is_default)):
            other.is_default = False
    warehouse = Warehouse(code=code, name=name.strip(), owner_id=owner_id, region_id=region_id,
                          address=address.strip(), is_default=is_default)
    db.session.add(warehouse)
    db.session.flush()
    audit.record(actor_id, "warehouse.create", "warehouse", warehouse.id, None,
                 audit.snapshot(warehouse, ["code", "name", "owner_id", "region_id", "is_default"]))
    return warehouse
