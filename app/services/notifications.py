"""In-app notifications, and e-mail copies when SMTP is configured.

A notice is addressed to an `Audience` (an organisation and a role, optionally narrowed to
admins holding a permission) and stored once per recipient user, so reading is per user and
`unread_count` is a single count on the (user_id, read_at) index. A `dedupe_key` makes the same
notice to the same user a no-op, which is what lets a job that runs twice notify once.

E-mail: when MAIL_SERVER is set, the new notices of users with an address are sent after the
commit (an RQ job, inline without Redis), one message per user, via smtplib.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from itertools import groupby

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Notification, User, utcnow
from app.services.core.errors import NotFound
from app.services.inventory.ledger import insert_ignoring_conflicts


@dataclass(frozen=True)
class Audience:
    org_id: int
    role: str
    permission: str | None = None

    @property
    def label(self) -> str:
        return f"{self.role}:{self.permission}" if self.permission else self.role


@dataclass(frozen=True)
class Notice:
    audience: Audience
    kind: str
    title: str
    body: str = ""
    link: str = ""
    dedupe_key: str | None = None


def recipients(audience: Audience) -> list[User]:
    users = db.session.scalars(select(User).where(User.org_id == audience.org_id, User.role == audience.role,
                                                  User.active.is_(True)).order_by(User.id))
    return [u for u in users if audience.permission is None or u.can(audience.permission)]


def notify_all(notices: list[Notice]) -> list[int]:
    """Store every notice for every recipient; returns the ids of rows actually created
    (a notice whose dedupe key the user already has is skipped). E-mails follow the commit."""
    users_by_audience: dict[Audience, list[User]] = {}
    rows = []
    now = utcnow()
    for notice in notices:
        if notice.audience not in users_by_audience:
            users_by_audience[notice.audience] = recipients(notice.audience)
        for user in users_by_audience[notice.audience]:
            rows.append(dict(user_id=user.id, org_id=notice.audience.org_id, audience=notice.audience.label,
                             kind=notice.kind, title=notice.title[:200], body=notice.body, link=notice.link[:300],
                             dedupe_key=notice.dedupe_key, created_at=now))
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
    if created and current_app.config.get("MAIL_SERVER"):
        from jobs.notification_mail import send_notification_emails
        from jobs.queue import enqueue_after_commit

        enqueue_after_commit(send_notification_emails, created)
    return created


def notify(audience: Audience, *, kind: str, title: str, body: str = "", link: str = "",
           dedupe_key: str | None = None) -> list[int]:
    return notify_all([Notice(audience, kind, title, body, link, dedupe_key)])


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


def deliver_emails(notification_ids: list[int]) -> int:
    """Send the not-yet-mailed notices among `notification_ids`, one message per user; marks
    them mailed. Returns the number of messages sent. Does nothing without MAIL_SERVER."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    pending = db.session.execute(
        select(Notification, User.email).join(User, User.id == Notification.user_id)
        .where(Notification.id.in_(notification_ids), Notification.emailed_at.is_(None), User.email.is_not(None))
        .order_by(Notification.user_id, Notification.id)).all()
    sent = 0
    with smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=30) as smtp:
        for address, group in groupby(pending, key=lambda row: row[1]):
            notices = [row[0] for row in group]
            message = EmailMessage()
            message["From"] = config["MAIL_FROM"]
            message["To"] = address
            message["Subject"] = (notices[0].title if len(notices) == 1
                                  else _("联营：%(n)d 条新通知", n=len(notices)))
            message.set_content("\n\n".join(f"{n.title}\n{n.body}\n{n.link}".strip() for n in notices))
            smtp.send_message(message)
            for notice in notices:
                notice.emailed_at = utcnow()
            sent += 1
    return sent
