"""What the rebate pages show: a dealer's progress in each agreement's current period, the
statement of accruals, and the brand's exposure (projected rebates of the current periods).
Each is a fixed number of grouped queries whatever the number of dealers or documents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import Organisation, OrgKind
from app.models.rebates import (AgreementStatus, RebateAccrual, RebateAgreement, RebateSettlement,
                                RebateSettlementStatus)
from app.services.core.clock import today_local
from app.services.rebates.maths import Progress, Terms, period_bounds, progress


@dataclass
class Standing:
    agreement: RebateAgreement
    dealer: Organisation
    period_start: date
    period_end: date
    progress: Progress
    settled_fen: int  # what the period's approved settlements hold (credited or netted)
    pending_fen: int = 0  # what its draft settlements hold, awaiting approval (balance not moved yet)

    @property
    def due_fen(self) -> int:
        """Earned but in no settlement yet (a draft already holds its part)."""
        return self.progress.earned_fen - self.settled_fen - self.pending_fen


def _bases(keys: set[tuple[int, int, date]]) -> tuple[dict, dict, dict]:
    """({key: basis}, {key: approved}, {key: drafts}) for (agreement, dealer, period start) keys;
    two queries."""
    if not keys:
        return {}, {}, {}
    starts = {k[2] for k in keys}
    agreements = {k[0] for k in keys}
    base = {(a, d, p): int(v) for a, d, p, v in db.session.execute(
        select(RebateAccrual.agreement_id, RebateAccrual.dealer_id, RebateAccrual.period_start,
               func.sum(RebateAccrual.base_value))
        .where(RebateAccrual.agreement_id.in_(agreements), RebateAccrual.period_start.in_(starts))
        .group_by(RebateAccrual.agreement_id, RebateAccrual.dealer_id, RebateAccrual.period_start))}
    settled: dict = {}
    pending: dict = {}
    for a, d, p, status, v in db.session.execute(
            select(RebateSettlement.agreement_id, RebateSettlement.dealer_id, RebateSettlement.period_start,
                   RebateSettlement.status, func.sum(RebateSettlement.amount_fen))
            .where(RebateSettlement.agreement_id.in_(agreements), RebateSettlement.period_start.in_(starts))
            .group_by(RebateSettlement.agreement_id, RebateSettlement.dealer_id, RebateSettlement.period_start,
                      RebateSettlement.status)):
        target = pending if status == RebateSettlementStatus.DRAFT.value else settled
        target[(a, d, p)] = int(v)
    return base, settled, pending


def standings(pairs: list[tuple[RebateAgreement, Organisation]], on: date | None = None) -> list[Standing]:
    """Each (agreement, dealer) in the period holding `on` (today)."""
    on = on or today_local()
    periods = {agreement.id: period_bounds(agreement.period, on) for agreement, _d in pairs}
    keys = {(a.id, d.id, periods[a.id][0]) for a, d in pairs}
    base, settled, pending = _bases(keys)
    out = []
    for agreement, dealer in pairs:
        start, end = periods[agreement.id]
        key = (agreement.id, dealer.id, start)
        out.append(Standing(agreement, dealer, start, end, progress(Terms.of(agreement), base.get(key, 0)),
                            settled.get(key, 0), pending.get(key, 0)))
    return out


def dealer_standings(dealer: Organisation, agreements: list[RebateAgreement]) -> list[Standing]:
    return standings([(a, dealer) for a in agreements])


def exposure(on: date | None = None) -> list[Standing]:
    """Every active agreement × the dealers it covers, in the current period: what the brand is
    projected to pay (earned to date) and what is still to settle. Dealers without accruals in
    the period are listed too (projected 0)."""
    agreements = list(db.session.scalars(select(RebateAgreement).where(
        RebateAgreement.status == AgreementStatus.ACTIVE.value).order_by(RebateAgreement.id)))
    dealers = list(db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.DEALER.value)
                                      .order_by(Organisation.code)))
    pairs = [(a, d) for a in agreements for d in dealers
             if a.dealer_id == d.id or (a.dealer_id is None and a.dealer_tier == d.tier)]
    return standings(pairs, on)


def accruals(agreement_id: int, dealer_id: int | None = None, limit: int | None = 500) -> list[RebateAccrual]:
    query = select(RebateAccrual).where(RebateAccrual.agreement_id == agreement_id)
    if dealer_id is not None:
        query = query.where(RebateAccrual.dealer_id == dealer_id)
    query = query.order_by(RebateAccrual.occurred_on.desc(), RebateAccrual.id.desc())
    return list(db.session.scalars(query.limit(limit) if limit else query))


def period_totals(agreement_id: int, dealer_id: int | None = None) -> list[tuple]:
    """[(dealer id, period start, documents, basis)] newest period first."""
    query = (select(RebateAccrual.dealer_id, RebateAccrual.period_start, func.count(), func.sum(RebateAccrual.base_value))
             .where(RebateAccrual.agreement_id == agreement_id)
             .group_by(RebateAccrual.dealer_id, RebateAccrual.period_start)
             .order_by(RebateAccrual.period_start.desc(), RebateAccrual.dealer_id))
    if dealer_id is not None:
        query = query.where(RebateAccrual.dealer_id == dealer_id)
    return [(d, p, int(n), int(v)) for d, p, n, v in db.session.execute(query)]


def dealer_names(ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
