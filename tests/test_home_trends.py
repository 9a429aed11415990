"""The homes' trends: the brand's week against the forecast by province, the dealer's month
against last month with sell-through and days of supply, each linking to its report."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import ROOT
from app.extensions import db
from app.models.analytics import DemandForecast, ForecastRun
from app.services.analytics import facts
from app.services.analytics.stock_snapshots import snapshot_today
from app.services.analytics.channel import channel_report
from app.services.analytics.home_trends import dealer_month, week_vs_forecast
from app.services.core.clock import LOCAL, now_utc, today_local
from tests import builders_stock, factories
from tests.builders_ordering import order


def _rebuild(rows):
    db.session.flush()
    days = [r.created_at.astimezone(LOCAL).date() for r in rows]
    facts.rebuild_range(min(days), max(days))


def _forecast(week, province, weekly, history_to):
    run = ForecastRun(history_to=history_to, horizon=13, series_count=1, finished_at=now_utc())
    db.session.add(run)
    db.session.flush()
    product = factories.product()
    db.session.add(DemandForecast(run_id=run.id, product_id=product.id, province_id=province.id, week=week, qty=weekly))
    return run


def test_brand_week_against_the_forecast_prorated_to_the_days_elapsed(world, login_as):
    cola = factories.product()
    yesterday = today_local() - timedelta(days=1)
    week = yesterday - timedelta(days=yesterday.weekday())
    rows = [order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 5)], status="completed", days_ago=1),
            order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(cola, 2)], status="completed", days_ago=1),
            order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 9)], status="cancelled", days_ago=1),
            order(world.orgs["dealer"], world.brand, [(cola, 50)], status="completed", days_ago=1)]
    _rebuild(rows)
    covering = _forecast(week, world.regions["zj"], 14.0, week - timedelta(days=7))
    _forecast(week + timedelta(days=7), world.regions["zj"], 99.0, week)  # a newer run: not about this week
    db.session.commit()
    result = week_vs_forecast()
    elapsed = (yesterday - week).days + 1
    assert result.week == week and result.elapsed_days == elapsed and result.run_id == covering.id
    by_label = {r.label: r for r in result.rows}
    assert by_label["浙江省"].actual_qty == 5 and by_label["浙江省"].forecast_qty == pytest.approx(14 * elapsed / 7)
    assert by_label["四川省"].actual_qty == 2 and by_label["四川省"].forecast_qty == 0
    assert result.actual_qty == 7 and result.gap == pytest.approx((7 - 2 * elapsed) / (2 * elapsed))
    html = login_as("admin").get("/admin/").get_data(as_text=True)
    section = html.split('id="week-vs-forecast"', 1)[1].split("</section>", 1)[0]
    assert f"门店需求 7 箱，预测同期 {2 * elapsed:.0f} 箱" in section and "<svg" in section
    assert "/admin/forecasts" in section and f"/admin/reports/sales?start={week.isoformat()}" in section
    assert "week-vs-forecast" not in login_as("admin_b").get("/admin/").get_data(as_text=True)


def test_brand_week_without_a_forecast_says_so_rather_than_forecasting_zero(world, login_as):
    cola = factories.product()
    _rebuild([order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 5)], status="completed", days_ago=1)])
    db.session.commit()
    html = login_as("admin").get("/admin/").get_data(as_text=True)
    section = html.split('id="week-vs-forecast"', 1)[1].split("</section>", 1)[0]
    assert "还没有覆盖本周的预测" in section and "门店需求 5 箱，本周无预测" in section
    assert "预测同期" not in section and "同期预测（箱）" not in section.split("<table>", 1)[0]  # no zero bars
    assert '<td>浙江省</td><td class="num">5</td><td class="num">—</td>' in section


def test_dealer_month_against_last_month_from_the_channel_report(world, login_as):
    cola = factories.product()
    today = today_local()
    month = dealer_month(world.orgs["dealer"].id)
    back = (today - month.prior_start).days
    dealer = world.orgs["dealer"]
    rows = [order(world.orgs["retailer"], dealer, [(cola, 3)], status="completed", days_ago=1),
            order(dealer, world.brand, [(cola, 10)], status="completed", days_ago=1),
            order(world.orgs["retailer"], dealer, [(cola, 2)], status="completed", days_ago=back),
            order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(cola, 8)], status="completed", days_ago=1)]
    _rebuild(rows)
    builders_stock.stock(builders_stock.warehouse(dealer, world.regions["hz"]), cola, 12)
    snapshot_today()  # days of supply read the nightly stock snapshot
    db.session.commit()
    month = dealer_month(dealer.id)
    assert month.current.sold_fen == cola.base_price_fen * 3 and month.prior_fen == cola.base_price_fen * 2
    assert month.current.sell_through == pytest.approx(0.3) and month.change == pytest.approx(0.5)
    days = (month.end - month.start).days + 1
    assert month.current.days_of_supply == pytest.approx(12 / (3 / days))
    # Last month's figure is the channel report's own for those days.
    assert month.prior_fen == channel_report(month.prior_start, month.prior_end, dealer_id=dealer.id).total.sold_fen
    html = login_as("dealer").get("/dealer/").get_data(as_text=True)
    figures = html.split('id="dealer-month"', 1)[1].split("</dl>", 1)[0]
    assert f'<dd class="num" id="month-sales">¥{cola.base_price_fen * 3 / 100:,.2f}</dd>' in figures
    assert '<dd class="num" id="month-sell-through">30.0%</dd>' in figures and "+50.0%" in figures
    # The change note may wrap on a phone, although the figure it follows (class num) does not.
    assert '<span class="small wraps">（较上月同期 +50.0%）</span>' in figures
    assert ".num .wraps{white-space:normal}" in (ROOT / "static" / "app.css").read_text()
    assert f"/dealer/reports/channel?start={month.start.isoformat()}" in figures
    other = login_as("dealer_b").get("/dealer/").get_data(as_text=True).split('id="dealer-month"', 1)[1]
    assert f'id="month-sales">¥{cola.base_price_fen * 8 / 100:,.2f}<' in other
