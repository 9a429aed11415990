"""Exactly once for API clients: an `Idempotency-Key` claims (client, key) before the request
runs; the first execution's status and body are stored on the claim and returned for repeats.

- The claim is an INSERT … ON CONFLICT DO NOTHING in the request's own transaction, committed
  with the work and its stored answer (one commit: the order, its outbox events and the answer).
  A concurrent repeat's INSERT waits on the uncommitted unique key until the first commits
  (then it reads the stored answer) or rolls back (then it runs). When a view commits part of
  its work itself, the claim commits then without an answer, and a repeat meanwhile is told to
  retry (409); when a view rolls back (a refused request), the claim goes with it and `finish`
  writes it again with the answer.
- The same key with another request (method, path or body differ) is refused (KeyMismatch).
- A claim whose work never finished (the process died) can be taken over after STALE_AFTER;
  the work below is itself idempotent (orders by (buyer, key), stock lines by external_ref).
- Keys live for IDEMPOTENCY_KEY_HOURS (24 h): an older key is forgotten and `purge_expired`
  (jobs/api.py) deletes them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from app.extensions import db
from app.models import ApiIdempotencyKey
from app.services.core.clock import now_utc
from app.services.core.fixed_sql import fixed
from app.services.inventory.ledger import dialect_insert

STALE_AFTER = timedelta(minutes=2)
DEFAULT_HOURS = 24


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """The request as the key stands for it: method, path and body (JSON compared by content,
    so key order and whitespace do not matter)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


@dataclass
class Answer:
    status_code: int
    response_body: str


@dataclass
class Claim:
    row_id: int | None = None  # ours to run: store the answer on it
    replay: Answer | None = None  # finished before: answer this
    in_progress: bool = False  # another request with this key is running
    mismatch: bool = False  # the key was used for another request


def claim(client_id: int, key: str, fingerprint: str, hours: int = DEFAULT_HOURS) -> Claim:
    """Claim the key for this request, in its transaction (not committed: `finish` commits the
    claim with the work and the answer). Waits while another request holds the same key
    uncommitted."""
    now = now_utc()
    row_id = _insert_once(dict(client_id=client_id, key=key, request_hash=fingerprint, created_at=now))
    if row_id is not None:
        return Claim(row_id=row_id)
    existing = db.session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.client_id == client_id,
                                                                 ApiIdempotencyKey.key == key))
    if existing is None or existing.created_at < now - timedelta(hours=hours):
        # Purged meanwhile, or older than its lifetime (the cleanup job has not run yet):
        # forgotten, so this request runs as new (conditionally: one of several repeats wins).
        db.session.execute(delete(ApiIdempotencyKey).where(
            ApiIdempotencyKey.client_id == client_id, ApiIdempotencyKey.key == key,
            ApiIdempotencyKey.created_at < now - timedelta(hours=hours)))
        db.session.commit()
        return claim(client_id, key, fingerprint, hours)
    if existing.request_hash != fingerprint:
        db.session.rollback()
        return Claim(mismatch=True)
    if existing.status_code is not None:
        answer = Answer(existing.status_code, existing.response_body)
        db.session.commit()
        return Claim(replay=answer)
    # Unfinished: take it over only when its request must have died (conditional, so one wins).
    taken = db.session.execute(update(ApiIdempotencyKey).where(
        ApiIdempotencyKey.id == existing.id, ApiIdempotencyKey.status_code.is_(None),
        ApiIdempotencyKey.created_at < now - STALE_AFTER).values(created_at=now)).rowcount
    db.session.commit()
    return Claim(row_id=existing.id) if taken else Claim(in_progress=True)


def finish(row_id: int, status_code: int, body: str, client_id: int, key: str, fingerprint: str) -> None:
    """Store the first execution's answer and commit it with the claim and the request's own work
    (the order and its stored answer in one transaction). When the view rolled back (a refused
    request), the claim went with it: it is written again with the answer, unless a repeat has
    claimed the key meanwhile (that repeat runs and stores its own answer; this one made no
    change, so there is still one effect at most)."""
    stored = db.session.execute(update(ApiIdempotencyKey).where(ApiIdempotencyKey.id == row_id)
                                .values(status_code=status_code, response_body=body)).rowcount
    if not stored:
        db.session.scalar(fixed("api_idempotency_keys.answered", lambda: _claim_statement(_ANSWERED)), dict(
            client_id=client_id, key=key, request_hash=fingerprint, created_at=now_utc(), status_code=status_code,
            response_body=body))
    db.session.commit()


def release(row_id: int) -> None:
    """The request failed unexpectedly (5xx): forget the claim so that a retry runs again."""
    db.session.rollback()
    db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.id == row_id,
                                                       ApiIdempotencyKey.status_code.is_(None)))
    db.session.commit()


def purge_expired(hours: int = DEFAULT_HOURS) -> int:
    """Delete keys older than their lifetime; returns how many (the caller commits)."""
    return db.session.execute(delete(ApiIdempotencyKey).where(
        ApiIdempotencyKey.created_at < now_utc() - timedelta(hours=hours))).rowcount


def _insert_once(values: dict) -> int | None:
    # compiled once per process (SQLAlchemy does not cache an ON CONFLICT statement)
    return db.session.scalar(fixed("api_idempotency_keys.claim", lambda: _claim_statement(values)), values)


_ANSWERED = ("client_id", "key", "request_hash", "created_at", "status_code", "response_body")


def _claim_statement(names):
    table = ApiIdempotencyKey.__table__
    return (dialect_insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in names})
            .on_conflict_do_nothing(index_elements=["client_id", "key"]).returning(table.c.id))
