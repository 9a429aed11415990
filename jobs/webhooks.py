"""Webhook jobs: fan an outbox event out to its subscriptions, attempt one delivery, and the
sweep that re-enqueues due deliveries whose scheduled job was lost (Redis flushed, inline mode).
Each takes ids, commits its own work and is safe to run twice (a delivery row is locked while
it is attempted, and an attempt that is not due does nothing)."""
from __future__ import annotations

from app.extensions import db
from app.services.integrations import webhooks

SCHEDULE_SWEEP = "*/5 * * * *"


def fan_out(event_id: str) -> int:
    created = webhooks.fan_out(event_id)
    db.session.commit()
    return len(created)


def fan_out_events(event_ids: list[str]) -> int:
    """The fan-out of every event one transaction recorded (services/integrations/outbox.py)."""
    created = webhooks.fan_out_events(event_ids)
    db.session.commit()
    return len(created)


def attempt(delivery_id: int) -> str | None:
    status = webhooks.attempt(delivery_id)
    db.session.commit()
    return status


def sweep_due_job() -> int:
    """Enqueue every due pending delivery (a job already waiting for it makes this a no-op)."""
    due = webhooks.due_deliveries()
    for delivery_id, attempts, overdue in due:
        webhooks.schedule(delivery_id, attempts, replace_started=overdue)
    db.session.commit()
    return len(due)
