"""Daily stock snapshots: today's equals the live balances after a refresh, re-running changes
nothing, the ledger backfill rebuilds past days (and agrees with the live balances today), and the
channel report's stock-out days and days of supply read them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import StockBalance, StockLot, StockMovement
from app.models.analytics import StockSnapshot, StockSnapshotOwner
from app.services.analytics import facts
from app.services.analytics.channel import channel_report
from app.services.analytics.facts import day_bounds
from app.services.analytics.stock_snapshots import backfill, snapshot_today
from app.services.core.clock import today_local
from app.services.inventory.operations import adjust_lot
from tests import factories
from tests.builders_fulfilment import warehouse_with_lots
from tests.builders_ordering import order


def _snapshot(day) -> dict:
    return {(s.warehouse_id, s.product_id): (s.owner_id, s.on_hand, s.reserved, s.available, s.value_fen)
            for s in db.session.scalars(select(StockSnapshot).where(StockSnapshot.day == day))}


def _live() -> dict:
    return {(b.warehouse_id, b.product_id): (b.warehouse.owner_id, b.on_hand, b.reserved, b.on_hand - b.reserved,
                                             b.on_hand * b.product.base_price_fen)
            for b in db.session.scalars(select(StockBalance))}


def _owners(day) -> dict:
    return {o.owner_id: (o.pairs, o.out_pairs, o.on_hand, o.value_fen)
            for o in db.session.scalars(select(StockSnapshotOwner).where(StockSnapshotOwner.day == day))}


def _stock(world):
    """Dealer A: 100 cola received five days ago, 30 taken out two days ago, and water received
    and all taken out (a stock-out). Dealer B: 12 water."""
    cola, water = factories.product(base_price_fen=1000), factories.product(base_price_fen=500)
    a = warehouse_with_lots(world.orgs["dealer"], world.regions["hz"], {cola: [("C1", 100, 200)], water: [("W1", 5, 200)]})
    b = warehouse_with_lots(world.orgs["dealer_b"], world.regions["cd"], {water: [("W2", 12, 200)]})

    lots = {lot.batch_no: lot for lot in db.session.scalars(select(StockLot))}
    adjust_lot(lots["C1"], -30, "test", actor_id=None)
    adjust_lot(lots["W1"], -5, "test", actor_id=None)
    db.session.flush()
    # Move the ledger into the past: receipts five days ago, the removals two days ago.
    today = today_local()
    for movement in db.session.scalars(select(StockMovement)):
        ago = 5 if movement.on_hand_delta > 0 else 2
        movement.at = day_bounds(today - timedelta(days=ago))[0] + timedelta(hours=3)
    db.session.flush()
    return cola, water, a, b


def test_today_equals_the_live_balances_and_rerunning_changes_nothing(world):
    _stock(world)
    facts.refresh()
    today = today_local()
    assert _snapshot(today) == _live() and len(_live()) == 3
    assert _owners(today)[world.orgs["dealer"].id] == (2, 1, 70, 70 * 1000)
    assert _owners(today)[world.orgs["dealer_b"].id] == (1, 0, 12, 12 * 500)
    snapshot_today()
    facts.refresh()
    assert _snapshot(today) == _live()
    assert db.session.scalar(select(db.func.count()).select_from(StockSnapshot)) == 3


def test_ledger_backfill_rebuilds_past_days_and_agrees_with_the_live_balances(world):
    cola, water, a, b = _stock(world)
    today = today_local()
    assert backfill(today - timedelta(days=7), today) == 8
    assert _snapshot(today) == _live()
    assert _snapshot(today - timedelta(days=6)) == {}  # before the ledger began
    five_ago = _snapshot(today - timedelta(days=5))
    assert five_ago[(a.id, cola.id)][1] == 100 and five_ago[(a.id, water.id)][1] == 5
    assert _snapshot(today - timedelta(days=3))[(a.id, cola.id)][1] == 100
    assert _snapshot(today - timedelta(days=2))[(a.id, cola.id)][1] == 70
    assert _snapshot(today - timedelta(days=2))[(a.id, water.id)][3] == 0  # out of water from then on
    before = {d: _snapshot(today - timedelta(days=d)) for d in range(8)}
    backfill(today - timedelta(days=7), today)
    assert {d: _snapshot(today - timedelta(days=d)) for d in range(8)} == before


def test_channel_report_reads_stock_out_days_and_days_of_supply_from_the_snapshots(world, login_as):
    cola, water, a, b = _stock(world)
    order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 30)], status="completed", days_ago=3)
    db.session.flush()
    today = today_local()
    backfill(today - timedelta(days=9), today - timedelta(days=1))
    facts.refresh()  # today's snapshot
    db.session.commit()
    report = channel_report(today - timedelta(days=9), today)
    row = {r.key: r for r in report.rows}[world.orgs["dealer"].id]
    # Pairs stocked: 2 for the six days from five days ago to today = 12 pair-days; water out
    # for the last three (two days ago, yesterday, today).
    assert (row.stock_days, row.out_days) == (12, 3) and row.out_rate == 3 / 12
    assert row.on_hand == 70 and row.days_of_supply == 70 / (30 / 10)
    # Ending the period four days ago: the snapshot of the morning after (100 cola, 5 water), no
    # stock-out yet.
    earlier = channel_report(today - timedelta(days=9), today - timedelta(days=4))
    row = {r.key: r for r in earlier.rows}[world.orgs["dealer"].id]
    assert (row.on_hand, row.out_days, row.stock_days) == (105, 0, 4) and earlier.stock_day == today - timedelta(days=3)
    own = channel_report(today - timedelta(days=9), today, dealer_id=world.orgs["dealer"].id)
    assert {r.key: (r.on_hand, r.out_days, r.stock_days) for r in own.rows} == {cola.id: (70, 0, 6),
                                                                               water.id: (0, 3, 6)}
    period = f"start={today - timedelta(days=9)}&end={today}"
    html = login_as("dealer").get(f"/dealer/reports/channel?{period}").get_data(as_text=True)
    html = html.split('id="channel-report"', 1)[1]
    assert "缺货天数" in html and 'id="channel-out-rate">25.0%' in html
    other = login_as("dealer_b").get(f"/dealer/reports/channel?{period}").get_data(as_text=True)
    assert 'id="channel-out-rate">0.0%' in other
