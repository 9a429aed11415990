"""The low-stock / near-expiry scan as an RQ job, and its recurring schedule.

Run on demand: `flask stock scan-alerts` (inline; `--queue` to enqueue on RQ).
Every 30 minutes (SCHEDULE) through RQ's own scheduler: see jobs/schedule.py. The job is safe
to run twice or to overlap (see app/services/inventory/alerts.py).
"""
from __future__ import annotations

from rq import Queue

from app.extensions import db
from app.services.inventory.alerts import scan_stock_alerts
from app.services.core.redis_conn import redis_connection

SCHEDULE = "*/30 * * * *"


def scan_stock_alerts_job(expiry_window_days: int | None = None) -> str:
    """Scan, notify, commit; returns a one-line summary (kept as the job's result)."""
    result = scan_stock_alerts(expiry_window_days=expiry_window_days)
    db.session.commit()
    return (f"opened low_stock={result.opened['low_stock']} near_expiry={result.opened['near_expiry']}, "
            f"resolved={result.resolved}, open={result.still_open}, notifications={result.notifications}")


def enqueue_scan(expiry_window_days: int | None = None) -> str:
    from app.queue import AppContextJob

    queue = Queue("default", connection=redis_connection(), job_class=AppContextJob)
    return queue.enqueue(scan_stock_alerts_job, expiry_window_days, job_timeout=1800).id
