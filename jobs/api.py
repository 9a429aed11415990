"""API jobs: forget idempotency keys after their lifetime (24 h). Safe to run twice."""
from __future__ import annotations

from app.extensions import db

SCHEDULE_IDEMPOTENCY_PURGE = "17 * * * *"  # hourly


def purge_idempotency_keys_job() -> str:
    from flask import current_app

    from app.services.accounts.idempotency import purge_expired

    removed = purge_expired(current_app.config.get("IDEMPOTENCY_KEY_HOURS", 24))
    db.session.commit()
    return f"removed {removed} expired idempotency key(s)"
