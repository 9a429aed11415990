"""Enqueueing after commit, inline fallback without Redis, and the worker's job class."""
from __future__ import annotations

from typing import Any, Callable

from flask import current_app
from rq import Queue, Retry, Worker
from rq.job import Job
from sqlalchemy import event

from app.extensions import db
from app.services.redis_conn import redis_connection


class AppContextJob(Job):
    """Runs every job inside a fresh app context (one per job, not one per worker import)."""

    def perform(self):

        app = _worker_app()
        with app.app_context():
            try:
                return super().perform()
            finally:
                db.session.remove()


_APP = None


def _worker_app():
    global _APP  # one app per worker process, made on the first job
    from app import create_app
    if _APP is None:

        _APP = create_app()
    return _APP


def enqueue_after_commit(func: Callable[..., Any], *args, job_id: str | None = None,
                         queue: str = "default", retries: int = 3) -> None:
    """Run `func(*args)` once the current transaction commits: on an RQ worker when REDIS_URL
    is set, inline otherwise. Nothing happens if the transaction rolls back."""
    session = db.session()
    app = current_app._get_current_object()

    def _after_commit(_session):
        with app.app_context():
            connection = redis_connection()
            if connection is None:
                func(*args)
                db.session.commit()
                return
            Queue(queue, connection=connection, job_class=AppContextJob).enqueue(
                func, *args, job_id=job_id, retry=Retry(max=retries, interval=[5, 30, 120][:retries]),
                failure_ttl=7 * 24 * 3600)

    event.listen(session, "after_commit", _after_commit, once=True)


def run_worker(queues: list[str]) -> None:
    connection = redis_connection()
    if connection is None:
        raise SystemExit("REDIS_URL is not set: jobs run inline, no worker needed.")
    Worker([Queue(name, connection=connection) for name in queues], connection=connection,
           job_class=AppContextJob).work(with_scheduler=True)
