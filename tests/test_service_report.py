"""The service report reads the per-order service facts: a tiny example computed by hand matches
the page; the facts follow the orders incrementally; a dealer sees only its own sales."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from app.extensions import db
from app.models import Order, OrderEvent, Shipment, ShipmentLine, utcnow
from app.models.analytics import ServiceFact, ServiceRollup
from app.services.analytics import facts, service_facts
from app.services.analytics.service import service_report
from app.services.core.clock import today_local
from tests import factories
from tests.builders_ordering import order


def _ship(row, qtys: dict, hours: float) -> None:
    """Ship `qtys` (product → cases) of order `row` `hours` after it was submitted."""
    shipment = Shipment(order_id=row.id, seller_id=row.seller_id, carrier="顺丰", shipped_at=row.created_at + timedelta(hours=hours))
    db.session.add(shipment)
    db.session.flush()
    for line in row.lines:
        if qtys.get(line.product_id):
            db.session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, product_id=line.product_id,
                                        qty=qtys[line.product_id]))


def _event(row, to_status: str, hours: float, actor=None) -> None:
    db.session.add(OrderEvent(order_id=row.id, at=row.created_at + timedelta(hours=hours), to_status=to_status,
                              actor_id=actor.id if actor else None))


def _history(world, days_ago: int = 5):
    """Four orders of dealer A, one of dealer B, all submitted `days_ago` days ago:
    1. 10 cola + 2 water, approved by the rule, shipped in full, delivered after 30 h: on time in full;
    2. 4 cola, approved by a person, 3 of 4 shipped, delivered after 20 h: on time, not in full;
    3. 6 water, approved by the rule, shipped in full, delivered after 80 h: late;
    4. 5 cola, cancelled (not due, not fulfilled);
    5. (dealer B) 1 cola, approved by the rule, still approved after 5 days: due, not delivered."""
    cola, water = factories.product(base_price_fen=1000), factories.product(base_price_fen=333)
    dealer, dealer_b = world.orgs["dealer"], world.orgs["dealer_b"]
    person = world.users["dealer"]
    east, west = world.orgs["retailer"], world.orgs["retailer_b"]
    one = order(east, dealer, [(cola, 10), (water, 2)], status="delivered", days_ago=days_ago)
    two = order(east, dealer, [(cola, 4)], status="delivered", days_ago=days_ago)
    three = order(east, dealer, [(water, 6)], status="delivered", days_ago=days_ago)
    order(east, dealer, [(cola, 5)], status="cancelled", days_ago=days_ago)
    five = order(west, dealer_b, [(cola, 1)], status="approved", days_ago=days_ago)
    db.session.refresh(one), db.session.refresh(two), db.session.refresh(three)
    _event(one, "approved", 0.01), _event(two, "approved", 2, person), _event(three, "approved", 0.01)
    _event(five, "approved", 0.01)
    _ship(one, {cola.id: 10, water.id: 2}, 10), _ship(two, {cola.id: 3}, 10), _ship(three, {water.id: 6}, 30)
    _event(one, "delivered", 30), _event(two, "delivered", 20), _event(three, "delivered", 80)
    db.session.flush()
    facts.refresh()
    db.session.commit()
    return cola, water


def test_figures_match_a_hand_computation(world):
    cola, water = _history(world)
    end = today_local()
    report = service_report(end - timedelta(days=29), end, "dealer")
    dealer = {r.key: r for r in report.rows}[world.orgs["dealer"].id]
    assert dealer.submitted == 4 and dealer.auto_approved == 2 and dealer.auto_rate == 0.5
    # Fulfilled orders 1–3: 4 lines, 3 shipped in full.
    assert (dealer.lines, dealer.filled_lines) == (4, 3) and dealer.line_fill == 0.75
    # Ordered 10×1000 + 2×333 + 4×1000 + 6×333 = 16 664 fen; shipped the same less one cola.
    assert (dealer.ordered_fen, dealer.shipped_fen) == (16664, 15664)
    # Due: orders 1–3 (delivered); on time in full: order 1 only.
    assert (dealer.due, dealer.otif) == (3, 1)
    total = report.total
    assert total.submitted == 5 and total.auto_approved == 3 and total.due == 4 and total.otif == 1
    # Cycle: 20 h and 30 h in the first two buckets (0–24, 24–48), 80 h in 72–120.
    assert report.histogram == [1, 1, 0, 1, 0, 0]


def test_whole_settled_weeks_come_from_the_weekly_rollup(world):
    """The same history in a whole week that ended days ago: the report gives the same figures,
    and still gives them with the per-order facts gone, so it read the weekly rollup."""
    today = today_local()
    monday = today - timedelta(days=today.weekday())
    _history(world, days_ago=(today - (monday - timedelta(days=12))).days)  # Wednesday, two weeks back
    assert db.session.query(ServiceRollup).count() >= 2  # one row per dealer × province of that week

    def figures():
        report = service_report(monday - timedelta(days=28), today, "dealer")
        dealer = {r.key: r for r in report.rows}[world.orgs["dealer"].id]
        return ((dealer.submitted, dealer.auto_approved, dealer.lines, dealer.filled_lines, dealer.ordered_fen,
                 dealer.shipped_fen, dealer.due, dealer.otif),
                (report.total.submitted, report.total.due, report.total.otif), report.histogram)

    expected = ((4, 2, 4, 3, 16664, 15664, 3, 1), (5, 4, 1), [1, 1, 0, 1, 0, 0])
    assert figures() == expected
    db.session.query(ServiceFact).delete()
    assert figures() == expected


def test_value_fill_rounds_once_per_line(world):
    odd = factories.product(base_price_fen=1000)
    row = order(world.orgs["retailer"], world.orgs["dealer"], [(odd, 3)], status="shipped", days_ago=1)
    row.lines[0].line_total_fen = 1000  # a promotion price: 1000 fen for 3 cases
    db.session.flush()
    _ship(row, {odd.id: 1}, 5)
    db.session.flush()
    facts.refresh()
    fact = db.session.get(ServiceFact, row.id)
    assert (fact.shipped_qty, fact.shipped_fen, fact.filled_lines) == (1, 333, 0)


def test_facts_follow_the_orders_and_rerunning_changes_nothing(world):
    _history(world)
    before = {f.order_id: (f.status, f.delivered_at, f.shipped_fen) for f in db.session.query(ServiceFact)}
    assert service_facts.refresh() >= 0
    assert {f.order_id: (f.status, f.delivered_at, f.shipped_fen) for f in db.session.query(ServiceFact)} == before
    waiting = db.session.query(ServiceFact).filter_by(status="approved").one().order_id
    order_row = db.session.get(Order, waiting)
    order_row.status = "delivered"
    db.session.add(OrderEvent(order_id=order_row.id, at=utcnow(), to_status="delivered"))
    db.session.flush()
    facts.refresh()
    db.session.expire_all()
    row = db.session.get(ServiceFact, waiting)
    assert row.status == "delivered" and row.delivered_at is not None and row.cycle_seconds > 4 * 86400


def test_pages_export_and_access(world, login_as):
    _history(world)
    admin = login_as("admin")
    page = admin.get("/admin/reports/service")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<svg") == 1
    assert 'id="service-line-fill">75.0%' in html
    assert 'id="service-auto">60.0%' in html and 'id="service-otif">25.0%' in html
    fragment = admin.hx_get("/admin/reports/service?by=province")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert admin.get("/admin/reports/service?province=999999").status_code == 404
    assert admin.get("/admin/reports/service?start=bad&by=nonsense").status_code == 200
    assert login_as("admin_b").get("/admin/reports/service").status_code == 403
    assert login_as("retailer").get("/admin/reports/service").status_code == 403
    # Dealer B sees its one order only.
    dealer_b = login_as("dealer_b").get("/dealer/reports/service?by=dealer").get_data(as_text=True)
    dealer_b = dealer_b.split('id="service-report"', 1)[1]
    assert 'id="service-auto">100.0%' in dealer_b and "四川省" in dealer_b and "浙江省" not in dealer_b
    export = login_as("dealer").get("/dealer/reports/service/export.xlsx")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[-1][2:7] == (4, 50.0, 75.0, round(15664 / 16664 * 100, 1), round(1 / 3 * 100, 1))
