"""Helpers for the sign-in and user administration tests: reading a field's error from a page,
re-reading rows after a request, and the login throttle's storage."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, LoginFailure, User, utcnow
from app.services.core.redis_conn import redis_connection


def field_error(body: str, name: str) -> str | None:
    """The error shown next to form field `name` (the form macro's `<p class="error" id="<name>-msg">`)."""
    match = re.search(rf'<p class="error" id="{re.escape(name)}-msg">(.*?)</p>', body, re.S)
    return html.unescape(match.group(1)) if match else None


def checked_boxes(body: str, name: str) -> set[str]:
    """The values of the ticked checkboxes named `name` on a page."""
    values = set()
    for tag in re.findall(r"<input[^>]*>", body):
        if f'name="{name}"' in tag and re.search(r"\schecked[\s>]", tag):
            values.add(re.search(r'value="([^"]*)"', tag).group(1))
    return values


def fresh_user(user_id: int) -> User:
    """The user as the database has it now (requests commit in their own sessions)."""
    db.session.expire_all()
    return db.session.get(User, user_id)


def audit_events(action: str, entity_id: int | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def login_from(client, username: str, password: str, address: str):
    """A login POST as if sent from `address`."""
    client.get("/login")
    return client.post("/login", {"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def expire_login_failures() -> None:
    """Make every recorded login failure older than the throttle window, in whichever store
    the app uses (Redis keys expire; database rows are moved back in time)."""
    redis = redis_connection()
    if redis is not None:
        for key in redis.scan_iter("login-fail:*"):
            redis.delete(key)
        return
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(seconds=window + 1)))
    db.session.commit()
