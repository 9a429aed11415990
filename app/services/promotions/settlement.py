"""Promotion settlement: what the brand owes each dealer for the promotions it funds.

A dealer that sells to its retailers with a brand-funded or shared promotion gives a discount
(or a gift) the brand pays for: each redemption row froze the brand's share (`brand_fen`). A
settlement run for a period of Asia/Shanghai days computes, per dealer, what it has *earned to
date*: the brand's share of every redemption on the dealer's orders placed up to the end of the
period, net of what cancels, rejections and returns gave back (a fully released redemption
counts 0; a partly returned one keeps brand_fen × (value − released) / value, rounded half up
once per redemption). It drafts one settlement per dealer for "earned to date minus what the
dealer's earlier settlements already hold" (drafts included), when that is above zero.

So a run is idempotent: the same period twice finds nothing left to draft; a later run after
late returns drafts only the difference (a negative difference is owed back and simply reduces
the next settlement). Two runs at once (the schedule and a button, two workers) cannot both
draft: each run locks the dealers' rows (a batch at a time) before it reads what is settled, so
the second reads the first one's committed drafts. A worker killed mid-run rolls back the batch
it was drafting: nothing half-drafted; the batches it committed stay (each is right on its own),
and the next run finds them settled. The run row shows the latest pass's progress.

Approving a draft (the brand) posts a credit note from the brand to the dealer through
services/credit (it pays the dealer's open invoices or stays as credit), exactly once: the
draft → approved move is a conditional UPDATE."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Order, Organisation, OrgKind, PromotionRedemption, User
from app.models.promotions import PromotionSettlement, SettlementRun, SettlementStatus
from app.services.core import audit
from app.services.core.clock import LOCAL, now_utc, today_local
from app.services.core.errors import DomainError, NotFound

MAX_PERIOD_DAYS = 3 * 366


def default_period(today: date | None = None) -> tuple[date, date]:
    """The previous calendar month (Asia/Shanghai), which the monthly schedule settles."""
    first_of_this_month = (today or today_local()).replace(day=1)
    last = first_of_this_month - timedelta(days=1)
    return last.replace(day=1), last


def period_end_utc(period_end: date) -> datetime:
    """The instant the period closes: midnight in Shanghai after its last day, in UTC."""
    return datetime.combine(period_end + timedelta(days=1), time(), LOCAL).astimezone(timezone.utc)


def check_period(period_start: date | None, period_end: date | None) -> tuple[date, date]:
    if period_start is None:
        raise DomainError(_("请输入开始日期。"), field="period_start")
    if period_end is None:
        raise DomainError(_("请输入结束日期。"), field="period_end")
    if period_end < period_start:
        raise DomainError(_("结束日期不能早于开始日期。"), field="period_end")
    if period_end > today_local():
        raise DomainError(_("结束日期不能晚于今天。"), field="period_end")
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise DomainError(_("结算期最长三年。"), field="period_start")
    return period_start, period_end


def _net_brand_fen():
    """The brand's share of one redemption left after releases, half up, in SQL integers."""
    r = PromotionRedemption
    value = r.discount_fen + r.gift_fen
    return case((r.released_at.is_not(None), 0), (value == 0, 0),
                else_=r.brand_fen - (2 * r.brand_fen * r.released_fen + value) // (2 * value))


def earned_to_date(until: datetime, dealer_ids: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """{dealer id: (earned fen, redemptions)} over the dealers' orders placed before `until`;
    one grouped query."""
    query = (select(Order.seller_id, func.coalesce(func.sum(_net_brand_fen()), 0), func.count())
             .select_from(PromotionRedemption).join(Order, Order.id == PromotionRedemption.order_id)
             .join(Organisation, and_(Organisation.id == Order.seller_id, Organisation.kind == OrgKind.DEALER.value))
             .where(PromotionRedemption.created_at < until, PromotionRedemption.brand_fen > 0)
             .group_by(Order.seller_id))
    if dealer_ids is not None:
        query = query.where(Order.seller_id.in_(dealer_ids or [-1]))
    return {dealer_id: (int(earned), int(n)) for dealer_id, earned, n in db.session.execute(query)}


def settled_so_far(dealer_ids: list[int]) -> dict[int, int]:
    """{dealer id: fen its settlements hold, drafts included}."""
    return dict(db.session.execute(
        select(PromotionSettlement.dealer_id, func.sum(PromotionSettlement.amount_fen))
        .where(PromotionSettlement.dealer_id.in_(dealer_ids or [-1])).group_by(PromotionSettlement.dealer_id)).all())


def _run_row(period_start: date, period_end: date, actor_id: int | None) -> SettlementRun:
    """The period's run row, created by whichever run comes first, then locked (PostgreSQL) so
    two runs of one period go one after the other."""
    lookup = select(SettlementRun).where(SettlementRun.period_start == period_start,
                                         SettlementRun.period_end == period_end)
    if db.session.scalar(lookup) is None:
        try:
            with db.session.begin_nested():
                db.session.add(SettlementRun(period_start=period_start, period_end=period_end,
                                             created_by_id=actor_id, passes=0))
        except IntegrityError:
            pass  # a concurrent run created it: use that one
    return db.session.scalar(lookup.with_for_update().execution_options(populate_existing=True))


@dataclass
class RunResult:
    run: SettlementRun
    drafted: int      # settlements drafted or changed by this pass
    drafted_fen: int  # by how much (negative: returns took some back)


def start_run(period_start: date, period_end: date, actor_id: int | None = None) -> SettlementRun:
    """Mark the period's run as running (the job commits this first, so the page shows it);
    a run whose worker died stays shown as running until the period is run again."""
    period_start, period_end = check_period(period_start, period_end)
    run = _run_row(period_start, period_end, actor_id)
    run.started_at, run.finished_at = now_utc(), None
    db.session.flush()
    return run


def run_settlement(period_start: date, period_end: date, actor_id: int | None = None,
                   batch_done: Callable[[], None] | None = None, batch_size: int = 50) -> RunResult:
    """One pass of the period's run (see the module docstring).

    Without `batch_done` the pass is one transaction the caller commits. The job passes a
    callback that commits: after the pass is set up (its number, the dealers to do) and after
    each batch of `batch_size` dealers, so the page shows "已处理 3 / 10 个经销商" while it runs.
    Each batch is right on its own (it holds its dealers' row locks while it reads what they
    have settled and drafts), so a worker killed mid-run leaves whole batches done and nothing
    half-drafted; the next pass finds them settled and does the rest. Progress is written by
    conditional updates naming this pass, so an older pass still running never overwrites the
    figures of a newer one, nor marks the run finished."""
    period_start, period_end = check_period(period_start, period_end)
    run = _run_row(period_start, period_end, actor_id)
    run.passes += 1
    run_id, this_pass = run.id, run.passes
    run.started_at, run.finished_at = now_utc(), None
    earned = earned_to_date(period_end_utc(period_end))
    dealer_ids = sorted(earned)
    run.dealers_total, run.dealers_done = len(dealer_ids), 0
    db.session.flush()
    if batch_done is not None:
        batch_done()
    drafted = drafted_fen = 0
    for first in range(0, len(dealer_ids), batch_size):
        batch = dealer_ids[first:first + batch_size]
        done, done_fen = _draft_batch(run_id, batch, earned)
        drafted, drafted_fen = drafted + done, drafted_fen + done_fen
        _progress(run_id, this_pass, dealers_done=SettlementRun.dealers_done + len(batch))
        if batch_done is not None:
            batch_done()
    _progress(run_id, this_pass, finished_at=now_utc())
    audit.record(actor_id, "promotion_settlement.run", "promotion_settlement_run", run_id, None,
                 {"period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
                  "drafted": drafted, "drafted_fen": drafted_fen, "pass": this_pass})
    run = db.session.get(SettlementRun, run_id, populate_existing=True)
    return RunResult(run, drafted, drafted_fen)


def _progress(run_id: int, this_pass: int, **values) -> None:
    """Move the run's progress, only while `this_pass` is its latest pass."""
    db.session.execute(update(SettlementRun).where(SettlementRun.id == run_id, SettlementRun.passes == this_pass)
                       .values(**values).execution_options(synchronize_session=False))


def _draft_batch(run_id: int, dealer_ids: list[int], earned: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """Draft (or update) the run's settlement of each of `dealer_ids`; (how many changed, by how much)."""
    # The dealers' rows, locked in id order: a run of another period waits here, then reads
    # this one's drafts (the queries below run after the lock, so they see committed rows).
    db.session.execute(select(Organisation.id).where(Organisation.id.in_(dealer_ids or [-1]))
                       .order_by(Organisation.id).with_for_update())
    settled = settled_so_far(dealer_ids)
    drafts = {s.dealer_id: s for s in db.session.scalars(
        select(PromotionSettlement).where(PromotionSettlement.run_id == run_id,
                                          PromotionSettlement.dealer_id.in_(dealer_ids or [-1]),
                                          PromotionSettlement.status == SettlementStatus.DRAFT.value)
        .execution_options(populate_existing=True))}
    drafted = drafted_fen = 0
    for dealer_id in dealer_ids:
        earned_fen, redemptions = earned[dealer_id]
        due = earned_fen - settled.get(dealer_id, 0)
        draft = drafts.get(dealer_id)
        if due == 0 or (due < 0 and draft is None):
            continue  # settled; or owed back, which reduces the next settlement
        if draft is None:
            db.session.add(PromotionSettlement(
                run_id=run_id, dealer_id=dealer_id, earned_fen=earned_fen,
                settled_before_fen=settled.get(dealer_id, 0), amount_fen=due, redemptions=redemptions,
                status=SettlementStatus.DRAFT.value))
        elif draft.amount_fen + due > 0:
            # The period's waiting draft follows what changed since the last pass (orders of a
            # running period, returns): it is not paid yet, so it simply holds the new figure.
            draft.amount_fen += due
            draft.earned_fen, draft.redemptions = earned_fen, redemptions
        else:
            db.session.delete(draft)  # returns took back all of it
        drafted += 1
        drafted_fen += due
    db.session.flush()
    return drafted, drafted_fen


def approve(actor: User, settlement_id: int) -> PromotionSettlement:
    """Approve a draft and post its credit note (brand → dealer), once."""
    from app.services.credit.payments import issue_credit_note
    from app.services.ordering.routing import brand

    settlement = db.session.get(PromotionSettlement, settlement_id)
    if settlement is None:
        raise NotFound(_("结算单不存在。"))
    moved = db.session.execute(
        update(PromotionSettlement).where(PromotionSettlement.id == settlement_id,
                                          PromotionSettlement.status == SettlementStatus.DRAFT.value)
        .values(status=SettlementStatus.APPROVED.value, approved_at=now_utc(), approved_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise DomainError(_("该结算单已批准。"))
    db.session.refresh(settlement)
    run = settlement.run
    note = issue_credit_note(
        actor, seller=brand(), customer=db.session.get(Organisation, settlement.dealer_id),
        amount_fen=settlement.amount_fen, reason="adjustment", source_ref=settlement.number,
        note=_("促销结算 %(start)s 至 %(end)s", start=run.period_start.isoformat(), end=run.period_end.isoformat()))
    settlement.credit_note_id = note.id
    db.session.flush()
    audit.record(actor.id, "promotion_settlement.approve", "promotion_settlement", settlement.id,
                 {"status": SettlementStatus.DRAFT.value},
                 {"status": SettlementStatus.APPROVED.value, "amount_fen": settlement.amount_fen,
                  "dealer_id": settlement.dealer_id, "credit_note": note.number})
    return settlement


# --- what the pages show ---------------------------------------------------------------------

def run_with_settlements(run_id: int) -> SettlementRun:
    """One run with its settlements, dealers and credit notes (three queries), for its progress fragment."""
    from sqlalchemy.orm import selectinload

    run = db.session.scalar(select(SettlementRun).where(SettlementRun.id == run_id).options(
        selectinload(SettlementRun.settlements).selectinload(PromotionSettlement.dealer),
        selectinload(SettlementRun.settlements).selectinload(PromotionSettlement.credit_note)))
    if run is None:
        raise NotFound(_("结算不存在。"))
    return run


def recent_runs(limit: int = 24) -> list[SettlementRun]:
    """The newest runs with their settlements and dealers (three queries)."""
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(SettlementRun).order_by(SettlementRun.period_end.desc(), SettlementRun.id.desc()).limit(limit)
        .options(selectinload(SettlementRun.settlements).selectinload(PromotionSettlement.dealer),
                 selectinload(SettlementRun.settlements).selectinload(PromotionSettlement.credit_note))))


def dealer_settlements(dealer_id: int, limit: int = 100) -> list[PromotionSettlement]:
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(PromotionSettlement).where(PromotionSettlement.dealer_id == dealer_id)
        .options(joinedload(PromotionSettlement.run), joinedload(PromotionSettlement.credit_note))
        .order_by(PromotionSettlement.id.desc()).limit(limit)))


def dealer_earned_to_date(dealer_id: int) -> tuple[int, int]:
    """(earned to date, already settled) for the dealer's own page."""
    earned = earned_to_date(now_utc(), [dealer_id]).get(dealer_id, (0, 0))[0]
    return earned, settled_so_far([dealer_id]).get(dealer_id, 0)
