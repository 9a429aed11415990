"""The notification centre, the same for every role: the caller's notifications (all or unread,
paged), mark one or all read (in place with htmx, or by plain POST), and the unread badge in
every role's navigation.

`register_notification_pages(bp)` adds the routes to a role blueprint; the role guard of the
blueprint applies, and every query is by `current_user.id` (another user's notification id is a
404). Templates use endpoints relative to the blueprint.

A notice is shown in the reader's language (its message code and params rendered now) with a
link made for the role it was addressed to (links.py): `shown(notification)`.

The badge: the layouts call `unread_notifications()`, a context helper that runs one COUNT on
the (user_id, read_at) index the first time a template asks, and remembers it for the rest of
the request. Fragments never ask, so htmx responses cost nothing; a full page costs one query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Notification
from app.services import notifications
from app.services.core.errors import NotFound
from app.services.core.paging import paginate
from app.web.common.forms import ActionForm
from app.web.common.htmx import is_htmx, redirect_to, render_page, wants_fragment
from app.web.shared.notifications.links import notice_link

PAGE_TEMPLATE = "notifications/index.html"
LIST_FRAGMENT = "components/_notifications.html"


@dataclass(frozen=True)
class ShownNotice:
    """A notice as its reader sees it (templates/components/_notification_item.html)."""

    id: int
    title: str
    body: str
    link: str | None
    read_at: datetime | None
    created_at: datetime


def shown(notification: Notification) -> ShownNotice:
    text = notifications.text_of(notification)
    return ShownNotice(notification.id, text.title, text.body, notice_link(notification), notification.read_at,
                       notification.created_at)


def unread_notifications() -> int:
    """The signed-in user's unread count, counted at most once per request (usually with the
    session, by load_user; marking notices read counts again)."""
    if "unread_notifications" not in g:
        g.unread_notifications = (notifications.unread_count(current_user)
                                  if current_user.is_authenticated else 0)
    return g.unread_notifications


def _badge_context() -> dict:
    return {"unread_notifications": unread_notifications}


def _install_badge(state) -> None:
    # Several role blueprints register the pages; the app needs the helper once. It is
    # app-wide because pages of shared blueprints (e.g. documents) extend a role layout too.
    if "notification_badge" not in state.app.extensions:
        state.app.extensions["notification_badge"] = True
        state.app.context_processor(_badge_context)


def register_notification_pages(bp: Blueprint) -> None:
    bp.add_url_rule("/notifications/", "notifications_list", notifications_list)
    bp.add_url_rule("/notifications/badge", "notifications_badge", notifications_badge)
    bp.add_url_rule("/notifications/<int:notification_id>/read", "notifications_read", notifications_read,
                    methods=["POST"])
    bp.add_url_rule("/notifications/read-all", "notifications_read_all", notifications_read_all, methods=["POST"])
    bp.record_once(_install_badge)


def _list_page(unread_only: bool, page: int, notice: str | None = None, oob_badge: bool = False):
    results = paginate(notifications.notifications_for(current_user, unread_only), page,
                       per_page=current_app.config["PAGE_SIZE"])
    results.items = [shown(n) for n in results.items]
    unread = notifications.unread_count(current_user)
    return render_page(PAGE_TEMPLATE, LIST_FRAGMENT, results=results, unread_only=unread_only, unread=unread,
                       notice=notice, oob_badge=oob_badge and wants_fragment())


def _unread_only() -> bool:
    """The list shows unread notices only (?unread=1); actions keep the filter."""
    return request.args.get("unread") == "1"


def notifications_list():
    return _list_page(_unread_only(), request.args.get("page", 1, type=int))


def notifications_badge():
    """The badge alone, for htmx (e.g. to refresh it); a plain request goes to the list."""
    if not is_htmx():
        return redirect_to(url_for(".notifications_list"), code=302)
    return render_page("components/_notification_badge.html", unread=unread_notifications())


def notifications_read(notification_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        notification = notifications.mark_read(current_user, notification_id)
    except NotFound:
        abort(404)
    db.session.commit()
    g.pop("unread_notifications", None)
    target = notice_link(notification) if request.form.get("follow") else None
    if target:
        return redirect_to(target)
    if is_htmx():
        return render_page("components/_notification_read.html", n=shown(notification),
                           unread=notifications.unread_count(current_user), unread_only=_unread_only())
    return redirect_to(url_for(".notifications_list", unread=1 if _unread_only() else None))


def notifications_read_all():
    if not ActionForm().validate_on_submit():
        abort(400)
    count = notifications.mark_all_read(current_user)
    db.session.commit()
    g.pop("unread_notifications", None)
    message = _("已将 %(n)d 条通知标为已读。", n=count)
    if is_htmx():
        return _list_page(_unread_only(), 1, notice=message, oob_badge=True)
    flash(message, "success")
    return redirect_to(url_for(".notifications_list", unread=1 if _unread_only() else None))
