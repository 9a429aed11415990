"""Member tiers (普通/银卡/金卡/钻石) from the rolling 12-month spend.

The spend is what retailers paid for delivered goods in the last 365 days: the ledger's earn
entries' `value_fen` less clawbacks (returns), so it needs no scan of orders.

Rule (written down): an upgrade is immediate, both when a sign-off lifts the spend over a
threshold (`note_spend`) and in the nightly recompute. A downgrade waits a grace period: the
first night the spend is found below the current tier starts it (`below_since`); if the spend is
still below after `grace_days`, the tier drops to what the spend reaches then (possibly several
steps at once). Climbing back above the current tier's threshold during the grace clears it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select, text, update

from app.extensions import db
from app.models import MEMBER_TIERS, Organisation, PointsAccount, PointsEntry
from app.models.base import utcnow
from app.services.core.clock import LOCAL

TIER_LABELS = {"member": _l("普通会员"), "silver": _l("银卡"), "gold": _l("金卡"), "diamond": _l("钻石")}
RANK = {tier: i for i, tier in enumerate(MEMBER_TIERS)}
WINDOW_DAYS = 365


def tier_for(spend_fen: int, config) -> str:
    reached = "member"
    for tier, threshold in config.thresholds():
        if spend_fen >= threshold:
            reached = tier
    return reached


@dataclass(frozen=True)
class NextTier:
    tier: str
    short_fen: int  # still to spend


def next_tier(spend_fen: int, tier: str, config) -> NextTier | None:
    """The tier above `tier` and what is still to spend to reach it; None at the top."""
    for candidate, threshold in config.thresholds():
        if RANK[candidate] > RANK[tier]:
            return NextTier(candidate, max(0, threshold - spend_fen))
    return None


def note_spend(retailer_id: int, delta_fen: int, config) -> None:
    """A sign-off (or a return) moved the spend: keep the account's figure live and upgrade at
    once if it reaches a higher tier (downgrades wait for the nightly job's grace period)."""
    from app.services.loyalty.ledger import ensure_account

    ensure_account(retailer_id)
    table = PointsAccount.__table__
    spend, tier = db.session.execute(update(table).where(table.c.retailer_id == retailer_id)
                                     .values(spend_12m_fen=table.c.spend_12m_fen + delta_fen)
                                     .returning(table.c.spend_12m_fen, table.c.tier)).one()
    reached = tier_for(spend, config)
    if RANK[reached] > RANK[tier]:
        db.session.execute(update(table).where(table.c.retailer_id == retailer_id)
                           .values(tier=reached, below_since=None, tier_changed_at=utcnow()))


def rolling_spend(today: date) -> dict[int, int]:
    """{retailer_id: spend} over the 365 days up to `today` (one grouped query)."""
    since = datetime.combine(today - timedelta(days=WINDOW_DAYS), time(), LOCAL)
    return dict(db.session.execute(
        select(PointsEntry.retailer_id, func.sum(PointsEntry.value_fen))
        .where(PointsEntry.at >= since, PointsEntry.kind.in_(("earn", "clawback")))
        .group_by(PointsEntry.retailer_id)).all())


@dataclass(frozen=True)
class Recompute:
    accounts: int
    changed: int
    upgraded: int
    downgraded: int
    in_grace: int


def decide(tier: str, below_since: date | None, spend: int, today: date, config) -> tuple[str, date | None]:
    """(new tier, new below_since) for one account, by the module's rule."""
    reached = tier_for(spend, config)
    if RANK[reached] >= RANK[tier]:
        return reached, None
    if below_since is None:
        return tier, today
    if (today - below_since).days >= config.grace_days:
        return reached, None
    return tier, below_since


def recompute_all(today: date, config) -> Recompute:
    """The nightly job: every account's spend and tier, in a few statements whatever the number
    of retailers (an executemany of the changed accounts). Safe to run twice on a day."""
    spend = rolling_spend(today)
    rows = db.session.execute(select(PointsAccount.retailer_id, PointsAccount.tier, PointsAccount.below_since,
                                     PointsAccount.spend_12m_fen)).all()
    known = {row[0] for row in rows}
    missing = [rid for rid in spend if rid not in known]
    if missing:  # spend recorded for a retailer without an account yet (e.g. imported entries)
        retailers = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(missing),
                                                                        Organisation.kind == "retailer")))
        new = [dict(retailer_id=rid, balance=0, tier="member", spend_12m_fen=0) for rid in missing if rid in retailers]
        if new:
            db.session.execute(insert(PointsAccount), new)
            rows = list(rows) + [(n["retailer_id"], "member", None, 0) for n in new]
    changes, upgraded, downgraded, in_grace = [], 0, 0, 0
    now = utcnow()
    for retailer_id, tier, below_since, old_spend in rows:
        value = int(spend.get(retailer_id, 0) or 0)
        new_tier, new_below = decide(tier, below_since, value, today, config)
        upgraded += RANK[new_tier] > RANK[tier]
        downgraded += RANK[new_tier] < RANK[tier]
        in_grace += new_below is not None
        if (new_tier, new_below, value) != (tier, below_since, old_spend):
            changes.append({"rid": retailer_id, "new_tier": new_tier, "new_below": new_below, "new_spend": value,
                            "new_at": now if new_tier != tier else None})
    if changes:
        _write(changes)
    return Recompute(len(rows), len(changes), upgraded, downgraded, in_grace)


CHUNK = 10_000


def _write(changes: list[dict]) -> None:
    """The changed accounts: on PostgreSQL one UPDATE ... FROM unnest(arrays) per CHUNK accounts
    (an executemany of 100,000 single-row UPDATEs takes most of the job's time); elsewhere an
    executemany."""
    table = PointsAccount.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        statement = text("""
            UPDATE points_accounts a SET tier = c.tier, below_since = c.below_since, spend_12m_fen = c.spend,
                   tier_changed_at = COALESCE(c.changed_at, a.tier_changed_at)
            FROM unnest(CAST(:ids AS integer[]), CAST(:tiers AS varchar[]), CAST(:belows AS date[]),
                        CAST(:spends AS bigint[]), CAST(:ats AS timestamptz[]))
                 AS c(retailer_id, tier, below_since, spend, changed_at)
            WHERE a.retailer_id = c.retailer_id""")
        for start in range(0, len(changes), CHUNK):
            part = changes[start:start + CHUNK]
            db.session.execute(statement, {"ids": [c["rid"] for c in part], "tiers": [c["new_tier"] for c in part],
                                           "belows": [c["new_below"] for c in part],
                                           "spends": [c["new_spend"] for c in part],
                                           "ats": [c["new_at"] for c in part]})
        return
    db.session.execute(update(table).where(table.c.retailer_id == bindparam("rid"))
                       .values(tier=bindparam("new_tier"), below_since=bindparam("new_below"),
                               spend_12m_fen=bindparam("new_spend"),
                               tier_changed_at=func.coalesce(bindparam("new_at", type_=table.c.tier_changed_at.type),
                                                             table.c.tier_changed_at))
                       .execution_options(synchronize_session=False), changes)
