"""The outbox: `record(...)` writes a domain event in the caller's transaction, so the event
exists exactly when the change it reports commits, and asks (after the commit) for its webhook
fan-out when an active subscription may hear it (the INSERT says so: most events, e.g. a shop's
checkout, concern organisations without any subscription, and their fan-out job would find
nobody). Services call it where the change happens; nothing else writes events.

Event types (stable, part of the API): order.placed, order.approved, order.held, order.rejected,
order.cancelled, order.shipped, order.partly_shipped, order.delivered, order.completed,
return.requested, return.decided, invoice.issued, credit_note.issued, payment.received,
price.changed, stock.below_reorder (written by the stock ledger, inventory/ledger.py; its
aggregate is one stock row: type `stock:<warehouse_id>`, id the product's id).

The per-aggregate `sequence` is computed inside the INSERT (max + 1): the changes that emit
events for one aggregate hold its row (an order's conditional UPDATE, a return's decision), so
two transactions do not number the same aggregate at once; if they ever did, the unique
constraint refuses the second and its transaction rolls back whole.
"""
from __future__ import annotations

import functools
import json
import uuid
from typing import Any, Iterable

from sqlalchemy import Boolean, Integer, String, bindparam, func, insert, select, text, type_coerce

from app.extensions import db
from app.models import OutboxEvent, utcnow
from app.queue import enqueue_batch_after_commit

EVENT_TYPES = ("order.placed", "order.approved", "order.held", "order.rejected", "order.cancelled",
               "order.picking", "order.shipped", "order.partly_shipped", "order.delivered", "order.completed",
               "return.requested", "return.decided", "invoice.issued", "credit_note.issued",
               "payment.received", "price.changed", "stock.below_reorder")
# An order's status → the event its arrival there is.
ORDER_STATUS_EVENTS = {"submitted": "order.placed", "approved": "order.approved", "on_hold": "order.held",
                       "rejected": "order.rejected", "cancelled": "order.cancelled", "picking": "order.picking",
                       "shipped": "order.shipped", "partly_shipped": "order.partly_shipped",
                       "delivered": "order.delivered", "completed": "order.completed"}


Event = tuple[str, str, int, Iterable[int | None], dict[str, Any]]  # record's arguments


def record(event_type: str, aggregate_type: str, aggregate_id: int, org_ids: Iterable[int | None],
           data: dict[str, Any]) -> str:
    """Write one event (one INSERT) and return its stable id; its fan-out runs after the commit
    (one job for all the events of the transaction) when the INSERT found an active subscription
    of one of `org_ids` or of the brand (which hears every event). A subscription is heard from
    the moment it is committed: one committed while this transaction runs does not get its event
    (the job itself decides on the event types, and adds nothing twice)."""
    return record_many([(event_type, aggregate_type, aggregate_id, org_ids, data)])[0]


def record_many(events: list[Event]) -> list[str]:
    """`record` for several events in one INSERT (a checkout's order.placed and order.approved);
    the events of one aggregate are numbered in their order here."""
    rows, taken, now = [], {}, utcnow()
    for event_type, aggregate_type, aggregate_id, org_ids, data in events:
        assert event_type in EVENT_TYPES, event_type
        orgs = sorted({o for o in org_ids if o is not None})
        taken[aggregate_type, aggregate_id] = offset = taken.get((aggregate_type, aggregate_id), 0) + 1
        rows.append(dict(e_event_id="evt_" + uuid.uuid4().hex, e_type=event_type, e_aggregate_type=aggregate_type,
                         e_aggregate_id=aggregate_id, e_org_ids=orgs, e_data=data, e_occurred_at=now,
                         e_offset=offset, e_heard_by=json.dumps(orgs)))
    if not rows:
        return []
    heard = db.session.execute(_insert_event(db.session.get_bind().dialect.name),
                               rows if len(rows) > 1 else rows[0]).scalars().all()
    if any(heard):  # one fan-out job for the transaction's events
        for row in rows:
            enqueue_batch_after_commit("jobs.webhooks.fan_out_events", row["e_event_id"],
                                       job_id=f"webhook-fanout-{row['e_event_id']}",
                                       new_id=True)  # a fresh event id: no earlier job to look up in Redis
    return [row["e_event_id"] for row in rows]


@functools.cache
def _insert_event(dialect: str):
    """The event's INSERT, built once with bound parameters (`e_<column>`; `e_offset`, its place
    among the statement's events of the same aggregate; `e_heard_by`, the organisations as JSON
    text): its sequence is the aggregate's last + `e_offset`, computed in the statement (each row
    reads the last as it was before the statement), and it returns whether an active subscription
    may hear the event (webhooks.fan_out_events asks the same of its subscriptions). Several
    events go as one multi-row INSERT (SQLAlchemy's "insertmanyvalues", as it has RETURNING)."""
    table = OutboxEvent.__table__
    bound = {name: bindparam(f"e_{name}", type_=table.c[name].type)
             for name in ("event_id", "type", "aggregate_type", "aggregate_id", "org_ids", "data", "occurred_at")}
    next_sequence = (select(func.coalesce(func.max(table.c.sequence), 0) + bindparam("e_offset", type_=Integer))
                     .where(table.c.aggregate_type == bound["aggregate_type"],
                            table.c.aggregate_id == bound["aggregate_id"])
                     .scalar_subquery())
    # Written out: the dialects render RETURNING's columns without their tables (SQLite then finds
    # `id` and `active` ambiguous), so the subquery names its own.
    orgs = ("SELECT CAST(value AS integer) FROM json_array_elements_text(CAST(:e_heard_by AS json))"
            if dialect == "postgresql" else "SELECT value FROM json_each(:e_heard_by)")
    heard = text("EXISTS (SELECT 1 FROM webhook_subscriptions s JOIN organisations o ON o.id = s.org_id "
                 f"WHERE s.active AND (s.org_id IN ({orgs}) OR o.kind = 'brand'))"
                 ).bindparams(bindparam("e_heard_by", type_=String))
    return insert(table).values(sequence=next_sequence, **bound).returning(type_coerce(heard, Boolean))


def order_data(order, from_status: str | None, note: str = "") -> dict[str, Any]:
    return {"order_id": order.id, "number": order.number, "status": order.status, "from_status": from_status,
            "buyer_id": order.buyer_id, "seller_id": order.seller_id, "total_fen": order.total_fen,
            **({"note": note} if note else {})}


def order_status_changed(order, from_status: str | None, note: str = "") -> str:
    return record(*order_status_event(order, from_status, note))


def order_status_event(order, from_status: str | None, note: str = "") -> Event:
    """The event of the order's arrival at its current status (record's or record_many's arguments)."""
    return (ORDER_STATUS_EVENTS[order.status], "order", order.id, (order.buyer_id, order.seller_id),
            order_data(order, from_status, note))


def price_changed(product_id: int, product_code: str, change: str, *, source: str, org_ids: Iterable[int] = (),
                  **data: Any) -> str:
    """A price-list item or contract price of the product was created, updated or deleted
    (`price_fen` None when deleted). The brand always hears; a contract's customer too."""
    return record("price.changed", "product", product_id, org_ids,
                  {"product_id": product_id, "product_code": product_code, "change": change, "source": source,
                   **data})
