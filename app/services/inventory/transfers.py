"""Transfers between two warehouses of the same owner (库存调配), and suggestions for them.

create → the source reserves the quantities (document "transfer:<id>");
ship   → lots leave the source first-expiry-first-out (transfer_out); the stock is in transit;
receive → the same lots (batch, dates) arrive in the destination (transfer_in);
cancel → only before shipping; releases the reservation.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import (MovementKind, Product, ReorderRule, StockBalance, StockLot, StockMovement, Transfer,
                        TransferLine, TransferStatus, Warehouse, utcnow)
from app.services.core.messages import message
from app.services.core import audit
from app.services.core.errors import DomainError
from app.services.inventory import allocation, ledger
from app.services.inventory.freed import stock_became_available
from app.services.inventory.reservations import release_document, reserve_stock, ship_reserved
from app.services.inventory.scope import StockScope
from app.services.core.clock import today_local


def create_transfer(source: Warehouse, dest: Warehouse, quantities: dict[int, int], *, actor_id: int | None,
                    note: str = "") -> Transfer:
    if source.id == dest.id:
        raise DomainError(_("调出仓库和调入仓库不能相同。"), field="dest_id")
    if source.owner_id != dest.owner_id:
        raise DomainError(_("只能在同一单位的仓库之间调配。"), field="dest_id")
    quantities = {pid: q for pid, q in quantities.items() if q}
    if not quantities:
        raise DomainError(_("请至少填写一个商品的调拨数量。"), field="lines")
    if any(q < 0 for q in quantities.values()):
        raise DomainError(_("数量必须大于 0。"), field="lines")
    transfer = Transfer(source_id=source.id, dest_id=dest.id, note=note.strip(), created_by_id=actor_id,
                        lines=[TransferLine(product_id=pid, qty=q) for pid, q in sorted(quantities.items())])
    db.session.add(transfer)
    db.session.flush()
    transfer.number = f"TR{transfer.id:08d}"
    not_expired = allocation.cutoffs_for(quantities, 0, today_local())
    reserve_stock(source.id, quantities, document=transfer.document, min_expiry=not_expired, actor_id=actor_id,
                  reason=message("stock.transfer", n=transfer.number))
    audit.record(actor_id, "transfer.create", "transfer", transfer.id, None,
                 {"source_id": source.id, "dest_id": dest.id, "lines": {str(k): v for k, v in quantities.items()}})
    return transfer


def _require(transfer: Transfer, status: TransferStatus) -> None:
    if transfer.status != status.value:
        raise DomainError(_("调拨单当前状态不能执行此操作。"), field="status")


def _set_status(transfer: Transfer, status: TransferStatus, actor_id: int | None) -> None:
    before = transfer.status
    transfer.status = status.value
    audit.record(actor_id, f"transfer.{status.value}", "transfer", transfer.id, {"status": before},
                 {"status": status.value})


def ship_transfer(transfer: Transfer, *, actor_id: int | None) -> None:
    _require(transfer, TransferStatus.CREATED)
    quantities = {line.product_id: line.qty for line in transfer.lines}
    ship_reserved(transfer.document, quantities, kind=MovementKind.TRANSFER_OUT.value,
                  on=today_local(), actor_id=actor_id,
                  reason=message("stock.transfer_out", n=transfer.number))
    transfer.shipped_at = utcnow()
    _set_status(transfer, TransferStatus.SHIPPED, actor_id)


def receive_transfer(transfer: Transfer, *, actor_id: int | None) -> None:
    """Every lot that left the source arrives in the destination under the same batch."""
    _require(transfer, TransferStatus.SHIPPED)
    shipped = db.session.execute(
        select(StockLot, -func.sum(StockMovement.on_hand_delta))
        .join(StockMovement, StockMovement.lot_id == StockLot.id)
        .where(StockMovement.document == transfer.document, StockMovement.kind == MovementKind.TRANSFER_OUT.value)
        .group_by(StockLot.id).order_by(StockLot.product_id, StockLot.expiry_date, StockLot.id)).all()
    for source_lot, qty in shipped:
        lot = ledger.find_or_create_lot(transfer.dest_id, source_lot.product_id, source_lot.batch_no,
                                        source_lot.expiry_date, source_lot.production_date)
        ledger.add_to_lot(MovementKind.TRANSFER_IN.value, lot, int(qty), actor_id=actor_id,
                          reason=message("stock.transfer_in", n=transfer.number), document=transfer.document)
    transfer.received_at = utcnow()
    _set_status(transfer, TransferStatus.RECEIVED, actor_id)
    stock_became_available(transfer.dest_id, [lot.product_id for lot, _qty in shipped], actor_id)


def cancel_transfer(transfer: Transfer, *, actor_id: int | None) -> None:
    _require(transfer, TransferStatus.CREATED)
    released = release_document(transfer.document, actor_id=actor_id,
                                reason=message("stock.transfer_cancelled", n=transfer.number))
    _set_status(transfer, TransferStatus.CANCELLED, actor_id)
    stock_became_available(transfer.source_id, released, actor_id)


def in_transit_to(warehouse_ids: list[int]) -> dict[tuple[int, int], int]:
    """{(dest warehouse, product): qty shipped and not yet received}."""
    rows = db.session.execute(
        select(Transfer.dest_id, TransferLine.product_id, func.sum(TransferLine.qty)).join(TransferLine)
        .where(Transfer.status == TransferStatus.SHIPPED.value, Transfer.dest_id.in_(warehouse_ids))
        .group_by(Transfer.dest_id, TransferLine.product_id)).all()
    return {(w, p): int(q) for w, p, q in rows}


@dataclass(frozen=True)
class Suggestion:
    product: Product
    source: Warehouse
    dest: Warehouse
    qty: int
    dest_available: int
    dest_reorder_point: int
    source_available: int


def suggest_transfers(scope: StockScope, limit: int = 200) -> list[Suggestion]:
    """Products at or below the reorder point in one warehouse and in surplus in another of the
    same owner. A warehouse's target is reorder point + safety stock (0 without a rule):
    it is short when available ≤ reorder point and needs target − available; another warehouse
    has available − target to spare. Each short warehouse is matched with the owner's warehouse
    having the largest surplus; the proposal is the smaller of need and surplus."""
    warehouses = {w.id: w for w in db.session.scalars(
        select(Warehouse).where(scope.warehouse_clause(), Warehouse.active.is_(True)))}
    if scope.sees_all:  # the brand manages transfers among its own warehouses only
        warehouses = {i: w for i, w in warehouses.items() if w.owner_id == scope.org_id}
    if len(warehouses) < 2:
        return []
    ids = list(warehouses)
    available = {(w, p): a for w, p, a in db.session.execute(
        select(StockBalance.warehouse_id, StockBalance.product_id, StockBalance.on_hand - StockBalance.reserved)
        .where(StockBalance.warehouse_id.in_(ids)))}
    levels = {(w, p): (rop, ss) for w, p, rop, ss in db.session.execute(
        select(ReorderRule.warehouse_id, ReorderRule.product_id, ReorderRule.reorder_point, ReorderRule.safety_stock)
        .where(ReorderRule.warehouse_id.in_(ids)))}
    by_product: dict[int, list[tuple]] = {}
    for w, p in set(available) | set(levels):  # a rule without stock is short; stock without a rule can give
        rop, ss = levels.get((w, p), (0, 0))
        by_product.setdefault(p, []).append((w, p, available.get((w, p), 0), rop, ss))
    found: list[tuple[int, int, int, int, int, int, int]] = []
    for product_id, entries in by_product.items():
        surplus = {w: avail - (rop + ss) for w, _p, avail, rop, ss in entries if avail - (rop + ss) > 0}
        for w, _p, avail, rop, ss in entries:
            if rop <= 0 or avail > rop:
                continue
            donors = [(s, d) for d, s in surplus.items()
                      if s > 0 and d != w and warehouses[d].owner_id == warehouses[w].owner_id]
            if not donors:
                continue
            spare, donor = max(donors)
            qty = min(rop + ss - avail, spare)
            surplus[donor] -= qty
            donor_avail = next(a for d, _p2, a, _r, _s in entries if d == donor)
            found.append((product_id, donor, w, qty, avail, rop, donor_avail))
    found.sort(key=lambda f: (warehouses[f[2]].code, f[0]))
    found = found[:limit]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_({f[0] for f in found})))}
    return [Suggestion(products[p], warehouses[s], warehouses[d], q, da, rop, sa) for p, s, d, q, da, rop, sa in found]
