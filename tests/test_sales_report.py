"""The sales report reads the facts: figures match a hand computation, dealers see only their own."""
from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook

from sqlalchemy import select

from app.extensions import db
from app.models import DeliverySignOff, OrderLine, ReturnLine, ReturnRequest, Shipment, ShipmentLine
from app.models.base import utcnow
from app.services.analytics import facts
from app.services.analytics.sales import prior_period, sales_report
from app.services.core.clock import LOCAL, today_local
from tests import factories
from tests.builders_analytics import fulfil_some
from tests.builders_ordering import order


def _history(world):
    cola, water = factories.product(), factories.product()
    east, west = world.orgs["retailer"], world.orgs["retailer_b"]
    rows = [order(east, world.orgs["dealer"], [(cola, 10), (water, 2)], status="completed", days_ago=3),
            order(west, world.orgs["dealer_b"], [(cola, 4)], status="completed", days_ago=4),
            order(east, world.orgs["dealer"], [(water, 5)], status="cancelled", days_ago=5),
            order(east, world.orgs["dealer"], [(cola, 1)], status="completed", days_ago=40),  # the period before
            order(world.orgs["dealer"], world.orgs["brand"], [(cola, 100)], status="completed", days_ago=3)]
    db.session.flush()
    days = [r.created_at.astimezone(LOCAL).date() for r in rows]
    facts.rebuild_range(min(days), max(days))
    db.session.commit()
    return cola, water


def test_net_sales_by_product_match_a_hand_computation(world):
    cola, water = _history(world)
    end = today_local()
    report = sales_report(end - timedelta(days=29), end, by="product")
    by_product = {r.key: r for r in report.rows}
    # Retailer purchases only; the cancelled order counts for nothing; replenishment is not end demand.
    assert by_product[cola.id].value_fen == cola.base_price_fen * 14
    assert by_product[cola.id].qty == 14
    assert by_product[water.id].value_fen == water.base_price_fen * 2
    assert report.value_fen == cola.base_price_fen * 14 + water.base_price_fen * 2
    assert report.prior_fen == cola.base_price_fen * 1
    assert by_product[cola.id].change == (14 - 1) / 1
    assert sum(report.weekly_fen) == report.value_fen
    assert prior_period(end - timedelta(days=29), end, "previous") == (end - timedelta(days=59), end - timedelta(days=30))


def test_dealer_report_holds_only_its_own_sales(world, login_as):
    cola, _water = _history(world)
    page = login_as("dealer_b").get("/dealer/reports/sales?by=province")
    assert page.status_code == 200
    report = page.get_data(as_text=True).split('id="sales-report"', 1)[1]
    assert "四川省" in report and "浙江省" not in report
    export = login_as("dealer_b").get("/dealer/reports/sales/export.xlsx?by=product")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == cola.base_price_fen * 4 / 100


def test_admin_report_page_chart_drilldown_and_access(world, login_as):
    _history(world)
    admin = login_as("admin")
    page = admin.get("/admin/reports/sales?by=province&compare=last_year")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    report = html.split('id="sales-report"', 1)[1]
    assert "浙江省" in report and "四川省" in report and html.count("<svg") == 2
    province = world.orgs["retailer"].region.parent_id
    drill = admin.hx_get(f"/admin/reports/sales?by=region&province={province}")
    body = drill.get_data(as_text=True)
    assert drill.status_code == 200 and "<html" not in body and "杭州市" in body and "成都市" not in body
    assert admin.get("/admin/reports/sales?province=999999").status_code == 404
    assert admin.get("/admin/reports/sales?start=bad&by=nonsense").status_code == 200
    assert login_as("admin_b").get("/admin/reports/sales").status_code == 403
    assert login_as("retailer").get("/admin/reports/sales").status_code == 403


def _ship_deliver_return(placed, product, shipped_days_ago, delivered_days_ago, returned_days_ago, returned):
    line = db.session.scalars(select(OrderLine).where(OrderLine.order_id == placed.id)).one()
    now = utcnow()
    shipment = Shipment(order_id=placed.id, seller_id=placed.seller_id, carrier="SF",
                        shipped_at=now - timedelta(days=shipped_days_ago))
    db.session.add(shipment)
    db.session.flush()
    db.session.add_all([ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, product_id=product.id, qty=line.qty),
                        DeliverySignOff(order_id=placed.id, method="portal",
                                        signed_at=now - timedelta(days=delivered_days_ago))])
    request = ReturnRequest(order_id=placed.id, buyer_id=placed.buyer_id, seller_id=placed.seller_id, reason="破损",
                            status="accepted", decided_at=now - timedelta(days=returned_days_ago))
    db.session.add(request)
    db.session.flush()
    db.session.add(ReturnLine(return_id=request.id, order_line_id=line.id, product_id=product.id, qty=returned))
    db.session.flush()


def test_the_trend_labels_a_partial_week_with_the_days_it_holds(world, login_as):
    _history(world)
    friday = today_local() - timedelta(days=(today_local().weekday() - 4) % 7 + 14)
    end = friday + timedelta(days=11)  # Friday to the Tuesday after next: 3 days, a whole week, 2 days
    html = login_as("admin").get(f"/admin/reports/sales?start={friday}&end={end}").get_data(as_text=True)
    monday = friday - timedelta(days=4)
    assert f"{monday:%m-%d}（3天）" in html and f"{monday + timedelta(days=14):%m-%d}（2天）" in html
    assert f"{monday + timedelta(days=7):%m-%d}（" not in html  # the whole week keeps its plain label


def test_ordered_shipped_delivered_returned_and_net_each_on_their_day(world, login_as):
    """An order of 10 placed before the period, shipped and delivered in it, 3 returned in it; an
    order of 5 placed in it and still open: the report counts each event in the period it happened."""
    cola = factories.product()
    early = order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 10)], status="completed", days_ago=40)
    _ship_deliver_return(early, cola, 20, 15, 10, 3)
    order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 5)], status="approved", days_ago=5)
    db.session.flush()
    facts.refresh()
    db.session.commit()
    end = today_local()
    price = cola.base_price_fen
    for seller_id in (None, world.orgs["dealer"].id):  # the brand's rollup and the dealer's facts
        report = sales_report(end - timedelta(days=29), end, by="product", seller_id=seller_id)
        row = {r.key: r for r in report.rows}[cola.id]
        assert (row.ordered_fen, row.shipped_fen, row.delivered_fen, row.returned_fen) == (5 * price, 10 * price,
                                                                                          10 * price, 3 * price)
        assert (row.value_fen, row.qty) == (2 * price, 2) and row.prior_fen == 10 * price
    html = login_as("dealer").get("/dealer/reports/sales?by=product").get_data(as_text=True)
    report_html = html.split('id="sales-report"', 1)[1]
    for header in ("下单", "发货", "签收", "退货", "净销售额"):
        assert f'<th class="num">{header}</th>' in report_html
    assert '<dd id="sales-returned">' in report_html
    export = login_as("dealer").get("/dealer/reports/sales/export.xlsx?by=product")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][-4:] == ("下单（元）", "发货（元）", "签收（元）", "退货（元）")
    assert rows[1][-4:] == (5 * price / 100, 10 * price / 100, 10 * price / 100, 3 * price / 100)


def test_brand_rollup_equals_the_facts_for_any_range_dimension_and_province(world):
    import random

    from app.models import RepRoute
    from app.models.analytics import SalesDay
    from app.services.analytics.sales import (DIMENSIONS, _fact_totals, _totals, facts_in, split_weeks, sums,
                                              weekly_net)
    from app.services.forecasting.demand import week_start

    cola, water = factories.product(), factories.product()
    rng = random.Random(13)
    buyers = [(world.orgs["retailer"], world.orgs["dealer"]), (world.orgs["retailer_b"], world.orgs["dealer_b"])]
    made = []
    for _ in range(40):
        buyer, seller = rng.choice(buyers)
        made.append(order(buyer, seller, [(rng.choice([cola, water]), rng.randint(1, 9))],
                          status=rng.choice(["completed", "completed", "cancelled"]), days_ago=rng.randint(0, 60)))
    fulfil_some(made)  # shipments, deliveries and returns on later days: every measure is compared
    days = [m.created_at.astimezone(LOCAL).date() for m in made]
    facts.rebuild_range(min(days), max(days) + timedelta(days=10))
    db.session.commit()
    provinces = [None, world.regions["zj"].id]
    # The brand's market (by rep and by retailer from the "buyer" grain), and a rep's route (every
    # dimension but the product's from the "buyer" grain, its weekly trend too).
    route = select(RepRoute.retailer_id).where(RepRoute.rep_id == world.users["rep"].id)
    assert db.session.scalars(route).all()
    for _ in range(12):
        start = today_local() - timedelta(days=rng.randint(0, 60))
        end = start + timedelta(days=rng.randint(0, 40))
        for buyers in (None, route):
            for by in DIMENSIONS:
                for province_id in provinces:
                    assert _totals(start, end, by, None, province_id, buyers) == \
                        _fact_totals(start, end, by, None, province_id, buyers), \
                        (start, end, by, province_id, buyers is None, split_weeks(start, end))
            week = week_start(SalesDay.day).label("week")
            by_week = dict(db.session.execute(facts_in(select(week, sums(SalesDay)[0]), start, end, "product", None,
                                                       None, buyers).group_by(week)).all())
            assert {w: v for w, v in weekly_net(start, end, None, None, buyers).items() if v} == \
                {(date.fromisoformat(w) if isinstance(w, str) else w): int(v) for w, v in by_week.items() if v}


def test_a_changed_order_moves_its_day_and_its_week_in_the_rollup(world):
    from app.services.analytics.sales import _totals

    cola = factories.product()
    placed = order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 10)], status="completed", days_ago=20)
    db.session.commit()
    facts.refresh()
    end = today_local()
    before = _totals(end - timedelta(days=60), end, "product", None, None)[cola.id]
    placed.status = "cancelled"
    placed.updated_at = placed.updated_at + timedelta(days=20)
    db.session.commit()
    facts.refresh()
    after = _totals(end - timedelta(days=60), end, "product", None, None)[cola.id]
    assert before[0] == cola.base_price_fen * 10 and after[0] == 0


def test_a_large_rebuild_refreshes_the_planner_statistics(app, world):
    """More than 30 days rebuilt: the command VACUUM ANALYZEs the fact tables on PostgreSQL (the planner
    otherwise keeps the statistics of the empty tables); a nightly increment does not."""
    order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)], status="completed", days_ago=3)
    db.session.commit()
    end = today_local()
    runner = app.test_cli_runner()
    wide = runner.invoke(args=["analytics", "refresh", "--from", str(end - timedelta(days=40)), "--to", str(end)])
    narrow = runner.invoke(args=["analytics", "refresh", "--from", str(end - timedelta(days=5)), "--to", str(end)])
    assert wide.exit_code == 0 and narrow.exit_code == 0
    on_postgres = db.session.get_bind().dialect.name == "postgresql"
    assert ("vacuumed and analyzed" in wide.output) == on_postgres
    assert "Rebuilt 6 day(s)" in narrow.output and "vacuumed and analyzed" not in narrow.output


def test_by_rep_and_by_retailer_in_each_scope(world, login_as):
    """The brand groups by the rep serving each shop and drills to a rep's shops; a dealer sees its
    own shops only; a rep sees the shops on its route; a rep from elsewhere in the URL is a 404."""
    cola, water = _history(world)
    rep, rep_b = world.users["rep"], world.users["rep_b"]
    price = cola.base_price_fen
    admin = login_as("admin")
    html = admin.get("/admin/reports/sales?by=rep").get_data(as_text=True).split('id="sales-report"', 1)[1]
    assert f"by=retailer&amp;rep={rep.id}" in html and f"rep={rep_b.id}" in html
    report = sales_report(today_local() - timedelta(days=29), today_local(), by="rep")
    by_rep = {r.key: r.value_fen for r in report.rows}
    assert by_rep == {rep.id: price * 10 + water.base_price_fen * 2, rep_b.id: price * 4}
    drill = admin.get(f"/admin/reports/sales?by=retailer&rep={rep_b.id}").get_data(as_text=True)
    drill = drill.split('id="sales-report"', 1)[1]
    assert "锦江便利店" in drill and "西湖小卖部" not in drill and "只看业务员" in drill
    assert admin.get("/admin/reports/sales?rep=999999").status_code == 404
    assert admin.get(f"/admin/reports/sales?rep={world.users['dealer'].id}").status_code == 404  # not a rep

    dealer = login_as("dealer")
    shops = dealer.get("/dealer/reports/sales?by=retailer").get_data(as_text=True).split('id="sales-report"', 1)[1]
    assert "西湖小卖部" in shops and "锦江便利店" not in shops
    assert dealer.get(f"/dealer/reports/sales?by=retailer&rep={rep.id}").status_code == 200
    assert dealer.get(f"/dealer/reports/sales?by=retailer&rep={rep_b.id}").status_code == 404  # serves none of its shops

    mine = login_as("rep")
    page = mine.get("/rep/reports/sales?by=retailer")
    assert page.status_code == 200
    body = page.get_data(as_text=True).split('id="sales-report"', 1)[1]
    assert "西湖小卖部" in body and "锦江便利店" not in body and "四川" not in body
    assert mine.get(f"/rep/reports/sales?by=retailer&rep={rep_b.id}").status_code == 404
    assert mine.get("/rep/reports/sales?rep=abc").status_code == 404
    assert mine.get(f"/rep/reports/sales?rep={rep.id}").status_code == 200
    export = mine.get("/rep/reports/sales/export.xlsx?by=retailer")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["西湖小卖部"]
    assert login_as("retailer").get("/rep/reports/sales").status_code == 403


def test_retailers_are_paged_top_first(world, login_as):
    cola = factories.product()
    shops = [factories.org("retailer", f"门店{n:02d}", region_id=world.regions["hz"].id, channel="kiosk",
                           dealer_id=world.orgs["dealer"].id) for n in range(55)]
    for n, shop in enumerate(shops):
        order(shop, world.orgs["dealer"], [(cola, n + 1)], status="completed", days_ago=2)
    db.session.flush()
    facts.refresh()
    db.session.commit()
    dealer = login_as("dealer")
    first = dealer.get("/dealer/reports/sales?by=retailer").get_data(as_text=True).split("<tbody>", 1)[1]
    first = first.split("</tbody>", 1)[0]
    assert first.count("<tr>") == 50 and first.index("门店54") < first.index("门店53")  # biggest first
    assert "门店04" not in first
    second = dealer.get("/dealer/reports/sales?by=retailer&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in second
    second = second.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert second.count("<tr>") == 5 and "门店00" in second and "门店54" not in second
    assert dealer.get("/dealer/reports/sales?by=retailer&page=99").status_code == 200


def test_a_single_monday_of_a_weekly_only_grain_counts_that_day_not_its_week(world):
    """One day that is a Monday has no whole week and no daily rows in a weekly-only grain (the
    brand's market by product in a province): its edge day comes from the facts, and the week's row,
    keyed by that Monday, must not be read as well (it was, so every single-Monday range counted
    the whole week)."""
    from app.services.analytics.sales import _fact_totals, _totals

    cola = factories.product()
    made = [order(world.orgs["retailer"], world.orgs["dealer"], [(cola, n)], status="completed", days_ago=n)
            for n in range(7, 15)]
    days = sorted({m.created_at.astimezone(LOCAL).date() for m in made})
    facts.rebuild_range(days[0], days[-1])
    db.session.commit()
    monday = next(d for d in days if d.weekday() == 0 and d + timedelta(days=1) in days)
    province = world.regions["zj"].id
    one_day = _totals(monday, monday, "product", None, province)
    assert one_day == _fact_totals(monday, monday, "product", None, province)
    assert one_day and one_day != _totals(monday, monday + timedelta(days=6), "product", None, province)
