"""Demo step "presale" (after "inventory"): two presale campaigns placed through the services,
so every presale page shows real numbers. The same at every scale (a handful of shops).

- 中秋礼盒预售 (finished): 12 shops ordered with a 30 % deposit about a week ago; released three
  days ago (stock reserved first-expiry-first-out where the dealer holds it, the orders now wait
  on the dealers' desks to ship); every balance was paid from prepayment but one, cancelled after
  the balance window closed yesterday, its deposit refunded by a credit note.
- 新年限定装预售 (running): deposits coming in from 8 shops (retailer000001 among them),
  release in three weeks.
Deterministic: the shops, quantities and dates come from the build context only."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.demo.builder import register_step
from app.extensions import db
from app.models import Organisation, User
from app.models.credit import PrepaymentAccount, PrepaymentEntry
from app.models.presale import PresaleCampaign, PresaleItem, PresaleOrder
from app.services.campaigns import presale, presale_release
from app.services.core.clock import LOCAL
from app.services.credit import payments
from app.services.ordering import routing
from app.services.ordering.orders import order_number

TOP_UP_REFERENCE = "DEMO-PRESALE"


def _campaign(ctx, code, name, product, planned, deposit_opens, release_in, status="open"):
    today = ctx.today
    row = PresaleCampaign(code=code, name=name, status=status, deposit_pct=30, non_payment="refund",
                          deposit_opens_on=deposit_opens, deposit_closes_on=today + timedelta(days=release_in - 1),
                          release_on=today + timedelta(days=release_in),
                          balance_opens_on=today + timedelta(days=release_in),
                          balance_closes_on=today + timedelta(days=release_in + 7), created_by_id=ctx.admin_user_id)
    db.session.add(row)
    db.session.flush()
    item = PresaleItem(campaign_id=row.id, product_id=product.id, price_fen=product.base_price_fen + 500,
                       planned_qty=planned, committed_qty=0, per_customer_limit=20)
    db.session.add(item)
    db.session.flush()
    return row, item


def _order(ctx, item, info, qty, wallet_fen):
    user = db.session.get(User, info.user_id)
    shop = db.session.get(Organisation, info.id)
    seller = routing.seller_for(shop)
    admin = db.session.get(User, ctx.admin_user_id)
    payments.top_up_prepayment(admin, seller=seller, customer=shop, amount_fen=wallet_fen, received_on=ctx.today,
                               reference=TOP_UP_REFERENCE)
    return presale.place_order(user, shop, item.id, qty, "prepayment", f"demo-presale-{item.id}-{info.id}")


def _backdate(campaign_id: int, placed_at) -> None:
    """The campaign's orders were placed at `placed_at` (an hour apart): dates and numbers follow,
    and so do the shop's prepayment entries of that moment (the top-up and the deposit, which
    names the order by its number)."""
    rows = db.session.scalars(select(PresaleOrder).where(PresaleOrder.campaign_id == campaign_id)
                              .order_by(PresaleOrder.id)).all()
    for n, row in enumerate(rows):
        at = placed_at + timedelta(hours=n)
        old_number, new_number = row.order.number, order_number(row.order_id, at)
        row.created_at = at
        row.order.created_at = row.order.updated_at = at
        row.order.number = new_number
        for event in row.order.events:
            event.at = at
        account_ids = select(PrepaymentAccount.id).where(PrepaymentAccount.customer_id == row.order.buyer_id)
        for entry in db.session.scalars(select(PrepaymentEntry).where(
                PrepaymentEntry.account_id.in_(account_ids),
                PrepaymentEntry.reference.in_((old_number, TOP_UP_REFERENCE)))):
            entry.entered_on = at.astimezone(LOCAL).date()
            if entry.reference == old_number:
                entry.reference = new_number
    db.session.flush()


def build_presale(ctx) -> None:
    shops = [r for r in ctx.retailers if r.user_id][:20]
    active = sorted((p for p in ctx.products if p.status == "active"), key=lambda p: (-p.popularity, p.id))
    gift, limited = active[0], active[1]
    # Finished: ordered in the window, then its dates moved back a week and the jobs run.
    past, past_item = _campaign(ctx, "PS-MOON", "中秋礼盒预售", gift, 400, ctx.today, 5)
    for n, info in enumerate(shops[:12]):
        qty = 3 + n % 5
        money = presale.split(past_item.price_fen, qty, past.deposit_pct)
        wallet = money.deposit_fen if n == 11 else money.total_fen  # the last shop never pays its balance
        _order(ctx, past_item, info, qty, wallet)
    # Deposits were taken 9 to 4 days ago, the release was 3 days ago, the balance window closed yesterday.
    today = ctx.today
    past.deposit_opens_on, past.deposit_closes_on = today - timedelta(days=9), today - timedelta(days=4)
    past.release_on, past.balance_opens_on, past.balance_closes_on = (today - timedelta(days=3),) * 2 + (
        today - timedelta(days=1),)
    _backdate(past.id, ctx.started_at - timedelta(days=8))
    presale_release.release_campaign(past.id, ctx.admin_user_id)
    presale_release.cancel_unpaid(ctx.today, ctx.admin_user_id)
    # Running: deposits coming in, retailer000001 first.
    running, running_item = _campaign(ctx, "PS-NY", "新年限定装预售", limited, 600, ctx.today - timedelta(days=3), 21)
    for n, info in enumerate(shops[:1] + shops[12:19]):
        qty = 2 + n % 4
        _order(ctx, running_item, info, qty, presale.split(running_item.price_fen, qty, 30).total_fen)
    db.session.flush()
    ctx.echo(f"  presale: {past.code} {past.status}, {running.code} {running.status}")


register_step("presale", build_presale, after="inventory")
