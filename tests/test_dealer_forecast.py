"""The brand's forecast split to dealers by their trailing share: the dealer's forecast page shows
its own split only, and its reorder levels use the same split."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models.analytics import DemandForecast, ForecastRun, ForecastSeries
from app.services.analytics import facts
from app.services.core.clock import LOCAL, now_utc, today_local
from app.services.forecasting.dealer_split import dealer_forecast, dealer_shares
from app.services.forecasting.holidays import week_of
from tests import factories
from tests.builders_ordering import order


def _split_world(world):
    """浙江: dealer sells 6 cases, a second dealer there 4 (shares 60 % / 40 %); 四川: dealer_b
    sells 2 (100 %). The forecast: 10 a week in 浙江, 5 in 四川, over 13 weeks."""
    zj, sc = world.regions["zj"], world.regions["sc"]
    dealer_c = factories.org("dealer", "宁波经销商", region_id=world.regions["hz"].id)
    shop_c = factories.org("retailer", "宁波小店", region_id=world.regions["hz"].id, channel="kiosk",
                           dealer_id=dealer_c.id)
    product = factories.product()
    rows = [order(world.orgs["retailer"], world.orgs["dealer"], [(product, 4)], status="completed", days_ago=20),
            order(world.orgs["retailer"], world.orgs["dealer"], [(product, 2)], status="completed", days_ago=30),
            order(world.orgs["retailer"], world.orgs["dealer"], [(product, 9)], status="cancelled", days_ago=30),
            order(shop_c, dealer_c, [(product, 4)], status="completed", days_ago=20),
            order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 2)], status="completed", days_ago=20),
            order(world.orgs["dealer"], world.orgs["brand"], [(product, 50)], status="completed", days_ago=20)]
    db.session.flush()
    days = [r.created_at.astimezone(LOCAL).date() for r in rows]
    facts.rebuild_range(min(days), max(days))
    history_to = week_of(today_local()) - timedelta(days=7)
    run = ForecastRun(history_to=history_to, horizon=13, series_count=2, finished_at=now_utc(), wape=0.3)
    db.session.add(run)
    db.session.flush()
    for province, weekly, wape in ((zj, 10.0, 0.2), (sc, 5.0, 0.5)):
        db.session.add(ForecastSeries(run_id=run.id, product_id=product.id, province_id=province.id, model="AutoETS",
                                      wape=wape, mase=0.8, bias=0.0, history_weeks=52, history_qty=int(weekly * 52),
                                      forecast_qty=weekly * 13))
        db.session.add_all([DemandForecast(run_id=run.id, product_id=product.id, province_id=province.id,
                                           week=history_to + timedelta(weeks=i + 1), qty=weekly) for i in range(13)])
    db.session.commit()
    return product, dealer_c


def test_each_dealer_gets_its_trailing_share_of_its_provinces(world):
    product, dealer_c = _split_world(world)
    run = db.session.query(ForecastRun).one()
    zj, sc = world.regions["zj"].id, world.regions["sc"].id
    assert dealer_shares(world.orgs["dealer"].id, run) == {(product.id, zj): pytest.approx(0.6)}
    assert dealer_shares(dealer_c.id, run) == {(product.id, zj): pytest.approx(0.4)}
    assert dealer_shares(world.orgs["dealer_b"].id, run) == {(product.id, sc): pytest.approx(1.0)}
    split = dealer_forecast(world.orgs["dealer"].id)
    [row] = split.rows
    assert row.weekly == [pytest.approx(6.0)] * 13 and row.total == pytest.approx(78.0)
    assert row.sold_qty == 6 and row.accuracy == pytest.approx(0.8)
    assert sum(split.past_qty) == 6
    # The dealers' parts add up to the province forecast.
    assert dealer_forecast(dealer_c.id).rows[0].total + row.total == pytest.approx(130.0)


def test_dealer_forecast_page_shows_only_its_own_split(world, login_as):
    product, _dealer_c = _split_world(world)
    page = login_as("dealer").get("/dealer/forecasts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and product.code in html
    body = html.split('id="dealer-forecast"', 1)[1]
    assert '<dd id="dealer-forecast-total">78 箱</dd>' in body and "浙江省 60.0%" in body and "四川省" not in body
    assert '<dd id="dealer-forecast-accuracy">80.0% <span class="small muted">WAPE 20.0%</span></dd>' in body and "<svg" in body
    other = login_as("dealer_b").get("/dealer/forecasts").get_data(as_text=True).split('id="dealer-forecast"', 1)[1]
    assert "四川省 100.0%" in other and "浙江省" not in other and '<dd id="dealer-forecast-total">65 箱</dd>' in other
    export = login_as("dealer").get("/dealer/forecasts/export.xlsx")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == product.code and rows[1][-1] == 78.0
    assert login_as("admin").get("/dealer/forecasts").status_code == 403


def test_dealer_forecast_page_before_any_run(world, login_as):
    page = login_as("dealer").get("/dealer/forecasts")
    assert page.status_code == 200 and "还没有做过需求预测" in page.get_data(as_text=True)
    export = login_as("dealer").get("/dealer/forecasts/export.xlsx")
    assert len(list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))) == 1


def test_dealer_reorder_levels_use_its_split(world):
    from app.models import ReorderRule, Warehouse
    from app.services.inventory.safety import compute_reorder_rules

    product, _dealer_c = _split_world(world)
    warehouse = Warehouse(owner_id=world.orgs["dealer"].id, region_id=world.orgs["dealer"].region_id,
                          name="杭州仓", code="HZ-S1", active=True)
    db.session.add(warehouse)
    db.session.flush()
    compute_reorder_rules(warehouse.id, actor_id=None)
    rule = db.session.get(ReorderRule, (warehouse.id, product.id))
    # A week's lead time: the dealer's 6 cases of the week ahead, per day.
    assert rule.method == "forecast" and rule.avg_daily_demand == pytest.approx(6 / 7, abs=0.001)


def test_accuracy_below_zero_is_shown_as_such_not_as_zero(world, login_as):
    """Sparse product × province weeks can miss by more than they sell (WAPE > 100 %): 1 − WAPE
    is then negative, shown as "<0%" with the WAPE beside it, never as 0.0 %."""
    _split_world(world)
    db.session.query(ForecastRun).update({"wape": 1.451})
    db.session.query(ForecastSeries).update({"wape": 1.2})
    db.session.commit()
    dealer = login_as("dealer").get("/dealer/forecasts").get_data(as_text=True)
    assert '<dd id="dealer-forecast-accuracy">&lt;0% <span class="small muted">WAPE 120.0%</span></dd>' in dealer
    rows = dealer.split('id="dealer-forecast-rows"', 1)[1].split("</table>", 1)[0]
    assert rows.endswith("<td class=\"num\">&lt;0%</td>\n</tr></tbody>\n")
    admin = login_as("admin").get("/admin/forecasts").get_data(as_text=True)
    assert '<b id="forecast-accuracy">&lt;0%</b> <span class="small muted" id="forecast-wape">WAPE 145.1%</span>' in admin
    assert admin.count("<td class=\"num\">&lt;0%</td>") == 2  # both series
    export = login_as("dealer").get("/dealer/forecasts/export.xlsx")
    assert list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))[1][4] == -20.0


def test_each_chart_is_named_after_itself_not_pygal(world, login_as):
    _split_world(world)
    dealer = login_as("dealer").get("/dealer/forecasts").get_data(as_text=True)
    admin = login_as("admin").get("/admin/forecasts").get_data(as_text=True)
    assert "<svg" in dealer and "<svg" in admin and "Pygal" not in dealer + admin
    assert "<title>每周销量与预测</title>" in dealer.split("<svg", 1)[1]
    assert "<title>需求预测</title>" in admin.split("<svg", 1)[1]
    client = login_as("dealer")
    client.post("/locale", {"locale": "en", "next": "/dealer/forecasts"})
    english = client.get("/dealer/forecasts").get_data(as_text=True)
    assert "<title>Weekly sales and forecast</title>" in english.split("<svg", 1)[1]


def test_admin_accuracy_figures_keep_each_label_with_its_value(world, login_as):
    """The MASE and bias figures are label/value pairs: the grid put the bias label beside the MASE
    value and the bias value on the next row, under the MASE label."""
    _split_world(world)
    db.session.query(ForecastRun).update({"mase": 0.83, "bias": -0.122})
    db.session.commit()
    admin = login_as("admin").get("/admin/forecasts").get_data(as_text=True)
    assert '<div><dt>MASE（中位数，相对季节性朴素法）</dt><dd id="forecast-mase">0.83</dd></div>' in admin
    assert '<div><dt>偏差</dt><dd id="forecast-bias">-12.2%</dd></div>' in admin
