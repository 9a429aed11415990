"""Stocktakes: open a count of a warehouse's lots (optionally one product), enter what was
found, post it. Posting sets each counted lot to the counted quantity and records the
difference as a `count` movement (document "count:<id>"); lots left blank are not changed."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import StockCount, StockCountLine, StockLot, utcnow
from app.services.core.messages import message
from app.services.core import audit
from app.services.core.errors import DomainError
from app.services.inventory.freed import stock_became_available
from app.services.inventory.operations import MAX_QTY, set_lot_quantity


def open_count(warehouse_id: int, *, actor_id: int | None, product_id: int | None = None, note: str = "") -> StockCount:
    query = select(StockLot).where(StockLot.warehouse_id == warehouse_id, StockLot.on_hand > 0)
    if product_id is not None:
        query = query.where(StockLot.product_id == product_id)
    lots = list(db.session.scalars(query.order_by(StockLot.product_id, StockLot.expiry_date, StockLot.id)))
    if not lots:
        raise DomainError(_("该仓库没有可盘点的批次。"), field="product_id")
    count = StockCount(warehouse_id=warehouse_id, note=note.strip(), created_by_id=actor_id,
                       lines=[StockCountLine(lot_id=lot.id, expected_qty=lot.on_hand) for lot in lots])
    db.session.add(count)
    db.session.flush()
    audit.record(actor_id, "stock.count.open", "stock_count", count.id, None, {"lots": len(lots)})
    return count


def _require_open(count: StockCount) -> None:
    if count.status != "open":
        raise DomainError(_("盘点单已结束，不能修改。"), field="status")


def record_counted(count: StockCount, counted: dict[int, int | None]) -> None:
    """{line_id: counted quantity or None (not counted yet)}; unknown line ids are refused."""
    _require_open(count)
    lines = {line.id: line for line in count.lines}
    for line_id, qty in counted.items():
        if line_id not in lines:
            raise DomainError(_("盘点行不存在。"), field="lines")
        if qty is not None and not 0 <= qty <= MAX_QTY:
            raise DomainError(_("盘点数量无效。"), field=f"line-{line_id}")
        lines[line_id].counted_qty = qty


def post_count(count: StockCount, *, actor_id: int | None) -> int:
    """Apply the counted quantities; returns the number of lots whose quantity changed."""
    _require_open(count)
    counted = [line for line in count.lines if line.counted_qty is not None]
    if not counted:
        raise DomainError(_("还没有录入任何盘点数量。"), field="lines")
    changed, more = 0, set()
    for line in sorted(counted, key=lambda x: (x.lot.product_id, x.lot_id)):
        difference = set_lot_quantity(line.lot, line.counted_qty, actor_id=actor_id,
                                      reason=message("stock.count", n=count.id), document=f"count:{count.id}")
        changed += difference != 0
        if difference > 0:
            more.add(line.lot.product_id)
    stock_became_available(count.warehouse_id, more, actor_id)
    count.status, count.posted_at = "posted", utcnow()
    audit.record(actor_id, "stock.count.post", "stock_count", count.id, {"status": "open"},
                 {"status": "posted", "lots_changed": changed})
    return changed


def cancel_count(count: StockCount, *, actor_id: int | None) -> None:
    _require_open(count)
    count.status = "cancelled"
    audit.record(actor_id, "stock.count.cancel", "stock_count", count.id, {"status": "open"}, {"status": "cancelled"})
