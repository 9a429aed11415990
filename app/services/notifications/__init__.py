"""In-app notifications, and e-mail copies when SMTP is configured.

A notice is addressed to an `Audience` (an organisation and a role, optionally narrowed to
admins holding a permission) and stored once per recipient user, so reading is per user and
`unread_count` is a single count on the (user_id, read_at) index. A `dedupe_key` makes the same
notice to the same user a no-op, which is what lets a job that runs twice notify once.

A notice stores what it is about (`Subject`: a kind and ids, never a URL; the web layer makes
the link for the recipient's role when it shows the notice) and what it says (a message code
and params, rendered in the reader's language: `text_of`, messages.py).

E-mail: when MAIL_SERVER is set, the new notices of users with an address are sent after the
commit (the job jobs.notification_mail, inline without Redis), one message per user (mail.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from app.extensions import db
from app.models import Notification, User, utcnow
from app.queue import enqueue_after_commit
from app.services.core.messages import stored
from app.services.core.errors import NotFound
from app.services.core.fixed_sql import fixed
from app.services.inventory.ledger import insert_ignoring_conflicts
from app.services.notifications.messages import PLAIN, Text, render  # noqa: F401 (PLAIN for callers)


@dataclass(frozen=True)
class Audience:
    org_id: int
    role: str
    permission: str | None = None


@dataclass(frozen=True)
class Subject:
    """What a notice is about: "order" (the recipient bought it), "sales_order" (the recipient
    sells it), "return", "stock" (id: the product, scope_id: the warehouse)."""

    kind: str
    id: int
    scope_id: int | None = None


@dataclass(frozen=True)
class Notice:
    audience: Audience
    kind: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    about: Subject | None = None
    dedupe_key: str | None = None


def recipients(audience: Audience) -> list[User]:
    users = db.session.scalars(select(User).where(User.org_id == audience.org_id, User.role == audience.role,
                                                  User.active.is_(True)).order_by(User.id))
    return [u for u in users if audience.permission is None or u.can(audience.permission)]


def notify_all(notices: list[Notice]) -> list[int]:
    """Store every notice for every recipient; returns the ids of rows actually created
    (a notice whose dedupe key the user already has is skipped). E-mails follow the commit."""
    now = utcnow()
    created: list[int] = []
    # A notice to every user of a role: one INSERT ... SELECT over the users, its RETURNING
    # naming the rows created (no user objects loaded, no read-back).
    for notice in notices:
        if notice.audience.permission is None:
            values = {**_columns(notice), "created_at": now}
            statement = fixed("notifications.insert_for_role", lambda: _insert_for_role(list(values)))
            created.extend(db.session.scalars(statement, {f"n_{name}": value for name, value in values.items()}))
    created.extend(_insert_for_permission([n for n in notices if n.audience.permission is not None], now))
    if created and current_app.config.get("MAIL_SERVER"):
        enqueue_after_commit("jobs.notification_mail.send_notification_emails", created)
    return created


def _columns(notice: Notice) -> dict[str, Any]:
    about = notice.about
    return dict(org_id=notice.audience.org_id, role=notice.audience.role, kind=notice.kind, message=notice.message,
                params={key: stored(value) for key, value in notice.params.items()},
                subject=about.kind if about else None, subject_id=about.id if about else None,
                subject_scope_id=about.scope_id if about else None, dedupe_key=notice.dedupe_key)


def _insert_for_role(names):
    """INSERT ... SELECT of a notice for every active user of its organisation and role, RETURNING
    the ids of the rows created; the notice's columns (`names`) are bound as `n_<column>` (the
    statement is compiled once per process: core.fixed_sql)."""
    table = Notification.__table__
    columns = {name: bindparam(f"n_{name}", type_=table.c[name].type) for name in names}
    users = select(User.id, *columns.values()).where(
        User.org_id == columns["org_id"], User.role == columns["role"], User.active.is_(True))
    return (insert_ignoring_conflicts(table).from_select(["user_id", *columns], users)
            .returning(table.c.id))


def _insert_for_permission(notices: list[Notice], now) -> list[int]:
    """Notices to the users of a role holding a permission (User.can decides, in Python)."""
    users_by_audience: dict[Audience, list[User]] = {}
    rows = []
    for notice in notices:
        if notice.audience not in users_by_audience:
            users_by_audience[notice.audience] = recipients(notice.audience)
        for user in users_by_audience[notice.audience]:
            rows.append(dict(user_id=user.id, **_columns(notice), created_at=now))
    if not rows:
        return []
    # Plain executemany (one prepared statement, pipelined), then read back what this call
    # created: its rows carry this call's `created_at`.
    db.session.execute(insert_ignoring_conflicts(Notification.__table__), rows)
    users = sorted({row["user_id"] for row in rows})
    created: list[int] = []
    for start in range(0, len(users), 1000):
        created.extend(db.session.scalars(select(Notification.id).where(
            Notification.user_id.in_(users[start:start + 1000]), Notification.created_at == now)))
    return created


def notify(audience: Audience, *, kind: str, message: str, params: dict[str, Any] | None = None,
           about: Subject | None = None, dedupe_key: str | None = None) -> list[int]:
    return notify_all([Notice(audience, kind, message, params or {}, about, dedupe_key)])


def plain_params(title: str, body: str = "") -> dict[str, str]:
    """Params of a PLAIN notice: text stored as written (old notices; tests)."""
    return {"title": title, "body": body}


def text_of(notification: Notification) -> Text:
    """The notice's title and body in the current language (the reader's, in a request)."""
    return render(notification.message, notification.params)


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def notifications_for(user: User, unread_only: bool = False):
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def mark_read(user: User, notification_id: int) -> Notification:
    notification = db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                                Notification.user_id == user.id))
    if notification is None:
        raise NotFound(_("通知不存在。"))
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(user: User) -> int:
    result = db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                           Notification.read_at.is_(None))
                                .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
