"""E-mail copies of notices, one message per user, in the default language (an e-mail has no
reader's session to ask). The links are absolute URLs that the caller makes (the job builds
them from the web layer's routes: services never build URLs)."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from itertools import groupby
from typing import Callable

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, User, utcnow
from app.services.notifications.messages import render

LinkFor = Callable[[Notification], "str | None"]


def deliver_emails(notification_ids: list[int], link_for: LinkFor) -> int:
    """Send the not-yet-mailed notices among `notification_ids`, one message per user; marks
    them mailed. `link_for(notice)` is the absolute URL to put under a notice (or None).
    Returns the number of messages sent. Does nothing without MAIL_SERVER."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    pending = db.session.execute(
        select(Notification, User.email).join(User, User.id == Notification.user_id)
        .where(Notification.id.in_(notification_ids), Notification.emailed_at.is_(None), User.email.is_not(None))
        .order_by(Notification.user_id, Notification.id)).all()
    sent = 0
    with force_locale(config["BABEL_DEFAULT_LOCALE"]), \
            smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=30) as smtp:
        for address, group in groupby(pending, key=lambda row: row[1]):
            notices = [row[0] for row in group]
            texts = [render(n.message, n.params) for n in notices]
            message = EmailMessage()
            message["From"] = config["MAIL_FROM"]
            message["To"] = address
            message["Subject"] = texts[0].title if len(notices) == 1 else _("联营：%(n)d 条新通知", n=len(notices))
            message.set_content("\n\n".join(f"{text.title}\n{text.body}\n{link_for(n) or ''}".strip()
                                            for n, text in zip(notices, texts)))
            smtp.send_message(message)
            for notice in notices:
                notice.emailed_at = utcnow()
            sent += 1
    return sent
