"""Promotion settlement as an RQ job, and its monthly schedule.

Run on demand: `flask promotions settle [--from D --to D]` (inline; `--queue` enqueues on RQ),
or the button on the admin settlement page (inline without REDIS_URL). SCHEDULE runs it on the
2nd of each month at 03:30 in Shanghai for the previous month (jobs/schedule.py). Safe to run
twice or at once: see app/services/promotions/settlement.py.
"""
from __future__ import annotations

import time
from datetime import date

from flask import current_app

from app.extensions import db

SCHEDULE = "30 19 1 * *"  # 19:30 UTC on the 1st = 03:30 on the 2nd in Shanghai


def settle_job(period_start: str | None = None, period_end: str | None = None, actor_id: int | None = None) -> str:
    """Settle a period (ISO dates; default the previous month); returns a one-line summary."""
    from app.services.promotions.settlement import default_period, run_settlement, start_run

    if period_start and period_end:
        start, end = date.fromisoformat(period_start), date.fromisoformat(period_end)
    else:
        start, end = default_period()
    start_run(start, end, actor_id)
    db.session.commit()  # the page shows the run as running
    delay = current_app.config.get("SETTLEMENT_COMMIT_DELAY") or 0

    def batch_done():
        if delay:  # test-only: lets a test kill the worker before the drafts are committed
            time.sleep(delay)
        db.session.commit()  # the page shows the progress; the batch's dealers are let go

    result = run_settlement(start, end, actor_id, batch_done=batch_done)
    db.session.commit()
    return (f"settlement {start}..{end}: run {result.run.id} pass {result.run.passes}, "
            f"drafted {result.drafted} settlement(s), {result.drafted_fen} fen")


def job_id(period_start: str, period_end: str) -> str:
    return f"promotion-settle-{period_start}-{period_end}"
