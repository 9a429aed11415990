"""Reserving stock for documents (orders, transfers), releasing it, and shipping it.

All or nothing: `reserve_stock` reserves every product or none. It raises `StockShortage`
naming every short product, having undone its own changes, so the caller's transaction is left
as it found it (no savepoint needed; the balance rows it touched stay locked until the caller
commits or rolls back, which is harmless). Stock falling to its reorder point is announced
(ledger.announce_crossings) only once the reservation is made.

Concurrency: all the products are reserved by one conditional UPDATE
(`reserved = reserved + q WHERE on_hand - reserved >= q`) that locks their rows in ascending
product id, so many processes reserving the same products never oversell and never deadlock
(see ledger.py). On PostgreSQL the whole reservation runs inside the `stock_reserve` function
(migrations h15_stock_reserve, h15res_stock_reserve_generic, h17_stock_reserve_keyed): one round
trip and little Python per reservation, the same conditional change of each balance row in the
same ascending order, each row reached through its key whatever the table statistics.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, insert, select, update

from app.extensions import db
from app.models import MovementKind, Product, StockBalance, StockMovement, StockReservation, utcnow
from app.services.core.errors import DomainError
from app.services.core.messages import Message, joined, message
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


def _shortages(warehouse_id: int, short: dict[int, int], unfit: dict[int, int]) -> list[Shortage]:
    """The Shortage of each product `short` ({product_id: requested}, not enough available) and
    `unfit` (enough, but not in lots with the shelf life the customer needs), by product id, in
    two queries."""
    ids = sorted({*short, *unfit})
    available = dict(db.session.execute(select(StockBalance.product_id, StockBalance.on_hand - StockBalance.reserved)
                                        .where(StockBalance.warehouse_id == warehouse_id,
                                               StockBalance.product_id.in_(ids))).all())
    names = {pid: (code, name) for pid, code, name in db.session.execute(
        select(Product.id, Product.code, Product.name_zh).where(Product.id.in_(ids)))}
    return [Shortage(pid, *names[pid], short[pid], int(available.get(pid, 0))) if pid in short
            else Shortage(pid, *names[pid], unfit[pid], int(available.get(pid, 0)), shelf_life=True)
            for pid in ids]


_ADD_TO_RESERVATION = (update(StockReservation.__table__)
                       .where(StockReservation.__table__.c.id == bindparam("rid"))
                       .values(qty=StockReservation.__table__.c.qty + bindparam("q"),
                               min_expiry_date=case((StockReservation.__table__.c.min_expiry_date < bindparam("e"),
                                                     bindparam("e")),
                                                    else_=StockReservation.__table__.c.min_expiry_date)))
_NEW_RESERVATIONS = insert(StockReservation.__table__).returning(StockReservation.__table__.c.id)
# PostgreSQL: the whole reservation in one round trip, by the function of migration
# h15_stock_reserve (arrays, not a parameter per product: one statement text whatever the number
# of products, prepared once per connection). Run on the session's psycopg connection itself:
# SQLAlchemy's execution context and result around it cost more client CPU than the call (the
# engine's before_cursor_execute listeners still see it, so it is counted like any statement).
_STOCK_RESERVE = (
    "SELECT product_id, available, reorder_point, written FROM stock_reserve(%(w)s::integer, "
    "%(products)s::integer[], %(qty)s::integer[], %(cutoffs)s::date[], %(document)s::varchar, "
    "%(now)s::timestamptz, %(kind)s::varchar, %(actor)s::integer, %(reason)s::varchar, %(message)s::json)")
_RESERVE = MovementKind.RESERVE.value


def reserve_stock(warehouse_id: int, quantities: dict[int, int], *, document: str, min_expiry: dict[int, date],
                  actor_id: int | None, reason: str | Message = "") -> None:
    """Reserve `quantities` ({product_id: qty > 0}) in the warehouse for `document`, each
    product only from lots expiring on or after `min_expiry[product_id]`.

    On PostgreSQL one statement (the `stock_reserve` function) whatever the number of products:
    it updates the balances conditionally, reads the lots' and reservations' expiry bounds and,
    in the usual case where every product was taken and every lot suits every reservation,
    writes the reservations and the ledger lines. Otherwise, from its balance update on (and on
    SQLite from the start: one locking conditional UPDATE of all the balances), the rest is
    decided here: one query for the bounds, two more when some lots do not suit every
    reservation, then the undo and StockShortage when short, else the writes."""
    wanted = {pid: q for pid, q in sorted(quantities.items()) if q > 0}
    if not wanted:
        return
    connection = ledger.connection()
    if connection.dialect.name == "postgresql":
        # The arrays as PostgreSQL literals: psycopg adapts a Python list (finding its element
        # type) in ~4 times the client CPU of a string the statement casts.
        params = dict(w=warehouse_id, products="{" + ",".join(map(str, wanted)) + "}",
                      qty="{" + ",".join(map(str, wanted.values())) + "}",
                      cutoffs="{" + ",".join(min_expiry[pid].isoformat() for pid in wanted) + "}",
                      document=document[:100], now=utcnow(),
                      kind=_RESERVE, actor=actor_id,
                      reason="" if isinstance(reason, Message) else (reason or "")[:200],
                      message=json.dumps(reason.to_json()) if isinstance(reason, Message) else None)
        with connection.connection.dbapi_connection.cursor() as cursor:
            if connection._has_events or connection.engine._has_events:
                connection.dispatch.before_cursor_execute(connection, cursor, _STOCK_RESERVE, params, None, False)
            rows = cursor.execute(_STOCK_RESERVE, params, prepare=True).fetchall()
        crossings = [(pid, available, -wanted[pid], point) for pid, available, point, _written in rows]
        if rows and rows[0][3]:
            ledger.announce_crossings(warehouse_id, crossings)
            return
        taken = {row[0] for row in rows}
    else:
        crossings = []
        taken = ledger.change_reserved(warehouse_id, wanted, crossings)
    bounds = allocation.expiry_bounds(warehouse_id, taken, document) if taken else {}
    unfit = allocation.unfit_products(warehouse_id, {pid: (min_expiry[pid], wanted[pid]) for pid in taken}, bounds)
    if len(taken) < len(wanted) or unfit:
        if taken:  # undo our own change, so the caller's transaction is as it was
            ledger.change_reserved(warehouse_id, {pid: -wanted[pid] for pid in taken})
        raise StockShortage(_shortages(warehouse_id, {pid: q for pid, q in wanted.items() if pid not in taken},
                                       {pid: wanted[pid] for pid in unfit}))

    # The balance rows are locked: nobody else can add this document's reservations meanwhile.
    existing = [dict(rid=bounds[pid][2], q=qty, e=min_expiry[pid]) for pid, qty in wanted.items()
                if bounds[pid][2] is not None]
    if existing:
        connection.execute(_ADD_TO_RESERVATION, existing)
    new = [pid for pid in wanted if bounds[pid][2] is None]
    if new:
        now = utcnow()
        connection.execute(_NEW_RESERVATIONS, [dict(document=document, warehouse_id=warehouse_id, product_id=pid,
                                                    qty=wanted[pid], min_expiry_date=min_expiry[pid], created_at=now)
                                               for pid in new])
    ledger.record_many(MovementKind.RESERVE.value, warehouse_id, wanted, actor_id=actor_id, reason=reason,
                       document=document)
    ledger.announce_crossings(warehouse_id, crossings)


def reservations_of(document: str) -> list[StockReservation]:
    return list(db.session.scalars(select(StockReservation).where(StockReservation.document == document)
                                   .order_by(StockReservation.warehouse_id, StockReservation.product_id)
                                   .execution_options(populate_existing=True)))


def release_document(document: str, *, actor_id: int | None, reason: str = "") -> dict[int, int]:
    """Release whatever `document` still holds; {product_id: qty released}. Safe to repeat.
    A fixed number of statements per warehouse whatever the number of products."""
    rows = [row for row in reservations_of(document) if row.qty > 0]
    by_warehouse: dict[int, dict[int, int]] = {}
    for row in rows:
        by_warehouse.setdefault(row.warehouse_id, {})[row.product_id] = -row.qty
    for warehouse_id, deltas in sorted(by_warehouse.items()):
        if ledger.change_reserved(warehouse_id, deltas) != set(deltas):
            raise RuntimeError(f"balance holds less reserved than {document}")  # verify would show it
        ledger.record_many(MovementKind.RELEASE.value, warehouse_id, deltas, actor_id=actor_id, reason=reason,
                           document=document)
    released: dict[int, int] = {}
    for row in rows:
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
            shortages.append((product_id, qty))
        else:
            plans.append((row, picks))
    if shortages:
        names = {pid: (code, name) for pid, code, name in db.session.execute(
            select(Product.id, Product.code, Product.name_zh).where(Product.id.in_([pid for pid, _ in shortages])))}
        raise StockShortage([Shortage(pid, *names[pid], qty, 0, shelf_life=True) for pid, qty in shortages])
    for row, picks in plans:
        for pick in picks:
            if not ledger.take_from_lot(kind, pick.lot, pick.qty, actor_id=actor_id, reason=reason,
                                        document=document, from_reserved=True):
                raise RuntimeError("a locked lot changed underneath")  # the balance lock prevents it
            shipped.append(ShippedLot(row.product_id, pick.lot.id, pick.lot.batch_no, pick.lot.expiry_date, pick.qty))
        row.qty -= sum(p.qty for p in picks)
    return shipped
