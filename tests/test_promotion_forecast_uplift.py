"""A promotion's uplift against the forecast baseline: the promoted products' demand during the
promotion against the forecast of the newest run made before it, prorated to the days measured;
a dealer's promotion against its split; no baseline when no run covers the window."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models.analytics import DemandForecast, ForecastRun
from app.services.analytics import facts
from app.services.core.clock import LOCAL, now_utc, today_local
from app.services.forecasting.baseline import promotion_baseline
from app.services.promotions import reports
from tests import builders_promotions as bp
from tests import factories
from tests.builders_ordering import order


def _monday(day):
    return day - timedelta(days=day.weekday())


def _setup(world):
    """A 10-day window (the promotion started 10 days ago, the facts run to yesterday). Forecast of
    the run made before it: 7 cases a week in 浙江, 14 in 四川 → 21 × 10 / 7 = 30 cases."""
    drink, other = factories.product(), factories.product()
    dealer, dealer_b = world.orgs["dealer"], world.orgs["dealer_b"]
    rows = [order(world.orgs["retailer"], dealer, [(drink, 5), (other, 40)], status="completed", days_ago=5),
            order(world.orgs["retailer_b"], dealer_b, [(drink, 3)], status="completed", days_ago=4),
            order(world.orgs["retailer"], dealer, [(drink, 20)], status="cancelled", days_ago=3),
            order(world.orgs["retailer"], dealer, [(drink, 2)], status="completed", days_ago=30),  # before: the share
            order(dealer, world.brand, [(drink, 90)], status="completed", days_ago=5)]  # replenishment
    db.session.flush()
    days = [r.created_at.astimezone(LOCAL).date() for r in rows]
    facts.rebuild_range(min(days), max(days))
    first_day = today_local() - timedelta(days=10)
    history_to = _monday(first_day) - timedelta(days=7)
    for run_history, weekly in ((history_to, 1.0), (_monday(first_day), 1000.0)):  # the second: made during it
        run = ForecastRun(history_to=run_history, horizon=13, series_count=2, finished_at=now_utc())
        db.session.add(run)
        db.session.flush()
        for province, qty in ((world.regions["zj"], 7.0 * weekly), (world.regions["sc"], 14.0 * weekly)):
            db.session.add_all([DemandForecast(run_id=run.id, product_id=drink.id, province_id=province.id,
                                               week=run_history + timedelta(weeks=i + 1), qty=qty) for i in range(13)])
    db.session.commit()
    return drink, first_day


def test_uplift_against_the_forecast_of_the_run_made_before_the_promotion(world):
    drink, first_day = _setup(world)
    yesterday = today_local() - timedelta(days=1)
    baseline = promotion_baseline([drink.id], [], first_day, yesterday, world.brand.id)
    assert baseline.run.history_to < _monday(first_day)
    assert baseline.actual_qty == 5 + 3 and baseline.forecast_qty == pytest.approx(30.0)
    assert baseline.uplift_qty == pytest.approx(-22.0) and baseline.uplift == pytest.approx(-22 / 30)
    # A dealer's own promotion: its sales against its split (all of 浙江's demand, none of 四川's).
    mine = promotion_baseline([drink.id], [], first_day, yesterday, world.orgs["dealer"].id)
    assert mine.actual_qty == 5 and mine.forecast_qty == pytest.approx(10.0)
    # The promoted category, not a product list.
    by_category = promotion_baseline([], [drink.category_id], first_day, yesterday, world.brand.id)
    assert by_category.forecast_qty == pytest.approx(30.0) and by_category.actual_qty == 8
    # No run ends before the window starts: no baseline.
    assert promotion_baseline([drink.id], [], first_day - timedelta(days=30), yesterday, world.brand.id) is None


def test_effect_page_shows_both_measures(world, login_as, app):
    drink, first_day = _setup(world)
    start = now_utc() - timedelta(days=10)
    with app.test_request_context():
        promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000},
                             product_ids=[drink.id], starts_at=start, ends_at=now_utc() + timedelta(days=20))
        effect = reports.effect(promo)
    assert effect.forecast is not None and effect.forecast.actual_qty == 8
    assert effect.forecast.first_day == start.astimezone(LOCAL).date()
    body = login_as("admin").get(f"/admin/promotions/{promo.id}/effect").get_data(as_text=True)
    assert "简单前后对比" in body and "与需求预测对比" in body
    section = body.split('id="effect-forecast"', 1)[1].split("</table>", 1)[0]
    assert "<td class=\"num\">8</td>" in section and "30.0" in section
    assert f'id="effect-forecast-uplift">{effect.forecast.uplift * 100:+.1f}%<' in section


def test_effect_page_without_a_covering_forecast_says_so(world, login_as, app):
    drink = factories.product()
    db.session.commit()
    with app.test_request_context():
        promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000},
                             product_ids=[drink.id])
    body = login_as("admin").get(f"/admin/promotions/{promo.id}/effect").get_data(as_text=True)
    assert "还没有覆盖活动期间的需求预测" in body
