"""The outbox: `record(...)` writes a domain event in the caller's transaction, so the event
exists exactly when the change it reports commits, and asks (after the commit) for its webhook
fan-out. Services call it where the change happens; nothing else writes events.

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
import uuid
from typing import Any, Iterable

from sqlalchemy import bindparam, func, insert, select

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


def record(event_type: str, aggregate_type: str, aggregate_id: int, org_ids: Iterable[int | None],
           data: dict[str, Any]) -> str:
    """Write one event (one INSERT) and return its stable id; its fan-out runs after the commit
    (one job for all the events of the transaction)."""
    assert event_type in EVENT_TYPES, event_type
    event_id = "evt_" + uuid.uuid4().hex
    db.session.execute(_insert_event(), dict(
        e_event_id=event_id, e_type=event_type, e_aggregate_type=aggregate_type, e_aggregate_id=aggregate_id,
        e_org_ids=sorted({o for o in org_ids if o is not None}), e_data=data, e_occurred_at=utcnow()))
    # One fan-out job for the transaction's events (a checkout records order.placed and order.approved)
    enqueue_batch_after_commit("jobs.webhooks.fan_out_events", event_id, job_id=f"webhook-fanout-{event_id}",
                               new_id=True)  # a fresh event id: no earlier job to look up in Redis
    return event_id


@functools.cache
def _insert_event():
    """The event's INSERT, built once with bound parameters (`e_<column>`); its sequence is the
    aggregate's last + 1, computed in the statement."""
    table = OutboxEvent.__table__
    bound = {name: bindparam(f"e_{name}", type_=table.c[name].type)
             for name in ("event_id", "type", "aggregate_type", "aggregate_id", "org_ids", "data", "occurred_at")}
    next_sequence = (select(func.coalesce(func.max(table.c.sequence), 0) + 1)
                     .where(table.c.aggregate_type == bound["aggregate_type"],
                            table.c.aggregate_id == bound["aggregate_id"])
                     .scalar_subquery())
    return insert(table).values(sequence=next_sequence, **bound)


def order_data(order, from_status: str | None, note: str = "") -> dict[str, Any]:
    return {"order_id": order.id, "number": order.number, "status": order.status, "from_status": from_status,
            "buyer_id": order.buyer_id, "seller_id": order.seller_id, "total_fen": order.total_fen,
            **({"note": note} if note else {})}


def order_status_changed(order, from_status: str | None, note: str = "") -> str:
    return record(ORDER_STATUS_EVENTS[order.status], "order", order.id, (order.buyer_id, order.seller_id),
                  order_data(order, from_status, note))


def price_changed(product_id: int, product_code: str, change: str, *, source: str, org_ids: Iterable[int] = (),
                  **data: Any) -> str:
    """A price-list item or contract price of the product was created, updated or deleted
    (`price_fen` None when deleted). The brand always hears; a contract's customer too."""
    return record("price.changed", "product", product_id, org_ids,
                  {"product_id": product_id, "product_code": product_code, "change": change, "source": source,
                   **data})
