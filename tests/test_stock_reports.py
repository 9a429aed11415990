"""Reorder rules computed from demand, and the turnover / days of supply / stock-out report,
on a ledger with known history."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import ProductCost, ReorderRule, StockMovement
from app.services.inventory import reserve_order, ship_order_lines
from app.services.inventory.daysql import start_of_local_day
from app.services.inventory.reports import turnover_report
from app.services.inventory.safety import compute_reorder_rules, reorder_levels
from app.services.core.clock import today_local
from tests import factories
from tests.builders_stock import order, stock, warehouse


@pytest.fixture
def history(world):
    wh = warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    product = factories.product(code="SODA", base_price_fen=3000)
    db.session.commit()
    return wh, product, world


def _at(day_offset: int):
    """Noon (Shanghai) of today + day_offset."""
    return start_of_local_day(today_local() + timedelta(days=day_offset)) + timedelta(hours=12)


def _redate_last(count: int, when) -> None:
    ids = [m.id for m in db.session.scalars(db.select(StockMovement).order_by(StockMovement.id.desc()).limit(count))]
    db.session.execute(update(StockMovement).where(StockMovement.id.in_(ids)).values(at=when))


def _ship(wh, product, world, qty, day_offset):
    o = order(world.orgs["retailer"], world.orgs["dealer"], {product: qty})
    reserve_order(o.id, None)
    ship_order_lines(o.id, {product.id: qty}, None)
    _redate_last(2, _at(day_offset))


def test_reorder_levels_formula():
    safety, reorder_point, mean, std = reorder_levels([10, 0] * 15, lead_time_days=7, z=1.65)
    assert mean == 5 and round(std, 3) == 5.085
    assert (safety, reorder_point) == (23, 58)  # ⌈1.65 × 5.085 × √7⌉ = 23; ⌈5 × 7⌉ + 23


def test_compute_rules_from_shipments(history):
    wh, product, world = history
    stock(wh, product, 1000, batch="S1")
    for day in range(1, 31, 2):  # 10 units every other day over the last 30 days
        _ship(wh, product, world, 10, -day)
    db.session.add(ReorderRule(warehouse_id=wh.id, product_id=product.id, safety_stock=1, reorder_point=2,
                               method="manual"))
    db.session.commit()
    assert compute_reorder_rules(wh.id, actor_id=None, days=30) == 0  # a manual rule is kept
    assert compute_reorder_rules(wh.id, actor_id=None, days=30, overwrite_manual=True) == 1
    db.session.commit()
    rule = db.session.get(ReorderRule, (wh.id, product.id))
    assert (rule.method, rule.safety_stock, rule.reorder_point) == ("computed", 23, 58)
    assert rule.avg_daily_demand == 5.0


def test_turnover_report_from_the_ledger(history):
    wh, product, world = history
    stock(wh, product, 100, batch="S1")
    _redate_last(1, _at(-11))  # received before the period
    _ship(wh, product, world, 30, -6)  # period day 4
    _ship(wh, product, world, 70, -3)  # period day 7: empty from here to the end
    stock(wh, product, 50, batch="S2")  # today, after the period
    db.session.add(ProductCost(product_id=product.id, cost_fen=1000))
    db.session.commit()
    start, end = today_local() - timedelta(days=10), today_local() - timedelta(days=1)
    report = turnover_report([wh.id], start, end)
    [row] = report.rows
    assert (row.shipped_qty, row.on_hand_end, row.stockout_days) == (100, 0, 3)
    assert row.avg_on_hand == 61.0  # (4 × 100 + 3 × 70 + 3 × 0) / 10
    assert (row.cogs_fen, row.avg_value_fen) == (100_000, 61_000)
    assert round(row.annual_turnover, 2) == round(100_000 / 61_000 * 36.5, 2)
    assert row.days_of_supply == 0 and row.stockout_rate == 0.3 and not row.cost_is_list_price
    assert report.annual_turnover == row.annual_turnover


def test_turnover_page_for_a_dealer(history, login_as):
    wh, product, world = history
    stock(wh, product, 40, batch="S1")
    _redate_last(1, _at(-20))
    _ship(wh, product, world, 10, -5)
    db.session.commit()
    c = login_as("dealer")
    page = c.get("/dealer/stock/reports/turnover").get_data(as_text=True)
    # never bought from the brand: valued at the dealer's current purchase price (its base price here)
    assert "SODA" in page and "年化周转次数" in page and "尚无进货记录" in page and "未设置单位成本" not in page
    fragment = c.hx_get(f"/dealer/stock/reports/turnover?warehouse_id={wh.id}&start=2020-01-01&end=2020-01-31")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and 'id="turnover"' in body and "<html" not in body
    other = login_as("dealer_b").get("/dealer/stock/reports/turnover").get_data(as_text=True)
    assert "SODA" not in other


def test_a_dealer_cannot_read_another_warehouse_through_the_query_string(history, login_as):
    """Issue 8: ?warehouse_id= of the brand's or another dealer's warehouse showed its figures."""
    wh, product, world = history
    brand_wh = warehouse(world.brand, world.regions["hz"], code="BRANDDC", name="品牌总仓")
    other_wh = warehouse(world.orgs["dealer_b"], world.regions["cd"], code="CDWH", name="成都仓")
    secret = factories.product(code="SECRETSKU", base_price_fen=5000)
    stock(brand_wh, secret, 500, batch="B1")
    stock(other_wh, secret, 70, batch="B2")
    db.session.commit()
    c = login_as("dealer")
    for foreign in (brand_wh, other_wh):
        for response in (c.get(f"/dealer/stock/reports/turnover?warehouse_id={foreign.id}"),
                         c.hx_get(f"/dealer/stock/reports/turnover?warehouse_id={foreign.id}")):
            body = response.get_data(as_text=True)
            assert response.status_code == 404 and "SECRETSKU" not in body and foreign.code not in body
    assert c.get(f"/dealer/stock/reports/turnover?warehouse_id={wh.id}").status_code == 200
    # the brand sees every warehouse, dealers' included
    assert "CDWH" in login_as("admin").get(f"/admin/stock/reports/turnover?warehouse_id={other_wh.id}").get_data(
        as_text=True)


def test_a_dealers_report_values_stock_at_its_purchase_prices_not_the_brands_cost(history, login_as):
    """Issue 8: cost of goods ÷ units on the dealer's report gave away the brand's standard cost."""
    wh, product, world = history
    db.session.add(ProductCost(product_id=product.id, cost_fen=1234))
    bought = order(world.orgs["dealer"], world.brand, {product: 10})  # 100 fen a unit ...
    bought.lines[0].unit_price_fen, bought.lines[0].line_total_fen = 2000, 20_000  # ... no: 20.00 yuan
    order(world.orgs["dealer"], world.brand, {product: 30}).lines[0].line_total_fen = 30 * 2400
    cancelled = order(world.orgs["dealer"], world.brand, {product: 100})
    cancelled.status, cancelled.lines[0].line_total_fen = "cancelled", 100
    stock(wh, product, 40, batch="S1")
    _redate_last(1, _at(-20))
    _ship(wh, product, world, 10, -5)
    db.session.commit()
    start, end = today_local() - timedelta(days=10), today_local() - timedelta(days=1)
    [row] = turnover_report([wh.id], start, end, dealer_id=world.orgs["dealer"].id).rows
    assert row.unit_cost_fen == (20_000 + 72_000) // 40 and not row.cost_is_estimate  # 23.00 yuan
    assert turnover_report([wh.id], start, end).rows[0].unit_cost_fen == 1234  # the brand's books
    page = login_as("dealer").get("/dealer/stock/reports/turnover").get_data(as_text=True)
    assert "¥230.00" in page and "12.34" not in page and "¥123.40" not in page
    assert "从品牌进货的平均单价" in page


def test_stockout_rate_counts_days_with_nothing_available_while_the_product_was_carried(history):
    """Issue 10: the demo showed 38.9 % on every product, the days before the ledger began counted
    as stock-outs. By hand, over days -10..-1: first received on day -8 (the two days before are not
    carried), 20 reserved on day -5 (nothing available from then, though 20 are on hand), shipped on
    day -3, 10 received on day -2: available closes 20, 20, 20, 0, 0, 0, 10, 10 -> 3 of 8 days."""
    wh, product, world = history
    stock(wh, product, 20, batch="S1")
    _redate_last(1, _at(-8))
    o = order(world.orgs["retailer"], world.orgs["dealer"], {product: 20})
    reserve_order(o.id, None)
    _redate_last(1, _at(-5))
    ship_order_lines(o.id, {product.id: 20}, None)
    _redate_last(1, _at(-3))
    stock(wh, product, 10, batch="S2")
    _redate_last(1, _at(-2))
    db.session.commit()
    start, end = today_local() - timedelta(days=10), today_local() - timedelta(days=1)
    report = turnover_report([wh.id], start, end)
    [row] = report.rows
    assert (row.days_carried, row.stockout_days, row.stockout_rate) == (8, 3, 0.375)
    assert row.avg_on_hand == 12.0  # (2 × 0 + 5 × 20 + 1 × 0 + 2 × 10) / 10: on hand, reserved or not
    assert report.stockout_rate == 0.375

    later_start = today_local() - timedelta(days=2)  # a period inside the carried days
    [row] = turnover_report([wh.id], later_start, end).rows
    assert (row.days_carried, row.stockout_days) == (2, 0)
