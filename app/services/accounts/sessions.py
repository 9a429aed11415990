"""Server-side sign-in sessions: one row per signed-in browser, so a session can be ended from
the server (sign-out, password change, an admin disabling the user) and ends by itself after
SESSION_IDLE_SECONDS without a request or SESSION_MAX_AGE_SECONDS after sign-in.

The browser's cookie holds a random token; the table holds its SHA-256 only. `last_seen_at`
is written at most every SESSION_TOUCH_SECONDS, in its own short transaction, so an ordinary
page view costs one indexed read and no write. That read also brings what every page of the
signed-in user needs (the organisation's region, for prices and visibility, and the unread
notifications count for the badge), so a page asks for neither again."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, delete, func, null, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import Notification, Organisation, Region, User, UserSession, utcnow
from app.services.core import driver_sql


@dataclass(frozen=True)
class Resumed:
    user: User
    unread_notifications: int | None  # counted in the same statement that found the session, when asked


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle() -> timedelta:
    return timedelta(seconds=current_app.config["SESSION_IDLE_SECONDS"])


def _max_age() -> timedelta:
    return timedelta(seconds=current_app.config["SESSION_MAX_AGE_SECONDS"])


def new_device_token() -> str:
    """A random name for a browser that signed in (the login throttle's device count)."""
    return secrets.token_urlsafe(16)


def start(user: User) -> str:
    """A new session for `user`; returns the token for the cookie. The user's ended sessions
    are cleared away at the same time, so the table holds about one row per live browser."""
    now = utcnow()
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.revoked_at.is_not(None), UserSession.last_seen_at < now - _idle(),
            UserSession.created_at < now - _max_age())))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(token), created_at=now, last_seen_at=now))
    db.session.flush()
    return token


def resume(token: str | None, user_id: int, count_unread: bool = False) -> Resumed | None:
    """The signed-in user of a live session with this token (its organisation's region loaded)
    and, with `count_unread`, the user's unread notifications count; or None (unknown, ended, idle
    too long, too old, or another user's)."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    found = driver_sql.rows(f"session-resume-{count_unread}", lambda: _resume_query(count_unread),
                            {"token_hash": _hash(token)})
    if not found:
        return None
    row = found[0]
    session_id, session_user_id, created_at, last_seen_at, revoked_at, unread_count = row[:_SESSION_WIDTH]
    now = utcnow()
    if (session_user_id != user_id or revoked_at is not None
            or last_seen_at < now - _idle() or created_at < now - _max_age()):
        return None
    if last_seen_at < now - timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"]):
        _touch(session_id, now)
    return Resumed(_user_of(row), unread_count)


_SESSION_COLUMNS = (UserSession.id, UserSession.user_id, UserSession.created_at, UserSession.last_seen_at,
                    UserSession.revoked_at)
_SESSION_WIDTH = len(_SESSION_COLUMNS) + 1  # and the unread count
_LOADED = tuple((model, tuple(model.__mapper__.get_property_by_column(column).key for column in model.__table__.c))
                for model in (User, Organisation, Region))


@lru_cache(maxsize=2)
def _resume_query(count_unread: bool):
    """resume's statement, built once (every request runs it): the token's hash is a parameter.
    Columns, not ORM entities: the user, its organisation and region are made from them
    (_user_of), without the ORM's loading (~0.2 ms of a page, issue 15)."""
    unread = (select(func.count()).select_from(Notification)
              .where(Notification.user_id == User.id, Notification.read_at.is_(None)).scalar_subquery()
              if count_unread else null())
    return (select(*_SESSION_COLUMNS, unread.label("unread"),
                   *(column for model, _keys in _LOADED for column in model.__table__.c))
            .join(User, User.id == UserSession.user_id).join(Organisation, Organisation.id == User.org_id)
            .outerjoin(Region, Region.id == Organisation.region_id)
            .where(UserSession.token_hash == bindparam("token_hash")))


def _user_of(row) -> User:
    """The User (with .org and .org.region) of resume's row, as the request's session would have
    loaded them: persistent and unmodified, or the session's own object where it holds that row."""
    session = db.session()
    objects, start = [], _SESSION_WIDTH
    for model, keys in _LOADED:
        values = row[start:start + len(keys)]
        start += len(keys)
        objects.append(_persistent(session, model, keys, values) if values[0] is not None else None)
    user, org, region = objects
    if user not in session:
        set_committed_value(user, "org", org)
        if org not in session:
            set_committed_value(org, "region", region)
        session.add(user)
    return user


def _persistent(session, model, keys: tuple, values) -> object:
    """The session's object of this row if it holds one, else one made from the values (detached,
    nothing to flush) that session.add makes persistent. Made as the ORM's loading makes a row's
    object (no __init__, the values straight into its state: loaded, unmodified; relationships
    load lazily): a third of the cost of the constructor and make_transient_to_detached."""
    key = identity_key(model, values[0])
    found = session.identity_map.get(key)
    if found is not None:
        return found
    made = model.__mapper__.class_manager.new_instance()
    state = instance_state(made)
    state.dict.update(zip(keys, values))
    state.key = key
    return made


def _touch(session_id: int, now) -> None:
    """Record activity outside the request's transaction: a page that only reads commits
    nothing, and a failed save must not take the touch (or the touch the save) with it."""
    try:
        with db.engine.begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    except SQLAlchemyError as error:  # activity is a convenience: never fail a page for it
        current_app.logger.warning("could not record session activity: %s", error)


def end(token: str | None) -> None:
    """Sign-out: this browser's session ends for good (a copy of the cookie too)."""
    if token and isinstance(token, str):
        db.session.execute(update(UserSession).where(UserSession.token_hash == _hash(token),
                                                     UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_all(user_id: int, *, keep: str | None = None) -> None:
    """End every session of the user, except the one whose token is `keep`."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep:
        query = query.where(UserSession.token_hash != _hash(keep))
    db.session.execute(query.values(revoked_at=utcnow()))
