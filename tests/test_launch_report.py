"""The new-product launch report: reach, repeat and volume of each launch's first 13 weeks from the
facts, judged against the brand's plan; the success rate; a dealer's view of its own customers;
the plan form."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import AuditEvent
from app.models.analytics import LaunchPlan
from app.services.analytics import facts
from app.services.analytics.launches import launch_report, scaled_cases
from app.services.core.clock import LOCAL, today_local
from tests import factories
from tests.builders_ordering import order


def _launches(world):
    """fresh (100 days ago, plan met), flop (120 days, plan missed), young (20 days, running),
    unplanned (150 days, no plan), old (launched 1,000 days ago: outside the default range)."""
    today = today_local()
    dealer, dealer_b, brand = world.orgs["dealer"], world.orgs["dealer_b"], world.orgs["brand"]
    shop, shop_b = world.orgs["retailer"], world.orgs["retailer_b"]
    shop_c = factories.org("retailer", "龙井超市", region_id=world.regions["hz"].id, channel="supermarket",
                           dealer_id=dealer.id)
    factories.org("retailer", "已停用门店", region_id=world.regions["hz"].id, channel="kiosk", dealer_id=dealer.id,
                  active=False)
    fresh = factories.product(launch_date=today - timedelta(days=100))
    flop = factories.product(launch_date=today - timedelta(days=120))
    young = factories.product(launch_date=today - timedelta(days=20))
    unplanned = factories.product(launch_date=today - timedelta(days=150))
    old = factories.product(launch_date=today - timedelta(days=1000))
    rows = [order(shop, dealer, [(fresh, 5)], status="completed", days_ago=98),  # week 1
            order(shop, dealer, [(fresh, 3), (flop, 1)], status="completed", days_ago=80),  # fresh week 3: a repeat
            order(shop_b, dealer_b, [(fresh, 4)], status="completed", days_ago=95),  # week 1
            order(shop_c, dealer, [(fresh, 2)], status="delivered", days_ago=50),  # week 8
            order(shop_c, dealer, [(fresh, 10)], status="cancelled", days_ago=60),  # cancelled: not a purchase
            order(shop, dealer, [(fresh, 7)], status="completed", days_ago=5),  # after week 13
            order(dealer, brand, [(fresh, 100)], status="completed", days_ago=90),  # replenishment, not demand
            order(shop, dealer, [(young, 6), (old, 1)], status="submitted", days_ago=3)]
    db.session.add_all([LaunchPlan(product_id=fresh.id, target_reach_bp=9000, target_cases=14),
                        LaunchPlan(product_id=flop.id, target_reach_bp=5000, target_cases=100),
                        LaunchPlan(product_id=young.id, target_reach_bp=1000, target_cases=1)])
    db.session.flush()
    days = [r.created_at.astimezone(LOCAL).date() for r in rows]
    facts.rebuild_range(min(days), max(days))
    db.session.commit()
    return fresh, flop, young, unplanned, old


def test_reach_repeat_volume_and_success_match_a_hand_computation(world):
    fresh, flop, young, unplanned, old = _launches(world)
    today = today_local()
    report = launch_report(today - timedelta(days=729), today)
    by_product = {x.product.id: x for x in report.launches}
    assert old.id not in by_product and set(by_product) == {fresh.id, flop.id, young.id, unplanned.id}
    launch = by_product[fresh.id]
    # Three active retailers (the deactivated one does not count); all three bought within 13 weeks.
    assert (launch.active_retailers, launch.buyers, launch.reach) == (3, 3, 1.0)
    assert launch.repeat_buyers == 1 and launch.repeat_rate == 1 / 3
    assert launch.cases == 5 + 3 + 4 + 2
    assert len(launch.weeks) == 13 and launch.complete
    assert [w.new_buyers for w in launch.weeks[:3]] == [2, 0, 0] and launch.weeks[0].reach == 2 / 3
    assert [w.cases for w in launch.weeks] == [9, 0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    assert launch.weeks[-1].cum_cases == 14 and launch.weeks[7].buyers == 3
    assert launch.verdict == "met"
    assert by_product[flop.id].verdict == "missed" and by_product[flop.id].reach == 1 / 3
    assert by_product[young.id].verdict == "running" and len(by_product[young.id].weeks) == 3
    assert by_product[young.id].cases == 6
    assert by_product[unplanned.id].verdict == "no_plan"
    assert (report.judged, report.succeeded, report.success_rate) == (2, 1, 0.5)


def test_reach_needs_the_whole_target_and_cases_the_whole_plan(world):
    fresh, *_rest = _launches(world)
    plan = db.session.get(LaunchPlan, fresh.id)
    plan.target_cases = 15  # one case more than sold
    db.session.commit()
    today = today_local()
    [launch] = [x for x in launch_report(today - timedelta(days=729), today).launches if x.product.id == fresh.id]
    assert launch.reach_met and not launch.cases_met and launch.verdict == "missed"


def test_a_dealer_sees_its_own_customers_against_its_share_of_the_plan(world):
    fresh, flop, *_rest = _launches(world)
    today = today_local()
    report = launch_report(today - timedelta(days=729), today, dealer_id=world.orgs["dealer"].id)
    by_product = {x.product.id: x for x in report.launches}
    launch = by_product[fresh.id]
    assert (launch.active_retailers, launch.buyers, launch.cases) == (2, 2, 5 + 3 + 2)
    assert launch.target_cases == scaled_cases(14, 2, 3) == 9 and launch.verdict == "met"
    assert by_product[flop.id].reach == 0.5 and by_product[flop.id].verdict == "missed"
    assert scaled_cases(3, 1, 2) == 2  # half up


def test_admin_page_fragment_chart_export_and_filters(world, login_as):
    fresh, *_rest = _launches(world)
    admin = login_as("admin")
    page = admin.get("/admin/reports/launches")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Vary" in page.headers and "HX-Request" in page.headers["Vary"]
    report = html.split('id="launch-report"', 1)[1]
    assert '<dd id="launch-success-rate">50.0%</dd>' in report and "1 / 2" in report
    assert "<svg" in report and fresh.name_zh in report and "data-print" in report
    fragment = admin.hx_get("/admin/reports/launches").get_data(as_text=True)
    assert "<html" not in fragment and 'id="launch-report"' in fragment
    export = admin.get("/admin/reports/launches/export.xlsx")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 4 + 1 and rows[-1][-1] == 50.0
    assert [r for r in rows if r[0] == fresh.code][0][6] == 100.0
    narrow = admin.get(f"/admin/reports/launches?start={(today_local() - timedelta(days=110)).isoformat()}")
    assert '<dd id="launch-success-rate">100.0%</dd>' in narrow.get_data(as_text=True)
    other = factories.category(code="OTHER")
    db.session.commit()
    empty = admin.get(f"/admin/reports/launches?category={other.id}").get_data(as_text=True)
    assert "这段时间没有上市的新品" in empty
    assert admin.get("/admin/reports/launches?category=999999").status_code == 404
    assert admin.get("/admin/reports/launches?start=bad&end=2026-13-45").status_code == 200
    assert login_as("admin_b").get("/admin/reports/launches").status_code == 403


def test_dealer_page_shows_only_its_customers(world, login_as):
    fresh, *_rest = _launches(world)
    page = login_as("dealer_b").get("/dealer/reports/launches")
    report = page.get_data(as_text=True).split('id="launch-rows"', 1)[1]
    assert page.status_code == 200 and "1 / 1" in report  # its one shop bought fresh
    assert "上市计划" not in report  # the plan is the brand's
    export = login_as("dealer_b").get("/dealer/reports/launches/export.xlsx")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert [r for r in rows if r[0] == fresh.code][0][8] == 4
    assert login_as("dealer").get(f"/dealer/reports/launches/{fresh.id}/plan").status_code == 404


def test_plan_form_saves_and_shows_errors_next_to_the_fields(world, login_as):
    fresh, flop, young, unplanned, old = _launches(world)
    admin = login_as("admin")
    url = f"/admin/reports/launches/{unplanned.id}/plan"
    assert admin.get(url).status_code == 200
    bad = admin.post(url, data={"target_reach": "150", "target_cases": "abc"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and html.count('class="error"') == 2
    assert "目标铺货率须在 0.01 到 100 之间" in html and 'aria-invalid="true"' in html
    assert db.session.get(LaunchPlan, unplanned.id) is None
    saved = admin.post(url, data={"target_reach": "12.5", "target_cases": "40"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/admin/reports/launches")
    db.session.expire_all()
    plan = db.session.get(LaunchPlan, unplanned.id)
    assert (plan.target_reach_bp, plan.target_cases) == (1250, 40)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "launch_plan.set",
                                                      AuditEvent.entity_id == unplanned.id)) is not None
    assert 'value="12.50"' in admin.get(url).get_data(as_text=True)
    no_launch = factories.product()
    db.session.commit()
    assert admin.get(f"/admin/reports/launches/{no_launch.id}/plan").status_code == 404
    assert admin.post("/admin/reports/launches/999999/plan", data={"target_reach": "1", "target_cases": "1"}
                      ).status_code == 404
    assert login_as("admin_b").get(url).status_code == 403


def test_the_launch_rollup_gives_the_figures_of_the_facts_and_a_stale_build_is_not_read(world):
    """The report reads the launch rollup built with the facts; with no build (or a build for an
    older launch date) it reads the facts, with the same figures."""
    from app.models.analytics import LaunchBuild, LaunchRollup

    fresh, flop, young, unplanned, _old = _launches(world)
    today = today_local()

    def figures(dealer_id=None):
        report = launch_report(today - timedelta(days=729), today, dealer_id=dealer_id)
        return {x.product.id: ([(w.new_buyers, w.buyers, w.cases) for w in x.weeks], x.repeat_buyers, x.verdict)
                for x in report.launches}

    built = db.session.scalars(select(LaunchBuild.product_id)).all()
    assert {fresh.id, flop.id, young.id, unplanned.id} <= set(built)
    assert db.session.scalar(select(func.count()).select_from(LaunchRollup)) > 0
    from_rollup = {d: figures(d) for d in (None, world.orgs["dealer"].id)}
    db.session.execute(delete(LaunchBuild))
    assert {d: figures(d) for d in (None, world.orgs["dealer"].id)} == from_rollup  # now from the facts
    facts.refresh()  # builds again
    assert set(db.session.scalars(select(LaunchBuild.product_id))) >= {fresh.id, flop.id, young.id}
    # Rows that disagree with the facts show that a matching build is what the report reads ...
    db.session.execute(update(LaunchRollup).where(LaunchRollup.product_id == fresh.id).values(cases=LaunchRollup.cases + 1))
    assert figures()[fresh.id] != from_rollup[None][fresh.id]
    # ... and a build for another launch date is not read.
    db.session.execute(update(LaunchBuild).where(LaunchBuild.product_id == fresh.id)
                       .values(launch_date=fresh.launch_date - timedelta(days=1)))
    assert figures()[fresh.id] == from_rollup[None][fresh.id]
