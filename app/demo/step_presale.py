"""Demo step "presale" (after "inventory"): two presale campaigns placed through the services,
so every presale page shows real numbers. The same at every scale (a handful of shops).

- 中秋礼盒预售 (finished): 12 shops of dealer001's territory and others ordered with a 30 %
  deposit; released a month ago (stock reserved first-expiry-first-out where the dealer holds
  it); every balance was paid from prepayment but one, which was cancelled after its balance
  window with the deposit refunded by a credit note.
- 新年限定装预售 (running): deposits coming in from 8 shops (retailer000001 among them),
  release in three weeks.
Deterministic: the shops, quantities and dates come from the build context only."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.demo.builder import register_step
from app.extensions import db
from app.models import Order, Organisation, User
from app.models.presale import PresaleCampaign, PresaleItem
from app.services.campaigns import presale, presale_release
from app.services.credit import payments
from app.services.ordering import routing


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
                               reference="DEMO-PRESALE")
    return presale.place_order(user, shop, item.id, qty, "prepayment", f"demo-presale-{item.id}-{info.id}")


def build_presale(ctx) -> None:
    shops = [r for r in ctx.retailers if r.user_id][:20]
    active = sorted((p for p in ctx.products if p.status == "active"), key=lambda p: (-p.popularity, p.id))
    gift, limited = active[0], active[1]
    # Finished: ordered in the window, then its dates moved a month back and the jobs run.
    past, past_item = _campaign(ctx, "PS-MOON", "中秋礼盒预售", gift, 400, ctx.today, 5)
    for n, info in enumerate(shops[:12]):
        qty = 3 + n % 5
        money = presale.split(past_item.price_fen, qty, past.deposit_pct)
        wallet = money.deposit_fen if n == 11 else money.total_fen  # the last shop never pays its balance
        _order(ctx, past_item, info, qty, wallet)
    shift = timedelta(days=40)
    for name in ("deposit_opens_on", "deposit_closes_on", "release_on", "balance_opens_on", "balance_closes_on"):
        setattr(past, name, getattr(past, name) - shift)
    db.session.flush()
    presale_release.release_campaign(past.id, ctx.admin_user_id)
    presale_release.cancel_unpaid(ctx.today, ctx.admin_user_id)
    # Running: deposits coming in, retailer000001 first.
    running, running_item = _campaign(ctx, "PS-NY", "新年限定装预售", limited, 600, ctx.today - timedelta(days=3), 21)
    for n, info in enumerate(shops[:1] + shops[12:19]):
        qty = 2 + n % 4
        _order(ctx, running_item, info, qty, presale.split(running_item.price_fen, qty, 30).total_fen)
    # The orders of the finished campaign were placed a month and a half ago.
    db.session.execute(update(Order).where(Order.id.in_(select(Order.id).where(Order.kind == "presale")
                                                        .where(Order.note.like("%PS-MOON%"))))
                       .values(created_at=ctx.started_at - shift - timedelta(days=5))
                       .execution_options(synchronize_session=False))
    db.session.flush()
    ctx.echo(f"  presale: {past.code} {past.status}, {running.code} {running.status}")


register_step("presale", build_presale, after="inventory")
