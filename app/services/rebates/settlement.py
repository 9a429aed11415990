"""Rebate settlement runs and their approval (the house pattern of promotions/settlement.py).

A run "as of" a day D (unique per day) computes, for every (agreement, dealer, period) with
accruals up to D, the rebate earned to date, and drafts "earned to date minus what the period's
earlier settlements hold (drafts included)" when that is not zero; negative: a debit. A pass
locks its run row and the agreements' rows (in id order) before it reads what is settled, so
two passes at once (the schedule and a button, two workers) draft once: the second reads the
first's committed drafts. The drafting happens in one transaction: a worker killed mid-run
leaves nothing half drafted. A waiting draft of the same run follows later passes.

Approval moves draft → approved by a conditional UPDATE (exactly once), then posts through the
credit services or the rebate balance (see `_post`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Organisation, User
from app.models.rebates import (RebateAccrual, RebateAgreement, RebatePayout, RebateRun, RebateSettlement,
                                RebateSettlementStatus)
from app.services.core import audit
from app.services.core.clock import now_utc, today_local
from app.services.core.errors import DomainError, NotFound
from app.services.rebates import balance
from app.services.rebates.maths import Terms, period_bounds, rebate

DRAFT, APPROVED = RebateSettlementStatus.DRAFT.value, RebateSettlementStatus.APPROVED.value


def check_as_of(as_of: date | None) -> date:
    if as_of is None:
        raise DomainError(_("请输入结算截止日期。"), field="as_of")
    if as_of > today_local():
        raise DomainError(_("结算截止日期不能晚于今天。"), field="as_of")
    return as_of


def default_as_of(today: date | None = None) -> date:
    """The last day of the previous month (what the monthly schedule settles)."""
    return (today or today_local()).replace(day=1) - timedelta(days=1)


def _run_row(as_of: date, actor_id: int | None) -> RebateRun:
    lookup = select(RebateRun).where(RebateRun.as_of == as_of)
    if db.session.scalar(lookup) is None:
        try:
            with db.session.begin_nested():
                db.session.add(RebateRun(as_of=as_of, created_by_id=actor_id, passes=0))
        except IntegrityError:
            pass  # a concurrent run created it
    return db.session.scalar(lookup.with_for_update().execution_options(populate_existing=True))


def start_run(as_of: date, actor_id: int | None = None) -> RebateRun:
    """Mark the run as running (the job commits this first, so the page shows it)."""
    run = _run_row(check_as_of(as_of), actor_id)
    run.started_at, run.finished_at = now_utc(), None
    db.session.flush()
    return run


def basis_to_date(as_of: date, agreement_ids: list[int] | None = None) -> dict[tuple[int, int, date], int]:
    """{(agreement, dealer, period start): basis to `as_of`} in one grouped query."""
    query = (select(RebateAccrual.agreement_id, RebateAccrual.dealer_id, RebateAccrual.period_start,
                    func.sum(RebateAccrual.base_value))
             .where(RebateAccrual.occurred_on <= as_of)
             .group_by(RebateAccrual.agreement_id, RebateAccrual.dealer_id, RebateAccrual.period_start))
    if agreement_ids is not None:
        query = query.where(RebateAccrual.agreement_id.in_(agreement_ids or [-1]))
    return {(a, d, p): int(v) for a, d, p, v in db.session.execute(query)}


def settled_so_far(agreement_ids: list[int] | None = None) -> dict[tuple[int, int, date], int]:
    query = (select(RebateSettlement.agreement_id, RebateSettlement.dealer_id, RebateSettlement.period_start,
                    func.sum(RebateSettlement.amount_fen))
             .group_by(RebateSettlement.agreement_id, RebateSettlement.dealer_id, RebateSettlement.period_start))
    if agreement_ids is not None:
        query = query.where(RebateSettlement.agreement_id.in_(agreement_ids or [-1]))
    return {(a, d, p): int(v) for a, d, p, v in db.session.execute(query)}


@dataclass
class RunResult:
    run: RebateRun
    drafted: int
    drafted_fen: int


def run_settlement(as_of: date, actor_id: int | None = None) -> RunResult:
    """One pass of the run as of `as_of` (module docstring); the caller commits."""
    run = start_run(as_of, actor_id)
    # Lock every agreement row in id order: a concurrent pass (another day's run too) waits here,
    # then reads this one's committed drafts.
    agreements = {a.id: a for a in db.session.scalars(select(RebateAgreement).order_by(RebateAgreement.id)
                                                        .with_for_update())}
    earned_base = basis_to_date(as_of)
    settled = settled_so_far()
    drafts = {(s.agreement_id, s.dealer_id, s.period_start): s for s in db.session.scalars(
        select(RebateSettlement).where(RebateSettlement.run_id == run.id, RebateSettlement.status == DRAFT)
        .execution_options(populate_existing=True))}
    drafted = drafted_fen = 0
    new_rows = []
    for key in sorted(set(earned_base) | set(drafts)):
        agreement_id, dealer_id, period_start = key
        agreement = agreements[agreement_id]
        base = earned_base.get(key, 0)
        earned = rebate(Terms.of(agreement), base)
        due = earned - settled.get(key, 0)
        if due == 0:
            continue
        draft = drafts.get(key)
        if draft is None:
            new_rows.append(dict(
                run_id=run.id, agreement_id=agreement_id, dealer_id=dealer_id, period_start=period_start,
                period_end=period_bounds(agreement.period, period_start)[1], base_value=base, earned_fen=earned,
                settled_before_fen=settled.get(key, 0), amount_fen=due, payout=agreement.payout, status=DRAFT,
                posted_fen=0, outstanding_fen=0, created_at=now_utc()))
        elif draft.amount_fen + due != 0:
            draft.amount_fen += due  # a waiting draft follows what changed since the last pass
            draft.earned_fen, draft.base_value = earned, base
        else:
            db.session.delete(draft)
        drafted += 1
        drafted_fen += due
    if new_rows:
        db.session.execute(RebateSettlement.__table__.insert(), new_rows)
    run.passes += 1
    run.finished_at = now_utc()
    db.session.flush()
    audit.record(actor_id, "rebate_settlement.run", "rebate_run", run.id, None,
                 {"as_of": as_of.isoformat(), "drafted": drafted, "drafted_fen": drafted_fen, "pass": run.passes})
    return RunResult(run, drafted, drafted_fen)


def _outstanding_debits(dealer_id: int, payout: str) -> list[RebateSettlement]:
    return list(db.session.scalars(select(RebateSettlement).where(
        RebateSettlement.dealer_id == dealer_id, RebateSettlement.payout == payout,
        RebateSettlement.outstanding_fen < 0).order_by(RebateSettlement.id).with_for_update()))


def _post(actor: User, settlement: RebateSettlement) -> None:
    """A rebate (amount > 0) first recovers the dealer's outstanding debits of the same payout,
    then pays the rest: a credit note brand → dealer, or a credit to the rebate balance. A debit
    (amount < 0) takes back from the balance what it holds (balance payout); what cannot be
    taken waits in outstanding_fen for the next rebate."""
    from app.services.credit.payments import issue_credit_note
    from app.services.ordering.routing import brand

    if settlement.amount_fen < 0:
        owed = -settlement.amount_fen
        taken = 0
        if settlement.payout == RebatePayout.BALANCE.value:
            taken = balance.take_up_to(settlement.dealer_id, owed, "debit", settlement_id=settlement.id,
                                       ref=settlement.number)
        settlement.posted_fen, settlement.outstanding_fen = -taken, -(owed - taken)
        return
    pay = settlement.amount_fen
    for debit in _outstanding_debits(settlement.dealer_id, settlement.payout):
        recover = min(pay, -debit.outstanding_fen)
        debit.outstanding_fen += recover
        pay -= recover
        if pay == 0:
            break
    settlement.posted_fen = pay
    if pay == 0:
        return
    if settlement.payout == RebatePayout.BALANCE.value:
        balance.move(settlement.dealer_id, pay, "settlement", settlement_id=settlement.id, ref=settlement.number)
    else:
        note = issue_credit_note(
            actor, seller=brand(), customer=db.session.get(Organisation, settlement.dealer_id), amount_fen=pay,
            reason="adjustment", source_ref=settlement.number,
            note=_("返利结算 %(code)s %(start)s 至 %(end)s", code=settlement.agreement.code,
                   start=settlement.period_start.isoformat(), end=settlement.period_end.isoformat()))
        settlement.credit_note_id = note.id


def approve(actor: User, settlement_id: int) -> RebateSettlement:
    """Approve a draft and post it, once."""
    settlement = db.session.get(RebateSettlement, settlement_id)
    if settlement is None:
        raise NotFound(_("结算单不存在。"))
    moved = db.session.execute(
        update(RebateSettlement).where(RebateSettlement.id == settlement_id, RebateSettlement.status == DRAFT)
        .values(status=APPROVED, approved_at=now_utc(), approved_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise DomainError(_("该结算单已批准。"))
    db.session.refresh(settlement)
    _post(actor, settlement)
    db.session.flush()
    audit.record(actor.id, "rebate_settlement.approve", "rebate_settlement", settlement.id, {"status": DRAFT},
                 {"status": APPROVED, "amount_fen": settlement.amount_fen, "posted_fen": settlement.posted_fen,
                  "dealer_id": settlement.dealer_id, "payout": settlement.payout})
    return settlement


def recent_runs(limit: int = 12) -> list[RebateRun]:
    """The newest runs with their settlements, agreements, dealers and credit notes."""
    return list(db.session.scalars(
        select(RebateRun).order_by(RebateRun.as_of.desc()).limit(limit)
        .options(selectinload(RebateRun.settlements).selectinload(RebateSettlement.dealer),
                 selectinload(RebateRun.settlements).selectinload(RebateSettlement.agreement),
                 selectinload(RebateRun.settlements).selectinload(RebateSettlement.credit_note))))


def dealer_settlements(dealer_id: int, limit: int = 200) -> list[RebateSettlement]:
    return list(db.session.scalars(
        select(RebateSettlement).where(RebateSettlement.dealer_id == dealer_id)
        .options(selectinload(RebateSettlement.agreement), selectinload(RebateSettlement.credit_note))
        .order_by(RebateSettlement.id.desc()).limit(limit)))
