"""The channel and stock report: sell-through, days of supply and value expiring, computed by hand
on a tiny example; a dealer sees only its own stock and sales."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from app.extensions import db
from app.models.analytics import SalesDay
from app.services.analytics import facts
from app.services.analytics.channel import channel_report
from app.services.core.clock import today_local
from tests import factories
from tests.builders_fulfilment import warehouse_with_lots
from tests.builders_ordering import order


def _history(world):
    """Dealer A received 100 cola from the brand (a further 50 cancelled) and sold 30 to a shop (10
    more cancelled) in the last 30 days; it holds 120 cola: 20 expiring in 20 days, 40 in 50 days,
    60 in 200 days. Dealer B sold 7 water and holds nothing."""
    cola, water = factories.product(base_price_fen=1000), factories.product(base_price_fen=500)
    dealer, brand = world.orgs["dealer"], world.orgs["brand"]
    rows = [order(dealer, brand, [(cola, 100)], status="completed", days_ago=10),
            order(dealer, brand, [(cola, 50)], status="cancelled", days_ago=9),
            order(world.orgs["retailer"], dealer, [(cola, 30)], status="completed", days_ago=5),
            order(world.orgs["retailer"], dealer, [(cola, 10)], status="cancelled", days_ago=5),
            order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(water, 7)], status="completed", days_ago=5)]
    warehouse_with_lots(dealer, world.regions["hz"], {cola: [("A", 20, 20), ("B", 40, 50), ("C", 60, 200)]})
    db.session.flush()
    facts.refresh()
    db.session.commit()
    assert rows
    return cola, water


def test_figures_match_a_hand_computation(world):
    cola, _water = _history(world)
    end = today_local()
    report = channel_report(end - timedelta(days=29), end)
    by_dealer = {r.key: r for r in report.rows}
    a, b = by_dealer[world.orgs["dealer"].id], by_dealer[world.orgs["dealer_b"].id]
    assert (a.received_qty, a.received_fen, a.sold_qty, a.sold_fen) == (100, 100000, 30, 30000)
    assert a.sell_through == 0.3
    assert a.on_hand == 120 and a.days_of_supply == 120 / (30 / 30)
    assert a.expiring_fen == [20 * 1000, 60 * 1000, 60 * 1000]
    assert (b.received_qty, b.sold_qty, b.sell_through, b.on_hand, b.days_of_supply) == (0, 7, None, 0, 0)
    assert report.total.sold_qty == 37
    # The dealer's own view, by product.
    own = channel_report(end - timedelta(days=29), end, dealer_id=world.orgs["dealer"].id)
    assert [(r.key, r.received_qty, r.sold_qty, r.on_hand) for r in own.rows] == [(cola.id, 100, 30, 120)]


def test_the_brands_view_reads_receipts_from_the_rollup(world):
    """With the brand-to-dealer facts gone, the brand's view still has each dealer's receipts: it
    reads the rollup's "receipts" grain (whole weeks by week, edge days by day)."""
    _history(world)
    db.session.query(SalesDay).filter(SalesDay.channel == "dealer").delete()
    end = today_local()
    for days in (29, 90, 400):
        row = {r.key: r for r in channel_report(end - timedelta(days=days), end).rows}[world.orgs["dealer"].id]
        assert (row.received_qty, row.received_fen, row.sold_qty) == (100, 100000, 30)


def test_pages_export_and_access(world, login_as):
    _history(world)
    admin = login_as("admin")
    page = admin.get("/admin/reports/channel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<svg") == 1
    report = html.split('id="channel-report"', 1)[1]
    assert world.orgs["dealer"].name in report and world.orgs["dealer_b"].name in report
    assert 'id="channel-expiring-30">¥200.00' in report
    province = world.orgs["dealer_b"].region.parent_id or world.orgs["dealer_b"].region_id
    only_b = admin.hx_get(f"/admin/reports/channel?province={province}").get_data(as_text=True)
    assert "<html" not in only_b and world.orgs["dealer_b"].name in only_b and world.orgs["dealer"].name not in only_b
    assert admin.get("/admin/reports/channel?province=999999").status_code == 404
    assert admin.get("/admin/reports/channel?start=bad").status_code == 200
    assert login_as("admin_b").get("/admin/reports/channel").status_code == 403
    assert login_as("retailer").get("/admin/reports/channel").status_code == 403
    mine = login_as("dealer_b").get("/dealer/reports/channel").get_data(as_text=True).split('id="channel-report"', 1)[1]
    assert 'id="channel-expiring-30">¥0.00' in mine and "¥200.00" not in mine
    export = login_as("dealer").get("/dealer/reports/channel/export.xlsx")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    # The default period is 90 days: 30 cases sold is 1/3 a day, so 120 on hand last 360 days.
    assert rows[-1][2:] == (100, 1000.0, 30, 300.0, 30.0, 120, 360.0, 200.0, 600.0, 600.0, 0, None)
