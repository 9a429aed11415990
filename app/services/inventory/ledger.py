"""The ledger and the balances it keeps in step: the only code that changes stock numbers
(with, on PostgreSQL, the `stock_reserve` function reservations.py calls, which repeats
change_reserved's UPDATE and locking order in SQL; a change to one is a change to both).

Every change is a conditional UPDATE of the balance row (and of the lot, when one is involved)
plus one `StockMovement`, in the caller's transaction. The WHERE clause repeats the database
CHECKs, so a change that would make available stock negative touches no row (rowcount 0) and
the caller reports it cleanly instead of hitting a constraint error.

Each UPDATE also bumps the row's `version` (its ETag in the API) and returns what the row's
available stock became and its reorder point, so a change that takes available stock from above
the reorder point to at or below it writes one `stock.below_reorder` event to the outbox in the
same transaction (downwards only; the next one needs the stock to rise above the point first).
The row lock the UPDATE holds orders these checks, so one crossing is announced exactly once.

Locking order (why there are no deadlocks): a transaction changes balance rows in ascending
(warehouse_id, product_id) order, and touches a product's lots only after it has updated (and so
locked) that product's balance row. Two transactions that want the same stock therefore queue on
the first balance row they share, never on each other in a cycle.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Product, ReorderRule, StockBalance, StockLot, StockMovement, Warehouse, utcnow
from app.services.core.messages import Message
from app.services.integrations import outbox


BALANCES = StockBalance.__table__
LOTS = StockLot.__table__
MOVEMENTS = StockMovement.__table__

# The hot statements are built once, with bound parameters, and run on the session's
# connection: every reservation runs them, and building and ORM-routing them each time would
# cost more client CPU than the database spends executing them.
_on_hand = BALANCES.c.on_hand + bindparam("dh")
_reserved = BALANCES.c.reserved + bindparam("dr")
# The row's reorder point (None without a rule), read in the UPDATE's RETURNING.
_REORDER_POINT = (select(ReorderRule.reorder_point)
                  .where(ReorderRule.warehouse_id == BALANCES.c.warehouse_id,
                         ReorderRule.product_id == BALANCES.c.product_id)
                  .correlate(BALANCES).scalar_subquery())
CHANGE_BALANCE = (update(BALANCES)
                  .where(BALANCES.c.warehouse_id == bindparam("w"), BALANCES.c.product_id == bindparam("p"),
                         _on_hand >= 0, _reserved >= 0, _on_hand - _reserved >= 0)
                  .values(on_hand=_on_hand, reserved=_reserved, version=BALANCES.c.version + 1,
                          updated_at=bindparam("now"))
                  .returning(BALANCES.c.on_hand - BALANCES.c.reserved, _REORDER_POINT))
CHANGE_LOT = (update(LOTS).where(LOTS.c.id == bindparam("lot"), LOTS.c.on_hand + bindparam("d") >= 0)
              .values(on_hand=LOTS.c.on_hand + bindparam("d")))
RECORD = insert(MOVEMENTS)
# Many ledger lines in one statement: with RETURNING, SQLAlchemy sends an executemany of this
# cached INSERT as one multi-row INSERT ("insertmanyvalues") on PostgreSQL and SQLite alike.
RECORD_MANY = insert(MOVEMENTS).returning(MOVEMENTS.c.id)


def connection():
    """The session's connection, after flushing pending ORM changes (what autoflush would do)."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def dialect_insert(model):
    """The session's dialect INSERT (PostgreSQL or SQLite), which knows ON CONFLICT."""
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model)


def insert_ignoring_conflicts(model):
    """INSERT ... ON CONFLICT DO NOTHING for the session's database (PostgreSQL or SQLite)."""
    return dialect_insert(model).on_conflict_do_nothing()


def ensure_balance(warehouse_id: int, product_id: int) -> None:
    """Create the balance row if missing (safe when another transaction creates it too)."""
    db.session.execute(insert_ignoring_conflicts(StockBalance).values(
        warehouse_id=warehouse_id, product_id=product_id, on_hand=0, reserved=0, updated_at=utcnow()))


def change_balance(warehouse_id: int, product_id: int, on_hand_delta: int = 0, reserved_delta: int = 0) -> bool:
    """Apply the deltas if the result keeps on_hand ≥ 0, reserved ≥ 0 and available ≥ 0.
    True when applied; False (nothing changed) otherwise, or when the row does not exist."""
    row = _apply_balance(warehouse_id, product_id, on_hand_delta, reserved_delta)
    if row is not None:
        announce_crossings(warehouse_id, [(product_id, row[0], on_hand_delta - reserved_delta, row[1])])
    return row is not None


def _apply_balance(warehouse_id: int, product_id: int, on_hand_delta: int, reserved_delta: int):
    """(available after, reorder point or None) when applied, else None."""
    return connection().execute(CHANGE_BALANCE, {"w": warehouse_id, "p": product_id, "dh": on_hand_delta,
                                                 "dr": reserved_delta, "now": utcnow()}).first()


def announce_crossings(warehouse_id: int, changes: list[tuple[int, int, int, int | None]]) -> None:
    """`changes`: (product_id, available after, change of available, reorder point or None) of
    applied changes; a `stock.below_reorder` event for each that went from above its reorder
    point to at or below it (what the low-stock alert calls low)."""
    crossed = {product_id: (available, point) for product_id, available, delta, point in changes
               if point and available <= point < available - delta}
    if not crossed:
        return
    owner_id, warehouse_code = db.session.execute(
        select(Warehouse.owner_id, Warehouse.code).where(Warehouse.id == warehouse_id)).one()
    codes = dict(db.session.execute(select(Product.id, Product.code).where(Product.id.in_(crossed))).all())
    for product_id, (available, point) in sorted(crossed.items()):
        # One aggregate per stock row (warehouse and product): its row lock orders the sequence.
        outbox.record("stock.below_reorder", f"stock:{warehouse_id}", product_id, (owner_id,), {
            "warehouse_id": warehouse_id, "warehouse_code": warehouse_code, "product_id": product_id,
            "product_code": codes[product_id], "available": available, "reorder_point": point})


def change_reserved(warehouse_id: int, deltas: dict[int, int], crossings: list | None = None) -> set[int]:
    """Add `deltas` ({product_id: reserved delta}) to the warehouse's balances in ONE statement,
    each row only if it keeps reserved ≥ 0 and available ≥ 0; the product ids changed (a product
    whose row refused, or has no row, is left out and unchanged). The changes are announced
    (announce_crossings) at once, or, given a `crossings` list, added to it for the caller to
    announce once it knows it keeps them (a reservation that may still be undone).

    On PostgreSQL the rows are first locked in ascending product id by a `FOR UPDATE` subquery
    of the same statement, the order every other change takes them in (see the module
    docstring), so batches that overlap never deadlock; the conditional WHERE is re-checked by
    PostgreSQL on the row version it locked, so nothing oversells. SQLite serialises writers."""
    if not deltas:
        return set()
    ordered = sorted(deltas.items())
    params: dict = {"w": warehouse_id, "now": utcnow()}
    for i, (product_id, delta) in enumerate(ordered):
        params[f"p{i}"], params[f"d{i}"] = product_id, delta
    statement = _change_reserved_statement(db.session.get_bind().dialect.name, len(ordered))
    rows = connection().execute(statement, params).all()
    changes = [(product_id, available, -deltas[product_id], point) for product_id, available, point in rows]
    if crossings is None:
        announce_crossings(warehouse_id, changes)
    else:
        crossings += changes
    return {row[0] for row in rows}


_CHANGE_RESERVED: dict[tuple[str, int], object] = {}


def _change_reserved_statement(dialect: str, n: int):
    """change_reserved's UPDATE for `n` products, built once per dialect and size with bound
    parameters w, now, p0..pn-1 (product ids, ascending) and d0..dn-1 (deltas), so that running
    it costs no statement building and hits SQLAlchemy's compiled cache. One product needs no
    lock ordering: its UPDATE locks one row."""
    key = (dialect, n)
    if key not in _CHANGE_RESERVED:
        products = [bindparam(f"p{i}") for i in range(n)]
        delta = case({products[i]: bindparam(f"d{i}") for i in range(n)}, value=BALANCES.c.product_id)
        rows = BALANCES.c.product_id.in_(products)
        if dialect == "postgresql" and n > 1:
            rows = BALANCES.c.product_id.in_(
                select(BALANCES.c.product_id).where(BALANCES.c.warehouse_id == bindparam("w"), rows)
                .order_by(BALANCES.c.product_id).with_for_update())
        _CHANGE_RESERVED[key] = (
            update(BALANCES)
            .where(BALANCES.c.warehouse_id == bindparam("w"), rows,
                   BALANCES.c.reserved + delta >= 0, BALANCES.c.on_hand - BALANCES.c.reserved - delta >= 0)
            .values(reserved=BALANCES.c.reserved + delta, version=BALANCES.c.version + 1,
                    updated_at=bindparam("now"))
            .returning(BALANCES.c.product_id, BALANCES.c.on_hand - BALANCES.c.reserved, _REORDER_POINT))
    return _CHANGE_RESERVED[key]


def change_lot(lot_id: int, delta: int) -> bool:
    """Add `delta` to the lot's on-hand if it stays ≥ 0."""
    return connection().execute(CHANGE_LOT, {"lot": lot_id, "d": delta}).rowcount == 1


def record(kind: str, warehouse_id: int, product_id: int, *, lot_id: int | None = None, on_hand_delta: int = 0,
           reserved_delta: int = 0, actor_id: int | None = None, reason: str | Message = "",
           document: str = "") -> None:
    """One ledger line. `reason`: text a person typed, or a Message the system writes (stored as
    its code, shown in the reader's language)."""
    typed = "" if isinstance(reason, Message) else (reason or "")[:200]
    connection().execute(RECORD, dict(
        at=utcnow(), kind=kind, warehouse_id=warehouse_id, product_id=product_id, lot_id=lot_id,
        on_hand_delta=on_hand_delta, reserved_delta=reserved_delta, actor_id=actor_id, reason=typed,
        reason_message=reason if isinstance(reason, Message) else None, document=document[:100]))


def record_many(kind: str, warehouse_id: int, reserved_deltas: dict[int, int], *, actor_id: int | None,
                reason: str | Message = "", document: str = "") -> None:
    """One ledger line per product of `reserved_deltas`, in one INSERT (reservations, releases)."""
    if not reserved_deltas:
        return
    typed = "" if isinstance(reason, Message) else (reason or "")[:200]
    stored = reason if isinstance(reason, Message) else None
    now = utcnow()
    connection().execute(RECORD_MANY, [dict(
        at=now, kind=kind, warehouse_id=warehouse_id, product_id=product_id, lot_id=None, on_hand_delta=0,
        reserved_delta=delta, actor_id=actor_id, reason=typed, reason_message=stored, document=document[:100])
        for product_id, delta in sorted(reserved_deltas.items())])


def find_or_create_lot(warehouse_id: int, product_id: int, batch_no: str, expiry_date: date,
                       production_date: date | None) -> StockLot:
    """The lot for this batch in this warehouse, created empty when new (safe under races:
    the unique (warehouse, product, batch) decides, and the loser reads the winner's row)."""
    db.session.execute(insert_ignoring_conflicts(StockLot).values(
        warehouse_id=warehouse_id, product_id=product_id, batch_no=batch_no, expiry_date=expiry_date,
        production_date=production_date, on_hand=0, received_at=utcnow()))
    return db.session.scalars(
        db.select(StockLot).where(StockLot.warehouse_id == warehouse_id, StockLot.product_id == product_id,
                                  StockLot.batch_no == batch_no)
        .execution_options(populate_existing=True)).one()


def add_to_lot(kind: str, lot: StockLot, qty: int, *, actor_id: int | None, reason: str | Message = "",
               document: str = "") -> None:
    """Put `qty` into a lot (receipt, transfer in, return, positive adjustment or count)."""
    ensure_balance(lot.warehouse_id, lot.product_id)
    if not change_balance(lot.warehouse_id, lot.product_id, on_hand_delta=qty):
        raise RuntimeError("balance refused an increase")  # cannot happen: on_hand only grows
    change_lot(lot.id, qty)
    record(kind, lot.warehouse_id, lot.product_id, lot_id=lot.id, on_hand_delta=qty, actor_id=actor_id,
           reason=reason, document=document)


def take_from_lot(kind: str, lot: StockLot, qty: int, *, actor_id: int | None, reason: str | Message = "",
                  document: str = "", from_reserved: bool = False) -> bool:
    """Take `qty` out of a lot, and out of the balance's reserved as well when `from_reserved`
    (shipping what was reserved). False, with nothing changed, when the lot holds less or when
    taking it would eat into stock reserved by others."""
    reserved_delta = -qty if from_reserved else 0
    row = _apply_balance(lot.warehouse_id, lot.product_id, -qty, reserved_delta)
    if row is None:
        return False
    if not change_lot(lot.id, -qty):
        _apply_balance(lot.warehouse_id, lot.product_id, qty, -reserved_delta)  # undone: nothing to announce
        return False
    announce_crossings(lot.warehouse_id, [(lot.product_id, row[0], -qty - reserved_delta, row[1])])
    record(kind, lot.warehouse_id, lot.product_id, lot_id=lot.id, on_hand_delta=-qty,
           reserved_delta=reserved_delta, actor_id=actor_id, reason=reason, document=document)
    return True
