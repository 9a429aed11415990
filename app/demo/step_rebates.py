"""Demo step "rebates" (after "promotions"): a rebate agreement for every dealer, a year of
accruals computed from the demo's brand → dealer invoices, credit notes, payments and shipments,
the past quarters settled and approved, the current period projected, some balance spent.

- A-tier dealers: 年度销售返利, yearly, invoiced, retroactive tiers 1 % / 2 % from ¥500,000 /
  3 % from ¥1,000,000, credit notes;
- B-tier: 季度回款返利, quarterly, payments received, 1.5 %, rebate balance (20 % of an order);
- C-tier: 季度箱数返利, quarterly, cases shipped, ¥1.00 a case, rebate balance (10 %);
- dealer001 also: 月度品类返利, monthly, invoiced on the first category, incremental tiers 0.5 % /
  1 % from ¥50,000, excluding brand-promoted volume, rebate balance (30 %).
Accruals: `accruals.rebuild` over the year (grouped reads, bulk inserts). Settlements: a run as
of each past quarter end, every draft approved (credit notes and balance credits); the last
quarter's run is left with its drafts for the brand to approve on the page. Spent: every
balance-payout dealer with an open replenishment order spent part of its balance on it (the
order's lines, totals and the ledger entry as the cart lane and checkout write them)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from app.demo.builder import register_step
from app.extensions import db
from app.models import Order, OrderLine, User
from app.models.rebates import RebateAgreement, RebateSettlement
from app.services.promotions.engine import spread
from app.services.rebates import accruals, balance, settlement
from app.services.rebates.maths import period_bounds

TERMS = {
    "A": dict(name="年度销售返利", period="year", basis="invoiced", mode="retroactive",
              tiers=[[0, 100], [50_000_000, 200], [100_000_000, 300]], payout="credit_note", cap_fen=10_000_000),
    "B": dict(name="季度回款返利", period="quarter", basis="payments", mode="flat", rate_bp=150, payout="balance",
              balance_share_pct=20),
    "C": dict(name="季度箱数返利", period="quarter", basis="cases", mode="per_case", per_case_fen=100,
              payout="balance", balance_share_pct=10),
}


def _quarter_ends(start: date, today: date) -> list[date]:
    ends, day = [], start
    while True:
        end = period_bounds("quarter", day)[1]
        if end >= today:
            return ends
        ends.append(end)
        day = end + timedelta(days=1)


def build_rebates(ctx) -> None:
    start = period_bounds("quarter", ctx.today)[0].replace(year=ctx.today.year - 1)  # four quarters back, and this one
    rows = [RebateAgreement(code=f"RB-{tier}", dealer_tier=tier, scope="all", product_ids=[], category_ids=[],
                            exclude_promoted=False, starts_on=start, status="active",
                            **{"rate_bp": 0, "tiers": [], "per_case_fen": 0, "balance_share_pct": 0, **terms})
            for tier, terms in TERMS.items()]
    first = ctx.dealers[0]
    rows.append(RebateAgreement(
        code=f"RB-{first.code}", name="月度品类返利", dealer_id=first.id, period="month", basis="invoiced",
        scope="categories", product_ids=[], category_ids=[min(ctx.category_ids.values())], exclude_promoted=True,
        mode="incremental", rate_bp=0, tiers=[[0, 50], [5_000_000, 100]], per_case_fen=0, payout="balance",
        balance_share_pct=30, starts_on=start, status="active"))
    db.session.add_all(rows)
    db.session.flush()
    written = accruals.rebuild(start, ctx.today)
    admin = db.session.get(User, ctx.admin_user_id)
    ends = _quarter_ends(start, ctx.today)
    approved = 0
    for i, as_of in enumerate(ends):
        settlement.run_settlement(as_of, admin.id)
        if i == len(ends) - 1:
            break  # the latest quarter waits for the brand's approval
        for draft_id in db.session.scalars(select(RebateSettlement.id).where(RebateSettlement.status == "draft")
                                           .order_by(RebateSettlement.id)).all():
            settlement.approve(admin, draft_id)
            approved += 1
    spent = _spend_some(ctx)
    ctx.echo(f"  rebates: {len(rows)} agreements, {written:,} accruals, {len(ends)} runs, {approved:,} approved, "
             f"{spent} orders paid partly from the rebate balance")


def _spend_some(ctx) -> int:
    """A third of each balance (at most 10 % of the order) goes to the dealer's latest open
    replenishment order (not invoiced yet), as the cart lane does at checkout: spread over the
    paid lines by largest remainder, each line's discount, total and tax follow, and the ledger
    entry keeps the shares."""
    from app.models import Invoice
    from app.models.rebates import RebateAccount
    from app.services.ordering.cart import tax_included

    spent = 0
    for account in db.session.scalars(select(RebateAccount).where(RebateAccount.balance_fen > 0)
                                      .order_by(RebateAccount.dealer_id)).all():
        order = db.session.scalar(select(Order).where(
            Order.buyer_id == account.dealer_id, Order.seller_id == ctx.brand_id,
            Order.status.in_(("submitted", "on_hold", "approved")),
            ~select(Invoice.id).where(Invoice.order_id == Order.id).exists())
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))
        if order is None:
            continue
        lines = list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id,
                                                                OrderLine.is_gift.is_(False)).order_by(OrderLine.id)))
        amount = min(account.balance_fen // 3, sum(line.line_total_fen for line in lines) // 10)
        if amount <= 0:
            continue
        shares = spread(amount, [line.line_total_fen for line in lines])
        for line, fen in zip(lines, shares):
            line.discount_fen += fen
            line.line_total_fen -= fen
            line.tax_fen = tax_included(line.line_total_fen, line.tax_rate)
        placed = order.updated_at  # as at checkout: the spend is part of the order, not a later change of it
        order.total_fen -= amount
        order.tax_fen = sum(line.tax_fen for line in lines)
        db.session.flush()
        db.session.execute(update(Order).where(Order.id == order.id).values(updated_at=placed))
        balance.move(account.dealer_id, -amount, "spend", order_id=order.id, ref=order.number or "",
                     shares={str(line.id): fen for line, fen in zip(lines, shares) if fen})
        spent += 1
    return spent


register_step("rebates", build_rebates, after="promotions")
