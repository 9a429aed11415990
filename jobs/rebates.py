"""Dealer rebate settlement as an RQ job, and its monthly schedule.

Run on demand: `flask rebates settle [--as-of D]` (inline; `--queue` enqueues on RQ), or the
button on the admin rebate settlement page (inline without REDIS_URL). SCHEDULE runs it on the
2nd of each month at 04:00 in Shanghai as of the last day of the previous month
(jobs/schedule.py). Safe to run twice or at once: see app/services/rebates/settlement.py.
"""
from __future__ import annotations

import time
from datetime import date

from flask import current_app

from app.extensions import db

SCHEDULE = "0 20 1 * *"  # 20:00 UTC on the 1st = 04:00 on the 2nd in Shanghai


def settle_job(as_of: str | None = None, actor_id: int | None = None) -> str:
    """Settle every agreement's periods as of a day (ISO date; default the end of last month)."""
    from app.services.rebates.settlement import default_as_of, run_settlement, start_run

    day = date.fromisoformat(as_of) if as_of else default_as_of()
    start_run(day, actor_id)
    db.session.commit()  # the page shows the run as running
    result = run_settlement(day, actor_id)
    delay = current_app.config.get("SETTLEMENT_COMMIT_DELAY") or 0
    if delay:  # test-only: lets a test kill the worker before the drafts are committed
        time.sleep(delay)
    db.session.commit()
    return (f"rebate settlement as of {day}: run {result.run.id} pass {result.run.passes}, "
            f"drafted {result.drafted} settlement(s), {result.drafted_fen} fen")


def rebuild_job(start: str, end: str) -> str:
    """Recompute the accruals of a date range from the documents (idempotent)."""
    from app.services.rebates.accruals import rebuild

    written = rebuild(date.fromisoformat(start), date.fromisoformat(end))
    db.session.commit()
    return f"rebate accruals {start}..{end}: {written} row(s)"


def job_id(as_of: str) -> str:
    return f"rebate-settle-{as_of}"
