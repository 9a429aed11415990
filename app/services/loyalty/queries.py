"""What the pages read: a retailer's summary (balance, tier, what the next tier needs, points
expiring soon), its history, the tier distribution, and the admin's lookup of one retailer's
ledger (brand admins only; any id that is not a retailer is a 404)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import MEMBER_TIERS, Organisation, PointsAccount, PointsEntry, PointsGiftClaim, PointsLot
from app.services.core.errors import NotFound
from app.services.core.paging import Page, paginate
from app.services.loyalty import settings
from app.services.loyalty.tiers import NextTier, next_tier

HISTORY_PAGE = 20


@dataclass
class Summary:
    retailer_id: int
    balance: int
    tier: str
    spend_12m_fen: int
    below_since: date | None
    downgrade_on: date | None  # the day the grace period ends, while it runs
    next: NextTier | None
    expiring_points: int
    expiring_first: date | None
    pending_gifts: int
    redeem_rate: int


def summary(retailer_id: int, today: date) -> Summary:
    """Three queries: the account, the lots expiring soon, the pending gifts."""
    config = settings.current()
    account = db.session.get(PointsAccount, retailer_id)
    balance, tier, spend, below = ((account.balance, account.tier, account.spend_12m_fen, account.below_since)
                                   if account else (0, "member", 0, None))
    expiring, first = db.session.execute(
        select(func.coalesce(func.sum(PointsLot.remaining), 0), func.min(PointsLot.expires_on))
        .where(PointsLot.retailer_id == retailer_id, PointsLot.remaining > 0,
               PointsLot.expires_on <= today + timedelta(days=config.notice_days))).one()
    gifts = db.session.scalar(select(func.coalesce(func.sum(PointsGiftClaim.qty), 0)).where(
        PointsGiftClaim.retailer_id == retailer_id, PointsGiftClaim.status == "pending"))
    return Summary(retailer_id, balance, tier, spend, below,
                   below + timedelta(days=config.grace_days) if below else None,
                   next_tier(spend, tier, config), int(expiring), first, int(gifts), config.redeem_points_per_yuan)


def history(retailer_id: int, page: int = 1) -> Page:
    return paginate(select(PointsEntry).where(PointsEntry.retailer_id == retailer_id)
                    .order_by(PointsEntry.at.desc(), PointsEntry.id.desc()), page, HISTORY_PAGE)


def lots(retailer_id: int) -> list[PointsLot]:
    """The lots still holding points, first expiring first (what is spent first)."""
    return list(db.session.scalars(select(PointsLot).where(PointsLot.retailer_id == retailer_id,
                                                           PointsLot.remaining > 0)
                                   .order_by(PointsLot.expires_on, PointsLot.id)))


def expiry_schedule(retailer_id: int) -> list[tuple[date, int]]:
    """[(expiry date, points)] for every date on which points of the balance expire, first
    first (lots of one date summed): the whole balance, so the list adds up to it (one query)."""
    return [(on, int(points)) for on, points in db.session.execute(
        select(PointsLot.expires_on, func.sum(PointsLot.remaining))
        .where(PointsLot.retailer_id == retailer_id, PointsLot.remaining > 0)
        .group_by(PointsLot.expires_on).order_by(PointsLot.expires_on))]


def distribution() -> list[tuple[str, int, int]]:
    """(tier, retailers, points held) for every tier; retailers without an account are members."""
    rows = {tier: (n, pts) for tier, n, pts in db.session.execute(
        select(PointsAccount.tier, func.count(), func.coalesce(func.sum(PointsAccount.balance), 0))
        .group_by(PointsAccount.tier)).all()}
    retailers = db.session.scalar(select(func.count()).select_from(Organisation)
                                  .where(Organisation.kind == "retailer")) or 0
    accounts = sum(n for n, _pts in rows.values())
    result = []
    for tier in MEMBER_TIERS:
        n, pts = rows.get(tier, (0, 0))
        if tier == "member":
            n += max(0, retailers - accounts)
        result.append((tier, int(n), int(pts)))
    return result


def retailer_by_code(code: str) -> Organisation:
    """A retailer for the brand admin's lookup; NotFound for anything else."""
    code = (code or "").strip()
    row = db.session.scalar(select(Organisation).where(Organisation.code == code, Organisation.kind == "retailer")) \
        if code else None
    if row is None:
        raise NotFound(_("没有这个零售商编号。"))
    return row


def retailer_by_id(retailer_id: int) -> Organisation:
    row = db.session.scalar(select(Organisation).where(Organisation.id == retailer_id,
                                                       Organisation.kind == "retailer"))
    if row is None:
        raise NotFound(_("零售商不存在。"))
    return row
