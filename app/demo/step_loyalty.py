"""Demo step "loyalty" (right after "orders"): points and member tiers from the demo's own history.

- every retailer order delivered (or completed) in the last 365 days earned its points when it
  was signed for (one ledger entry and one lot each, in bulk INSERT ... SELECT, running balance by
  a window function), so lots earned 11-12 months ago are "expiring soon";
- the accounts hold the sums; the first retailers (retailer000001 among them) spent part of
  their points through the ledger's own FEFO code on a points gift, and one gift waits for the
  next order;
- a points catalog of three gift products; member tiers computed by the nightly job's code.
Fast at `full` scale: a few statements over the order table, then the tier recompute."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import insert, select, text

from app.demo.builder import register_step
from app.extensions import db
from app.models import PointsAccount, PointsGift, Product
from app.services.core.clock import LOCAL
from app.services.loyalty import gifts, settings, tiers

SPENDERS = 40  # retailers that bought a gift with points (through the service: FEFO lots)


def build_loyalty(ctx) -> None:
    config = settings.current()
    since = datetime.combine(ctx.today - timedelta(days=365), time(), LOCAL)
    earn, life = config.earn_points_per_yuan, config.lot_life_days
    dialect = db.session.get_bind().dialect.name
    day = "date(o.updated_at AT TIME ZONE 'Asia/Shanghai')" if dialect == "postgresql" else "date(o.updated_at, '+8 hours')"
    expires = f"({day} + {life})" if dialect == "postgresql" else f"date({day}, '+{life} days')"
    params = {"since": since}
    db.session.execute(text(f"""
        INSERT INTO points_entries (retailer_id, at, kind, points, balance_after, value_fen, shortfall, order_id, ref)
        SELECT o.buyer_id, o.updated_at, 'earn', o.total_fen * {earn} / 100,
               SUM(o.total_fen * {earn} / 100) OVER (PARTITION BY o.buyer_id ORDER BY o.updated_at, o.id),
               o.total_fen, 0, o.id, 'earn:order:' || o.id
        FROM orders o JOIN organisations b ON b.id = o.buyer_id
        WHERE b.kind = 'retailer' AND o.status IN ('delivered', 'completed') AND o.updated_at >= :since
        """), params)
    db.session.execute(text(f"""
        INSERT INTO points_lots (retailer_id, entry_id, points, remaining, expires_on)
        SELECT e.retailer_id, e.id, e.points, e.points, {expires.replace('o.updated_at', 'e.at')}
        FROM points_entries e WHERE e.kind = 'earn' AND e.points > 0
        """))
    db.session.execute(text("""
        INSERT INTO points_accounts (retailer_id, balance, tier, spend_12m_fen)
        SELECT retailer_id, SUM(points), 'member', SUM(value_fen) FROM points_entries GROUP BY retailer_id
        """))
    catalog = _gift_catalog(ctx)
    spenders = db.session.execute(select(PointsAccount.retailer_id, PointsAccount.balance)
                                  .where(PointsAccount.balance >= catalog[0].points_price)
                                  .order_by(PointsAccount.retailer_id).limit(SPENDERS)).all()
    for i, (retailer_id, balance) in enumerate(spenders):
        affordable = [g for g in catalog if g.points_price <= balance]
        claim = gifts.claim_gift(retailer_id, affordable[i % len(affordable)].id, 1)
        if i:  # the first keeps its gift pending: it rides the next order
            claim.status = "ordered"
    result = tiers.recompute_all(ctx.today, config)
    db.session.flush()
    ctx.echo(f"  loyalty: {result.accounts:,} accounts, {len(spenders)} gift claims, "
             f"{result.changed:,} tiers set")


def _gift_catalog(ctx) -> list[PointsGift]:
    active = [p for p in ctx.products if p.status == "active"]
    cheapest = sorted(active, key=lambda p: (p.id,))[:3]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_([p.id for p in cheapest])))}
    db.session.execute(insert(PointsGift), [dict(product_id=p.id, points_price=price, stock_cap=cap, claimed=0,
                                                 active=True)
                                            for p, price, cap in zip(cheapest, (3_000, 5_000, 8_000),
                                                                     (500, 300, 100)) if p.id in products])
    return list(db.session.scalars(select(PointsGift).order_by(PointsGift.id)))


register_step("loyalty", build_loyalty, after="orders")
