"""Forgetting old integration rows: outbox events whose every delivery succeeded (or that no
subscription heard), with their deliveries and attempt logs, once older than
`OUTBOX_RETENTION_DAYS`. Events still pending or failed stay (they may be retried or replayed).

The newest event of each aggregate always stays: the next event's `sequence` is computed from
the aggregate's latest one (see outbox.py), so deleting it would restart the numbering at 1 and
a receiver ordering by sequence would drop the new events as old.

Deletes run in batches (`purge_batch`), each one short transaction for the caller to commit, so
a large backlog never holds locks for long."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import OutboxEvent, WebhookAttempt, WebhookDelivery, utcnow

BATCH = 1000


def purgeable_events(cutoff, limit: int):
    later = aliased(OutboxEvent)
    return (select(OutboxEvent.id)
            .where(OutboxEvent.occurred_at < cutoff,
                   exists().where(later.aggregate_type == OutboxEvent.aggregate_type,
                                  later.aggregate_id == OutboxEvent.aggregate_id,
                                  later.sequence > OutboxEvent.sequence),
                   ~exists().where(WebhookDelivery.event_id == OutboxEvent.id,
                                   WebhookDelivery.status != "delivered"))
            .order_by(OutboxEvent.id).limit(limit))


def purge_batch(days: int, limit: int = BATCH) -> tuple[int, int]:
    """Delete up to `limit` purgeable events older than `days` days, with their deliveries and
    attempts; (events, attempts) deleted. The caller commits."""
    ids = list(db.session.scalars(purgeable_events(utcnow() - timedelta(days=days), limit)))
    if not ids:
        return 0, 0
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
    attempts = db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries))).rowcount
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
    events = db.session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids))).rowcount
    return events, attempts


def purge(days: int, limit: int = BATCH, commit=None) -> tuple[int, int]:
    """Every purgeable event in batches of `limit`, calling `commit()` after each batch."""
    total_events = total_attempts = 0
    while True:
        events, attempts = purge_batch(days, limit)
        (commit or db.session.commit)()
        total_events, total_attempts = total_events + events, total_attempts + attempts
        if events < limit:
            return total_events, total_attempts
