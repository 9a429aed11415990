"""Analytics jobs: the nightly fact refresh and the weekly demand forecast.

Run on demand: `flask analytics refresh` and `flask forecast run` (inline; `--queue` enqueues on
RQ). Their schedules (SCHEDULE_FACTS, SCHEDULE_FORECAST, Asia/Shanghai night = UTC evening)
are registered in jobs/schedule.py. Both are safe to run twice: facts are rebuilt per day, and a
forecast run is a new row set that replaces nothing until it is complete.
"""
from __future__ import annotations

from app.extensions import db

SCHEDULE_FACTS = "30 18 * * *"      # 02:30 in Shanghai, every night
SCHEDULE_FORECAST = "0 20 * * 0"    # 04:00 in Shanghai on Monday, after the week closed


def refresh_facts_job() -> str:
    from app.services.analytics.facts import analyze_after, refresh

    result = refresh()
    db.session.commit()
    analyze_after(result)
    return f"rebuilt {result.days} day(s), {result.rows} row(s)"


def forecast_job(horizon: int = 13) -> str:
    from app.services.analytics.facts import refresh
    from app.services.forecasting.demand import run_forecast

    refresh()
    db.session.commit()
    run = run_forecast(horizon)
    db.session.commit()
    accuracy = "n/a" if run.wape is None else f"{1 - run.wape:.1%}"
    return f"forecast run {run.id}: {run.series_count} series, accuracy {accuracy}"


def enqueue(job, *args) -> str:
    from rq import Queue

    from app.queue import AppContextJob
    from app.services.core.redis_conn import redis_connection

    queue = Queue("default", connection=redis_connection(), job_class=AppContextJob)
    return queue.enqueue(job, *args, job_timeout=3600).id
