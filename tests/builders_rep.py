"""Builders for the rep portal tests: retailers on a rep's route, visits, targets, a fixed
clock. They add and flush; tests commit when a request must see the data."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from app.extensions import db
from app.models import Notification, Organisation, RepRoute, User
from app.models.visits import RepTarget, Visit
from tests import factories

_seq = itertools.count(1)

# Tuesday 2026-11-24 01:00 in Shanghai, still Monday 2026-11-23 in UTC: the route must follow
# the Shanghai calendar.
SHANGHAI_TUESDAY_UTC = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)
TUESDAY, MONDAY = 1, 0


def freeze_rep_clock(monkeypatch, at: datetime = SHANGHAI_TUESDAY_UTC) -> datetime:
    """Make the rep portal believe it is `at` (route weekday, overdue marks, visits)."""
    monkeypatch.setattr("app.services.field_sales.portal.now_utc", lambda: at)
    return at


def route_retailer(rep: User, weekday: int, dealer: Organisation, region_id: int | None, name: str | None = None,
                   **kw) -> Organisation:
    """A retailer served by `dealer`, on `rep`'s route on `weekday`."""
    retailer = factories.org("retailer", name or f"路线小店{next(_seq)}", region_id=region_id, channel="kiosk",
                             dealer_id=dealer.id, **kw)
    db.session.add(RepRoute(rep_id=rep.id, retailer_id=retailer.id, weekday=weekday))
    db.session.flush()
    return retailer


def visit(rep: User, retailer: Organisation, note: str = "检查陈列", at: datetime | None = None) -> Visit:
    row = Visit(rep_id=rep.id, retailer_id=retailer.id, note=note,
                at=at or datetime.now(timezone.utc) - timedelta(days=1))
    db.session.add(row)
    db.session.flush()
    return row


def target(rep: User, month: date, target_fen: int) -> RepTarget:
    row = RepTarget(rep_id=rep.id, month=month, target_fen=target_fen)
    db.session.add(row)
    db.session.flush()
    return row


def notification(user: User, title: str | None = None, about=None, read: bool = False) -> Notification:
    """A notice stored as written (message "plain"), about `about` (a notifications.Subject)."""
    row = Notification(user_id=user.id, org_id=user.org_id, role=user.role, kind="test.notice", message="plain",
                       params={"title": title or f"测试通知{next(_seq)}", "body": "正文"},
                       subject=about.kind if about else None, subject_id=about.id if about else None,
                       subject_scope_id=about.scope_id if about else None,
                       read_at=datetime.now(timezone.utc) if read else None)
    db.session.add(row)
    db.session.flush()
    return row


def order_at(buyer: Organisation, seller: Organisation, lines, at: datetime, status: str = "submitted",
             placed_by: User | None = None):
    """builders_ordering.order, made at `at` (e.g. relative to a frozen clock)."""
    from tests import builders_ordering

    row = builders_ordering.order(buyer, seller, lines, status=status, placed_by=placed_by)
    row.created_at = row.updated_at = at
    db.session.flush()
    return row
