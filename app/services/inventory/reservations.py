"""Reserving stock for documents (orders, transfers), releasing it, and shipping it.

All or nothing: `reserve_stock` reserves every product or none. It raises `StockShortage`
naming every short product, having undone its own changes, so the caller's transaction is left
as it found it (no savepoint needed; the balance rows it touched stay locked until the caller
commits or rolls back, which is harmless).

Concurrency: each product is reserved by one conditional UPDATE
(`reserved = reserved + q WHERE on_hand - reserved >= q`), in ascending product id, so many
processes reserving the same products never oversell and never deadlock (see ledger.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, select

from app.extensions import db
from app.models import MovementKind, Product, StockBalance, StockReservation, utcnow
from app.services.core.errors import DomainError
from app.services.core.messages import joined, message
from app.services.inventory import allocation, ledger


@dataclass(frozen=True)
class Shortage:
    product_id: int
    code: str
    name: str
    requested: int
    available: int
    shelf_life: bool = False  # short only of lots with enough shelf life left


class StockShortage(DomainError):
    """Not enough stock for one or more products; `shortages` says which and by how much."""

    def __init__(self, shortages: list[Shortage], field: str | None = None):
        parts = []
        for s in shortages:
            if s.shelf_life:
                parts.append(message("stock.short_shelf_life", code=s.code, name=s.name, req=s.requested))
            else:
                parts.append(message("stock.short_line", code=s.code, name=s.name, req=s.requested,
                                     avail=s.available))
        # `detail` is kept with a held order's review reasons; the error text is for this reader
        self.detail = message("stock.short", items=joined(parts, "；"))
        super().__init__(str(self.detail), field=field)
        self.shortages = shortages


def _available(warehouse_id: int, product_id: int) -> int:
    row = db.session.execute(select(StockBalance.on_hand, StockBalance.reserved).where(
        StockBalance.warehouse_id == warehouse_id, StockBalance.product_id == product_id)).first()
    return (row[0] - row[1]) if row else 0


def _shortage(product_id: int, requested: int, available: int, shelf_life: bool = False) -> Shortage:
    code, name = db.session.execute(select(Product.code, Product.name_zh).where(Product.id == product_id)).one()
    return Shortage(product_id, code, name, requested, available, shelf_life)


def reserve_stock(warehouse_id: int, quantities: dict[int, int], *, document: str, min_expiry: dict[int, date],
                  actor_id: int | None, reason: str = "") -> None:
    """Reserve `quantities` ({product_id: qty > 0}) in the warehouse for `document`, each
    product only from lots expiring on or after `min_expiry[product_id]`."""
    wanted = {pid: q for pid, q in sorted(quantities.items()) if q > 0}
    done: list[int] = []
    shortages: list[Shortage] = []
    for product_id, qty in wanted.items():
        if shortages:  # already failing: only find out what else is short, take no more locks
            available = _available(warehouse_id, product_id)
            if available < qty:
                shortages.append(_shortage(product_id, qty, available))
            continue
        if not ledger.change_balance(warehouse_id, product_id, reserved_delta=qty):
            shortages.append(_shortage(product_id, qty, _available(warehouse_id, product_id)))
            continue
        done.append(product_id)
        if not allocation.reservations_fit(warehouse_id, product_id, (min_expiry[product_id], qty)):
            shortages.append(_shortage(product_id, qty, _available(warehouse_id, product_id) + qty, shelf_life=True))
    if shortages:
        for product_id in done:
            ledger.change_balance(warehouse_id, product_id, reserved_delta=-wanted[product_id])
        raise StockShortage(shortages)

    upsert = _upsert_reservation()
    for product_id, qty in wanted.items():
        ledger.connection().execute(upsert, {"document": document, "warehouse_id": warehouse_id,
                                             "product_id": product_id, "qty": qty,
                                             "min_expiry_date": min_expiry[product_id], "created_at": utcnow()})
        ledger.record(MovementKind.RESERVE.value, warehouse_id, product_id, reserved_delta=qty, actor_id=actor_id,
                      reason=reason, document=document)


_UPSERTS: dict = {}


def _upsert_reservation():
    """INSERT a reservation, or add to the document's existing one (built once per dialect)."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        table = StockReservation.__table__
        upsert = ledger.dialect_insert(table)
        later = case((upsert.excluded.min_expiry_date > table.c.min_expiry_date, upsert.excluded.min_expiry_date),
                     else_=table.c.min_expiry_date)
        _UPSERTS[dialect] = upsert.on_conflict_do_update(
            index_elements=["document", "warehouse_id", "product_id"],
            set_={"qty": table.c.qty + upsert.excluded.qty, "min_expiry_date": later})
    return _UPSERTS[dialect]


def reservations_of(document: str) -> list[StockReservation]:
    return list(db.session.scalars(select(StockReservation).where(StockReservation.document == document)
                                   .order_by(StockReservation.warehouse_id, StockReservation.product_id)
                                   .execution_options(populate_existing=True)))


def release_document(document: str, *, actor_id: int | None, reason: str = "") -> dict[int, int]:
    """Release whatever `document` still holds; {product_id: qty released}. Safe to repeat."""
    released: dict[int, int] = {}
    for row in reservations_of(document):
        if row.qty <= 0:
            continue
        if not ledger.change_balance(row.warehouse_id, row.product_id, reserved_delta=-row.qty):
            raise RuntimeError(f"balance holds less reserved than {document}")  # verify would show it
        ledger.record(MovementKind.RELEASE.value, row.warehouse_id, row.product_id, reserved_delta=-row.qty,
                      actor_id=actor_id, reason=reason, document=document)
        released[row.product_id] = released.get(row.product_id, 0) + row.qty
        row.qty = 0
    return released


@dataclass(frozen=True)
class ShippedLot:
    """What left the warehouse: `qty` of `product_id` from lot `lot_id` (batch, expiry)."""

    product_id: int
    lot_id: int
    batch_no: str
    expiry_date: date
    qty: int


def ship_reserved(document: str, quantities: dict[int, int], *, kind: str, on: date,
                  actor_id: int | None, reason: str = "") -> list[ShippedLot]:
    """Take reserved stock out of the warehouse on day `on`: the lots the reservation's plan
    names (allocation.plan_fefo, the plan the pick list prints), the earliest first for a
    partial shipment. All or nothing (StockShortage / DomainError)."""
    rows = {r.product_id: r for r in reservations_of(document) if r.qty > 0}
    wanted = {pid: q for pid, q in sorted(quantities.items()) if q > 0}
    for product_id, qty in wanted.items():
        if product_id not in rows or rows[product_id].qty < qty:
            held = rows[product_id].qty if product_id in rows else 0
            code = db.session.scalar(select(Product.code).where(Product.id == product_id)) or str(product_id)
            raise DomainError(_("%(code)s 的发货数量 %(qty)d 超过预留数量 %(held)d。", code=code, qty=qty, held=held),
                              field="quantities")

    shipped: list[ShippedLot] = []
    plans = []
    shortages = []
    for product_id, qty in wanted.items():
        row = rows[product_id]
        # Lock the balance first (a no-op update), then read reservations and lots under that lock.
        ledger.change_balance(row.warehouse_id, product_id)
        queue = allocation.reservation_queue(row.warehouse_id, product_id, up_to_id=row.id)
        lots = allocation.fefo_lots(row.warehouse_id, product_id, on + timedelta(days=1))
        picks = allocation.first_of(allocation.plan_fefo(queue, lots, on)[row.id], qty)
        if picks is None:
            shortages.append(_shortage(product_id, qty, 0, shelf_life=True))
        else:
            plans.append((row, picks))
    if shortages:
        raise StockShortage(shortages)
    for row, picks in plans:
        for pick in picks:
            if not ledger.take_from_lot(kind, pick.lot, pick.qty, actor_id=actor_id, reason=reason,
                                        document=document, from_reserved=True):
                raise RuntimeError("a locked lot changed underneath")  # the balance lock prevents it
            shipped.append(ShippedLot(row.product_id, pick.lot.id, pick.lot.batch_no, pick.lot.expiry_date, pick.qty))
        row.qty -= sum(p.qty for p in picks)
    return shipped
