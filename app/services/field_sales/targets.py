"""Monthly sales targets of reps, and the progress against them.

What a rep achieved in a month is the sum of the totals of the orders the rep placed in that
month (Asia/Shanghai calendar), leaving out rejected and cancelled orders. Admins set targets;
every change is audited."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Order, Role, User
from app.models.visits import RepTarget
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.core.money import MAX_FEN
from app.services.core.paging import Page, paginate
from app.services.core.records import require
from app.services.field_sales.portal import VOID_STATUSES
from app.services.core.clock import LOCAL, today_local

MONTH_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")


def current_month() -> date:
    return today_local().replace(day=1)


def parse_month(text: str | None) -> date | None:
    """'2026-11' → date(2026, 11, 1); None for anything else."""
    match = MONTH_PATTERN.fullmatch((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month as [start, end) instants: local midnights, compared with UTC timestamps."""
    start = datetime(month.year, month.month, 1, tzinfo=LOCAL)
    end_day = next_month(month)
    return start, datetime(end_day.year, end_day.month, 1, tzinfo=LOCAL)


@dataclass
class Progress:
    month: date
    target_fen: int | None  # None: no target set for the month
    achieved_fen: int
    order_count: int

    @property
    def percent(self) -> int | None:
        if not self.target_fen:
            return None
        return self.achieved_fen * 100 // self.target_fen

    @property
    def remaining_fen(self) -> int:
        return max(0, (self.target_fen or 0) - self.achieved_fen)


def achieved_by(rep_ids: list[int], month: date) -> dict[int, tuple[int, int]]:
    """{rep id: (sum of order totals, number of orders)} in the month (one grouped query on
    the orders' (placed_by_id, created_at) index)."""
    if not rep_ids:
        return {}
    start, end = month_bounds(month)
    rows = db.session.execute(
        select(Order.placed_by_id, func.coalesce(func.sum(Order.total_fen), 0), func.count())
        .where(Order.placed_by_id.in_(rep_ids), Order.created_at >= start, Order.created_at < end,
               Order.status.not_in(VOID_STATUSES))
        .group_by(Order.placed_by_id))
    return {rep_id: (int(total), int(count)) for rep_id, total, count in rows}


def month_progress(rep: User, month: date | None = None) -> Progress:
    """The rep's target and achievement for the month (this month by default): two queries."""
    month = month or current_month()
    target = db.session.scalar(select(RepTarget.target_fen).where(RepTarget.rep_id == rep.id, RepTarget.month == month))
    total, count = achieved_by([rep.id], month).get(rep.id, (0, 0))
    return Progress(month, target, total, count)


def set_target(actor: User, rep_id: int | None, month: date | None, target_fen: int | None) -> RepTarget:
    """Set (or change) a rep's target for a month; audited."""
    try:
        rep = require(User, rep_id, role=Role.REP.value)
    except NotFound:  # a form field: the error goes next to it
        raise DomainError(_("请选择业务员。"), field="rep_id") from None
    if month is None:
        raise DomainError(_("请输入月份，例如 2026-01。"), field="month")
    if target_fen is None:
        raise DomainError(_("请输入金额。"), field="target")
    if not 0 <= target_fen <= MAX_FEN:
        raise DomainError(_("金额过大。"), field="target")
    month = month.replace(day=1)
    target = db.session.scalar(select(RepTarget).where(RepTarget.rep_id == rep.id, RepTarget.month == month))
    before = None
    if target is None:
        target = RepTarget(rep_id=rep.id, month=month, target_fen=target_fen)
        db.session.add(target)
    else:
        before = audit.snapshot(target, ["rep_id", "month", "target_fen"])
        target.target_fen = target_fen
    db.session.flush()
    audit.record(actor.id, "rep_target.set", "rep_target", target.id, before,
                 audit.snapshot(target, ["rep_id", "month", "target_fen"]), keep=("rep_id", "month"))
    return target


@dataclass
class TargetRow:
    rep: User
    progress: Progress


def targets_overview(month: date, search: str = "", page: int = 1, per_page: int = 50) -> Page:
    """A page of TargetRow: every active rep with the month's target and achievement (four
    queries whatever the number of reps)."""
    query = select(User).where(User.role == Role.REP.value, User.active.is_(True))
    term = (search or "").strip()[:40]
    if term:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.username.like(like, escape="\\"), User.display_name.like(like, escape="\\")))
    result = paginate(query.order_by(User.username), page, per_page)
    ids = [rep.id for rep in result.items]
    targets = dict(db.session.execute(select(RepTarget.rep_id, RepTarget.target_fen)
                                      .where(RepTarget.rep_id.in_(ids or [-1]), RepTarget.month == month)).all())
    achieved = achieved_by(ids, month)
    result.items = [TargetRow(rep, Progress(month, targets.get(rep.id), *achieved.get(rep.id, (0, 0))))
                    for rep in result.items]
    return result


def active_rep(rep_id: int) -> User:
    return require(User, rep_id, _("业务员不存在。"), role=Role.REP.value, active=True)


def rep_choices() -> list[tuple[int, str]]:
    """(id, label) of every active rep, for the target form's select."""
    rows = db.session.execute(select(User.id, User.username, User.display_name)
                              .where(User.role == Role.REP.value, User.active.is_(True)).order_by(User.username))
    return [(rep_id, f"{username} {name}".strip()) for rep_id, username, name in rows]
