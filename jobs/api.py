"""API jobs: forget idempotency keys after their lifetime (24 h), and delivered outbox events with
their delivery logs after OUTBOX_RETENTION_DAYS. Both safe to run twice."""
from __future__ import annotations

from app.extensions import db

SCHEDULE_IDEMPOTENCY_PURGE = "17 * * * *"  # hourly
SCHEDULE_OUTBOX_PURGE = "43 3 * * *"  # nightly, 03:43 UTC


def purge_idempotency_keys_job() -> str:
    from flask import current_app

    from app.services.accounts.idempotency import purge_expired

    removed = purge_expired(current_app.config.get("IDEMPOTENCY_KEY_HOURS", 24))
    db.session.commit()
    return f"removed {removed} expired idempotency key(s)"


def purge_outbox_job() -> str:
    from flask import current_app

    from app.services.integrations.retention import purge

    events, attempts = purge(current_app.config["OUTBOX_RETENTION_DAYS"])
    return f"removed {events} delivered outbox event(s) and {attempts} delivery attempt(s)"
