"""Daily sales facts against the order tables, the stored weekly forecast, and its page."""
from __future__ import annotations

import gzip
import io
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from app.extensions import db
from app.models import (DeliveryDiscrepancy, DeliverySignOff, Order, OrderLine, Product, ReturnLine, ReturnRequest,
                        Shipment, ShipmentLine)
from app.models.analytics import DemandForecast, ForecastRun, ForecastSeries, SalesDay
from app.services.analytics import facts
from app.services.analytics.facts import local_day
from app.services.core.clock import LOCAL
from app.services.forecasting.demand import run_forecast
from tests import factories
from tests.builders_analytics import fulfil_some
from tests.builders_ordering import order


def _orders(world, count=60, seed=7):
    rng = random.Random(seed)
    products = [factories.product() for _ in range(3)]
    buyers = [(world.orgs["retailer"], world.orgs["dealer"]), (world.orgs["retailer_b"], world.orgs["dealer_b"]),
              (world.orgs["dealer"], world.orgs["brand"])]
    made = []
    for _ in range(count):
        buyer, seller = rng.choice(buyers)
        lines = [(p, rng.randint(1, 9)) for p in rng.sample(products, rng.randint(1, len(products)))]
        status = rng.choice(["submitted", "approved", "completed", "cancelled", "rejected"])
        row = order(buyer, seller, lines, status=status, days_ago=rng.randint(0, 20))
        # Spread the orders over the Shanghai day boundary (16:00 UTC).
        moment = row.created_at.replace(hour=rng.choice([15, 16, 23, 2]), minute=rng.randint(0, 59))
        row.created_at = row.updated_at = moment
        made.append(row)
    db.session.flush()
    return made


def _half_up(total, part, whole):
    return (total * part * 2 + whole) // (whole * 2)


def _direct(first: date, last: date) -> dict:
    """The facts recomputed in Python from the raw order, shipment, sign-off and return tables:
    [orders, qty, value, lost qty, lost value, shipped qty, value, delivered qty, value, returned
    qty, value] per day (of each event) × product × buyer × seller."""
    expected = defaultdict(lambda: [set()] + [0] * 10)
    lines = {line.id: (line, o) for line, o in
             db.session.execute(select(OrderLine, Order).join(Order, Order.id == OrderLine.order_id))}

    def add(moment, line, o, offset, qty, value):
        day = moment.astimezone(LOCAL).date()
        if first <= day <= last:
            row = expected[(day, line.product_id, o.buyer_id, o.seller_id)]
            row[offset] += qty
            row[offset + 1] += value
            return row

    for line, o in lines.values():
        row = add(o.created_at, line, o, 1, line.qty, line.line_total_fen)
        if row is not None:
            row[0].add(o.id)
            if o.status in ("cancelled", "rejected"):
                row[3] += line.qty
                row[4] += line.line_total_fen
    sent = defaultdict(int)
    for s_line, shipment in db.session.execute(select(ShipmentLine, Shipment).join(Shipment)):
        line, o = lines[s_line.order_line_id]
        sent[line.id] += s_line.qty
        add(shipment.shipped_at, line, o, 5, s_line.qty, _half_up(line.line_total_fen, s_line.qty, line.qty))
    missing = defaultdict(int)
    for d in db.session.scalars(select(DeliveryDiscrepancy)):
        missing[d.order_line_id] += d.qty
    for sign_off in db.session.scalars(select(DeliverySignOff)):
        for line, o in lines.values():
            arrived = sent[line.id] - missing[line.id]
            if o.id == sign_off.order_id and arrived > 0:
                add(sign_off.signed_at, line, o, 7, arrived, _half_up(line.line_total_fen, arrived, line.qty))
    for r_line, request in db.session.execute(select(ReturnLine, ReturnRequest).join(ReturnRequest)):
        if request.status == "accepted":
            line, o = lines[r_line.order_line_id]
            add(request.decided_at, line, o, 9, r_line.qty, _half_up(line.line_total_fen, r_line.qty, line.qty))
    return {k: [len(v[0]), *v[1:]] for k, v in expected.items()}


MEASURES = ("orders", "qty", "value_fen", "lost_qty", "lost_fen", "shipped_qty", "shipped_fen", "delivered_qty",
            "delivered_fen", "returned_qty", "returned_fen")


def _stored(first: date, last: date) -> dict:
    return {(r.day, r.product_id, r.buyer_id, r.seller_id): [getattr(r, m) for m in MEASURES]
            for r in db.session.scalars(select(SalesDay).where(SalesDay.day.between(first, last)))}


def test_facts_agree_with_the_order_tables_for_random_ranges_and_rerunning_changes_nothing(world):
    fulfil_some(_orders(world))
    today = datetime.now(LOCAL).date()
    rng = random.Random(3)
    for _ in range(6):
        first = today - timedelta(days=rng.randint(5, 22))
        last = first + timedelta(days=rng.randint(0, 10))
        facts.rebuild_range(first, last)
        assert _stored(first, last) == _direct(first, last)
    everything = (today - timedelta(days=25), today + timedelta(days=1))
    first_run = facts.rebuild_range(*everything)
    snapshot = _stored(*everything)
    assert first_run.rows == len(snapshot) > 0
    facts.rebuild_range(*everything)
    assert _stored(*everything) == snapshot == _direct(*everything)
    totals = [sum(row[i] for row in snapshot.values()) for i in range(len(MEASURES))]
    assert all(totals), dict(zip(MEASURES, totals))  # every measure is exercised


def _edge_events(world):
    """Orders, a shipment, a sign-off with a short line and an accepted return exactly at and just
    before a Shanghai midnight (16:00 UTC; no daylight saving): each lands on its own side."""
    product = factories.product()
    midnight = datetime.combine(datetime.now(LOCAL).date() - timedelta(days=8), datetime.min.time(), LOCAL)
    before = midnight - timedelta(microseconds=1)
    rows = []
    for moment in (before, midnight):
        row = order(world.orgs["retailer"], world.orgs["dealer"], [(product, 4)], status="completed")
        row.created_at = row.updated_at = moment.astimezone(timezone.utc) - timedelta(days=2)
        rows.append(row)
    lost = order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 3)], status="cancelled")
    lost.created_at = lost.updated_at = midnight.astimezone(timezone.utc)
    for row, moment in zip(rows, (before, midnight)):
        line = db.session.scalars(select(OrderLine).where(OrderLine.order_id == row.id)).one()
        shipment = Shipment(order_id=row.id, seller_id=row.seller_id, carrier="SF", shipped_at=moment)
        db.session.add(shipment)
        db.session.flush()
        db.session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, product_id=product.id, qty=4))
        sign_off = DeliverySignOff(order_id=row.id, method="portal", signed_at=moment + timedelta(days=1))
        db.session.add(sign_off)
        db.session.flush()
        db.session.add(DeliveryDiscrepancy(sign_off_id=sign_off.id, order_line_id=line.id, product_id=product.id,
                                           kind="short", qty=1, amount_fen=0))
        request = ReturnRequest(order_id=row.id, buyer_id=row.buyer_id, seller_id=row.seller_id, reason="test",
                                status="accepted", decided_at=moment + timedelta(days=2))
        db.session.add(request)
        db.session.flush()
        db.session.add(ReturnLine(return_id=request.id, order_line_id=line.id, product_id=product.id, qty=1))
    db.session.flush()
    return midnight.date()


def _every_row(model) -> list[tuple]:
    columns = [c.key for c in model.__table__.columns if c.key != "id"]  # not the rollup's serial id
    return sorted(tuple(getattr(r, c) for c in columns) for r in db.session.scalars(select(model)))


def test_a_range_built_at_once_equals_the_range_built_day_by_day(world, monkeypatch):
    """The set-based build (a month per statement, each event's day computed in SQL) writes exactly
    the rows of one rebuild per day: facts and rollups, every column; also with chunks cut mid-range."""
    from app.models.analytics import SalesRollup

    fulfil_some(_orders(world))
    edge = _edge_events(world)
    today = datetime.now(LOCAL).date()
    days = [today - timedelta(days=n) for n in range(26, -3, -1)]
    for day in days:
        facts.rebuild_days([day])
    by_day = _every_row(SalesDay), _every_row(SalesRollup)
    assert {edge - timedelta(days=1), edge} <= {row[0] for row in by_day[0]}
    assert all(by_day[0]) and len(by_day[1]) > len(days)
    for size in (None, 5):  # one statement for the whole range, then chunks of 5 days
        monkeypatch.setattr(facts, "CHUNK_DAYS", size or len(days))
        db.session.execute(delete(SalesDay))
        db.session.execute(delete(SalesRollup))
        assert facts.rebuild_range(days[0], days[-1]).rows == len(by_day[0])
        assert (_every_row(SalesDay), _every_row(SalesRollup)) == by_day
    assert _stored(days[0], days[-1]) == _direct(days[0], days[-1])


def test_chunks_are_runs_of_consecutive_days_cut_at_the_chunk_size():
    d = date(2026, 1, 1)
    days = [d, d + timedelta(days=1), d + timedelta(days=2), d + timedelta(days=5), d + timedelta(days=6)]
    assert list(facts.chunks(days, 2)) == [(days[0], days[1]), (days[2], days[2]), (days[3], days[4])]
    assert list(facts.chunks(days, 31)) == [(days[0], days[2]), (days[3], days[4])]
    assert list(facts.chunks([])) == []


def test_facts_carry_the_buyers_province_and_channel(world):
    product = factories.product()
    row = order(world.orgs["retailer"], world.orgs["dealer"], [(product, 2)])
    day = row.created_at.astimezone(LOCAL).date()
    facts.rebuild_range(day, day)
    fact = db.session.scalars(select(SalesDay).where(SalesDay.buyer_id == world.orgs["retailer"].id)).one()
    retailer_region = world.orgs["retailer"].region
    assert fact.region_id == retailer_region.id
    assert fact.province_id == retailer_region.parent_id  # a city's province
    assert fact.channel == "kiosk"
    assert (fact.orders, fact.qty, fact.lost_qty) == (1, 2, 0)


def test_refresh_rebuilds_only_the_days_whose_orders_changed(world):
    made = _orders(world, count=30)
    now = datetime.now(timezone.utc)
    for i, row in enumerate(sorted(made, key=lambda o: o.created_at)):
        row.created_at = min(row.created_at, now - timedelta(hours=2))
        row.updated_at = now - timedelta(hours=len(made) - i + 1)  # distinct, an hour apart, all in the past
    db.session.flush()
    first = facts.refresh()
    assert first.rows == len(_direct(date(2000, 1, 1), date(2100, 1, 1)))
    # Nothing changed: at most the day of the newest change is re-read (the overlap for late commits).
    newest = max(made, key=lambda o: o.updated_at)
    newest_day = newest.created_at.astimezone(LOCAL).date()
    assert facts.refresh().rebuilt == {newest_day}
    changed = min(made, key=lambda o: o.created_at)
    changed.status = "cancelled"
    changed.updated_at = now
    db.session.flush()
    again = facts.refresh()
    changed_day = changed.created_at.astimezone(LOCAL).date()
    assert changed_day != newest_day
    # The changed day, and again the newest order's day (within the overlap of the previous watermark).
    assert again.rebuilt == {changed_day, newest_day}
    assert _stored(date(2000, 1, 1), date(2100, 1, 1)) == _direct(date(2000, 1, 1), date(2100, 1, 1))


def test_refresh_picks_up_shipments_deliveries_and_returns_by_the_day_they_happened(world):
    """An accepted return does not touch its order: the refresh still finds its day by its own time."""
    product = factories.product()
    now = datetime.now(timezone.utc)
    row = order(world.orgs["retailer"], world.orgs["dealer"], [(product, 6)], status="completed", days_ago=6)
    line = db.session.scalars(select(OrderLine).where(OrderLine.order_id == row.id)).one()
    shipment = Shipment(order_id=row.id, seller_id=row.seller_id, carrier="SF", shipped_at=now - timedelta(days=4))
    db.session.add(shipment)
    db.session.flush()
    db.session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, product_id=product.id, qty=6))
    db.session.add(DeliverySignOff(order_id=row.id, method="portal", signed_at=now - timedelta(days=3)))
    row.updated_at = now - timedelta(days=3)
    db.session.flush()
    facts.refresh()
    request = ReturnRequest(order_id=row.id, buyer_id=row.buyer_id, seller_id=row.seller_id, reason="broken",
                            status="accepted", decided_at=now - timedelta(minutes=1))
    db.session.add(request)
    db.session.flush()
    db.session.add(ReturnLine(return_id=request.id, order_line_id=line.id, product_id=product.id, qty=2))
    db.session.flush()
    again = facts.refresh()
    assert local_day(request.decided_at) in again.rebuilt
    everything = (date(2000, 1, 1), date(2100, 1, 1))
    assert _stored(*everything) == _direct(*everything)
    by_measure = {m: sum(r[i] for r in _stored(*everything).values()) for i, m in enumerate(MEASURES)}
    assert (by_measure["qty"], by_measure["shipped_qty"], by_measure["delivered_qty"],
            by_measure["returned_qty"]) == (6, 6, 6, 2)
    assert by_measure["returned_fen"] == product.base_price_fen * 2
    assert facts.refresh().rebuilt == {local_day(request.decided_at)}  # only the overlap is re-read


def _weekly_orders(world, weeks=30):
    """A retailer buying a steady 10 cases of one product every week."""
    product = factories.product()
    for w in range(1, weeks + 1):
        row = order(world.orgs["retailer"], world.orgs["dealer"], [(product, 10)], status="completed", days_ago=7 * w)
        row.updated_at = row.created_at
    db.session.flush()
    return product


def test_the_weekly_run_forecasts_each_series_with_its_accuracy(world):
    product = _weekly_orders(world)
    facts.refresh()
    run = run_forecast(horizon=13)
    assert run.series_count == 1
    series = db.session.scalars(select(ForecastSeries).where(ForecastSeries.run_id == run.id)).one()
    assert (series.product_id, series.province_id) == (product.id, world.orgs["retailer"].region.parent_id)
    weeks = list(db.session.scalars(select(DemandForecast).where(DemandForecast.run_id == run.id)
                                    .order_by(DemandForecast.week)))
    assert len(weeks) == 13 and all(w.week.weekday() == 0 for w in weeks)
    assert weeks[0].week == run.history_to + timedelta(days=7)
    assert all(w.qty == pytest.approx(10, abs=0.5) for w in weeks)
    assert run.wape is not None and run.wape < 0.05


def test_forecast_page_shows_the_measured_accuracy_chart_and_series(world, login_as):
    product = _weekly_orders(world)
    facts.refresh()
    run = run_forecast(horizon=13)
    db.session.commit()
    client = login_as("admin")
    page = client.get("/admin/forecasts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"{(1 - run.wape) * 100:.1f}%" in html
    assert "<svg" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert product.code in html
    chart = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert len(gzip.compress(chart.encode())) <= 15 * 1024
    fragment = client.hx_get(f"/admin/forecasts?product={product.id}")
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="forecast-results">') and product.name_zh in body
    assert '<html' not in body
    export = client.get("/admin/forecasts/export.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 13 and rows[1][0] == product.code


def test_forecast_page_refuses_other_roles_and_unknown_filters(world, login_as):
    assert login_as("admin_b").get("/admin/forecasts").status_code == 403
    assert login_as("dealer").get("/admin/forecasts").status_code == 403
    admin = login_as("admin")
    assert admin.get("/admin/forecasts").status_code == 200  # no run yet: says how to make one
    assert "还没有预测" in admin.get("/admin/forecasts").get_data(as_text=True)
    assert admin.get("/admin/forecasts?province=999999").status_code == 404
    assert admin.get("/admin/forecasts?product=999999").status_code == 404
    assert admin.get("/admin/forecasts?province=abc&page=x").status_code in (200, 404)
    empty = admin.get("/admin/forecasts/export.xlsx")  # no run yet: the header row only
    assert empty.status_code == 200
    assert len(list(load_workbook(io.BytesIO(empty.data)).active.iter_rows(values_only=True))) == 1


def test_reorder_rules_follow_the_forecast_and_its_measured_error(world):
    """A steady 10 cases a week: the forecast is ~10/7 a day with almost no error, so the
    reorder point is about a week of forecast demand and safety stock is small."""
    from app.models import ReorderRule, Warehouse
    from app.services.inventory.safety import compute_reorder_rules

    product = _weekly_orders(world)
    facts.refresh()
    run_forecast(horizon=13)
    warehouse = Warehouse(owner_id=world.orgs["dealer"].id, region_id=world.orgs["dealer"].region_id,
                          name="杭州仓", code="HZ-T1", active=True)
    db.session.add(warehouse)
    db.session.flush()
    assert compute_reorder_rules(warehouse.id, actor_id=None) == 1
    rule = db.session.get(ReorderRule, (warehouse.id, product.id))
    assert rule.method == "forecast"
    assert rule.avg_daily_demand == pytest.approx(10 / 7, rel=0.05)
    assert rule.reorder_point == pytest.approx(10 + rule.safety_stock, abs=1)
    assert rule.safety_stock <= 2
    # The other dealer sells none of it: no forecast share, so no rule from the forecast.
    other = Warehouse(owner_id=world.orgs["dealer_b"].id, region_id=world.orgs["dealer_b"].region_id,
                      name="成都仓", code="CD-T1", active=True)
    db.session.add(other)
    db.session.flush()
    assert compute_reorder_rules(other.id, actor_id=None) == 0


def test_schedule_registers_the_nightly_facts_and_the_weekly_forecast():
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    jobs = {j.func_name: j.cron for j in scheduler.get_jobs()}
    from jobs.analytics import SCHEDULE_FACTS, SCHEDULE_FORECAST
    assert jobs["jobs.analytics.refresh_facts_job"] == SCHEDULE_FACTS
    assert jobs["jobs.analytics.forecast_job"] == SCHEDULE_FORECAST
