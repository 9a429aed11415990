"""Enqueue jobs by name after commit; the worker's app context.

`enqueue_after_commit("jobs.family.function", *ids, job_id=...)` is the one way to start a job
from a request or a service. Services name the job by its dotted path, so they never import
`jobs` (the jobs import the services): RQ accepts the dotted path as it is, and the inline
fallback imports the function by that name when it runs. A callable is accepted too (the CLI
and the jobs themselves may hold one).

Nothing is sent while the transaction is open, nothing at all if it rolls back (a
savepoint's commit or rollback does not count). With REDIS_URL the job goes to RQ with retries;
without it the job runs inline right after the commit, and its exception is logged, not raised
(the request already committed; the job records its own failure)."""
from __future__ import annotations

import os
from datetime import timedelta
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Callable, Union

from flask import current_app
from flask_babel import force_locale
from redis.exceptions import RedisError
from rq import Queue, Retry, SimpleWorker, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.core.redis_conn import redis_connection

FAILURE_TTL = 7 * 24 * 3600
# A job in one of these states will run (again) without our help: enqueueing it twice would
# only make a second, useless run.
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


class AppContextJob(Job):
    """Runs every job inside a fresh app context (one per job, not one per worker import)."""

    def perform(self):
        app = _worker_app()
        # No request here: the default language, not the selector that reads the session.
        with app.app_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            if os.getpid() != _APP_PID:
                # A forked work horse must not share the parent's pooled database connections.
                for engine in db.engines.values():
                    engine.dispose(close=False)
            try:
                return super().perform()
            finally:
                db.session.remove()


_APP = None
_APP_PID = None


def _worker_app():
    """The app jobs run in: the worker command's own app (made before forking, so every work
    horse starts warm), or one made on the first job when RQ's plain `rq worker` runs us."""
    global _APP, _APP_PID  # one app per worker process
    if _APP is None:
        from app import create_app

        _APP, _APP_PID = create_app(), os.getpid()
    return _APP


def use_app_for_jobs(app) -> None:
    global _APP, _APP_PID
    _APP, _APP_PID = app, os.getpid()


JobFunc = Union[str, Callable[..., Any]]  # a dotted path ("jobs.documents.build_pick_list") or a function


def resolve(func: JobFunc) -> Callable[..., Any]:
    """The function a job names: `func` itself, or the one its dotted path names."""
    if callable(func):
        return func
    module, _, name = func.rpartition(".")
    if not module:
        raise ValueError(f"not a dotted job path: {func!r}")
    return getattr(import_module(module), name)


def job_name(func: JobFunc) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


@dataclass(frozen=True)
class PendingJob:
    func: JobFunc
    args: tuple
    job_id: str | None
    queue: str
    retries: int
    timeout: int | None
    replace_started: bool
    delay: float = 0
    new_id: bool = False


def enqueue_after_commit(func: JobFunc, *args, job_id: str | None = None,
                         queue: str = "default", retries: int = 3, timeout: int | None = None,
                         replace_started: bool = False, delay: float = 0, new_id: bool = False) -> None:
    """Run `func(*args)` (a function or its dotted path) once the current transaction commits:
    on an RQ worker when REDIS_URL is set, inline otherwise. Nothing happens if the transaction rolls back.

    `job_id` makes the job deterministic: while a job with that id waits in the queue (or runs),
    enqueueing it again does nothing. `replace_started=True` enqueues it even when RQ still
    believes it runs (the caller knows its worker died). `delay` (seconds) runs it that much later
    through RQ's scheduler (the worker runs with it); inline, a delayed job is not run: whoever
    delays one keeps a record that a sweep picks up. `new_id=True` says `job_id` was never used
    before (it names something new, e.g. a fresh event id): no old job to look up, no uniqueness to
    guard, so the job goes to Redis in one round trip instead of three."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the job belongs to this transaction: its rollback must drop it
    pending = session.info.get("lianying_jobs")
    if pending is None:
        pending = session.info["lianying_jobs"] = []
        app = current_app._get_current_object()
        event.listen(session, "after_commit", lambda s: _dispatch_pending(app, s))
        event.listen(session, "after_soft_rollback", _forget_pending)
    pending.append(PendingJob(func, args, job_id, queue, retries, timeout, replace_started, delay, new_id))


def enqueue_batch_after_commit(func: JobFunc, item: Any, *, job_id: str, **options) -> None:
    """Like enqueue_after_commit for a job that takes one list: every `item` added in one
    transaction goes to the same job (the first call's `job_id` names it), so a transaction
    that records several events sends one job, not one each. Items added inside a savepoint
    that rolls back stay in it, as jobs do (the job must cope with a missing row)."""
    for job in db.session().info.get("lianying_jobs") or ():
        if job.func == func and job.args and isinstance(job.args[0], list):
            job.args[0].append(item)
            return
    enqueue_after_commit(func, [item], job_id=job_id, **options)


def _dispatch_pending(app, session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the real commit is still to come
    jobs, session.info["lianying_jobs"] = session.info.get("lianying_jobs") or [], []
    for job in jobs:
        with app.app_context():
            try:
                dispatch(job)
            except RedisError:
                # The data is committed; the job's own record (e.g. a pending document) lets a
                # later sweep enqueue it again. The request must not fail now.
                current_app.logger.exception("could not enqueue job %s", job.job_id or job_name(job.func))


def _forget_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info["lianying_jobs"] = []


def dispatch(job: PendingJob) -> None:
    connection = redis_connection()
    if connection is None:
        if not job.delay:
            _run_inline(job)
        return
    queue = Queue(job.queue, connection=connection, job_class=AppContextJob)
    guarded = bool(job.job_id) and not job.new_id
    if guarded and not _clear_way_for(job, connection):
        return
    intervals = list(current_app.config.get("JOB_RETRY_INTERVALS", (10, 60, 300)))[:job.retries]
    options = dict(job_id=job.job_id, retry=Retry(max=job.retries, interval=intervals or 0) if job.retries else None,
                   job_timeout=job.timeout, failure_ttl=FAILURE_TTL)
    try:
        if job.delay:
            queue.enqueue_in(timedelta(seconds=job.delay), job.func, *job.args, **options)
        elif guarded:
            queue.enqueue(job.func, *job.args, unique=True, **options)
        else:  # the queue's registration, the job and its push in one pipeline (one round trip)
            pipeline = connection.pipeline()
            queue.enqueue(job.func, *job.args, pipeline=pipeline, **options)
            pipeline.execute()
    except DuplicateJobError:
        pass  # another process enqueued the same job a moment ago


def _clear_way_for(job: PendingJob, connection) -> bool:
    """False when a job with the same id will run anyway; otherwise remove the old job (done,
    failed, or started on a worker known to be dead) so the id can be used again."""
    try:
        old = AppContextJob.fetch(job.job_id, connection=connection)
    except NoSuchJobError:
        return True
    status = old.get_status(refresh=False)
    if status in _WAITING:
        return False
    if status == JobStatus.STARTED:
        if not job.replace_started:
            return False
        old.started_job_registry.remove_executions(old)
    old.delete(remove_from_queue=True)
    return True


def _run_inline(job: PendingJob) -> None:
    try:
        resolve(job.func)(*job.args)
        db.session.commit()
    except Exception:  # the caller's transaction is committed; the job keeps its own record
        db.session.rollback()
        current_app.logger.exception("inline job %s failed", job.job_id or job_name(job.func))
    finally:
        db.session.remove()


def run_worker(queues: list[str], burst: bool = False, simple: bool = False) -> None:
    """Work the queues with jobs in this process's app (the CLI's); `burst` stops when the
    queues are empty; `simple` runs jobs in this process instead of a forked work horse."""
    connection = redis_connection()
    if connection is None:
        raise SystemExit("REDIS_URL is not set: jobs run inline, no worker needed.")
    use_app_for_jobs(current_app._get_current_object())
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([Queue(name, connection=connection, job_class=AppContextJob) for name in queues],
                          connection=connection, job_class=AppContextJob)
    worker.work(with_scheduler=True, burst=burst)
