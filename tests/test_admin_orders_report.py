"""The order-cycle report: automatic approval rate over the orders submitted in a period, time
from submit to delivery over the orders delivered in it, hold reasons; the page, its fragment,
bad dates and who may open it."""
import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import OrderEvent
from app.models.approval import OrderReviewReason
from app.services.approval.reports import approval_report
from app.services.core.clock import today_local
from tests import builders_lifecycle as b
from tests import factories


def _moves(order, *steps):
    """steps: (hours after submit, to_status, actor_id); sets the order's final status."""
    current = "submitted"
    for hours, to, actor_id in steps:
        db.session.add(OrderEvent(order_id=order.id, at=order.created_at + timedelta(hours=hours), actor_id=actor_id,
                                  from_status=current, to_status=to))
        current = to
    order.status = current
    db.session.flush()


@pytest.fixture
def month(world):
    """Six orders of the last 30 days and one older; see the expected figures in the tests."""
    person = world.users["admin"].id
    product = factories.product()
    retail, dealer, brand = world.orgs["retailer"], world.orgs["dealer"], world.brand

    def order(buyer, seller, days_ago):
        return b.order(buyer, seller, [(product, 1)], days_ago=days_ago)

    auto = order(retail, dealer, 10)
    _moves(auto, (0.01, "approved", None), (20, "shipped", person), (30, "delivered", None))
    manual = order(dealer, brand, 9)
    _moves(manual, (0.01, "on_hold", None), (5, "approved", person), (40, "shipped", person), (60, "delivered", None))
    rejected = order(retail, dealer, 8)
    _moves(rejected, (0.01, "on_hold", None), (3, "rejected", person))
    cancelled = order(retail, dealer, 7)
    _moves(cancelled, (1, "cancelled", person))
    waiting = order(dealer, brand, 2)
    _moves(waiting, (0.01, "on_hold", None))
    late = order(retail, dealer, 40)  # submitted before the period, delivered in it
    _moves(late, (1, "approved", None), (40 * 24 - 100, "delivered", None))
    auto_too = order(retail, dealer, 3)
    _moves(auto_too, (0.01, "approved", None))
    for o, code in ((manual, "credit_limit"), (rejected, "stock_short"), (waiting, "credit_limit"), (late, "overdue")):
        db.session.add(OrderReviewReason(order_id=o.id, code=code, message="x"))
    db.session.commit()
    return today_local() - timedelta(days=29), today_local()


def test_figures_over_the_period(month):
    report = approval_report(*month)
    assert (report.submitted, report.auto_approved, report.approved_by_person, report.held) == (6, 2, 1, 3)
    assert (report.rejected, report.cancelled, report.waiting) == (1, 1, 1)
    assert report.auto_rate == pytest.approx(2 / 6)
    # delivered in the period: 30 h, 60 h, and the older order's 860 h
    assert report.delivered == 3 and report.within_target == 1
    assert report.median_hours == pytest.approx(60, abs=0.01)
    assert report.p90_hours == pytest.approx(60 + 0.8 * 800, abs=0.01)
    assert report.reasons == [("credit_limit", 2), ("stock_short", 1)]


def test_figures_for_one_kind_of_seller(month):
    brand = approval_report(*month, seller_kind="brand")
    assert (brand.submitted, brand.auto_approved, brand.approved_by_person, brand.waiting) == (2, 0, 1, 1)
    assert brand.delivered == 1 and brand.median_hours == pytest.approx(60, abs=0.01)
    dealers = approval_report(*month, seller_kind="dealer")
    assert (dealers.submitted, dealers.auto_approved, dealers.delivered) == (4, 2, 2)
    assert dealers.median_hours == pytest.approx((30 + 860) / 2, abs=0.01)


def test_an_empty_period_has_no_rates(world):
    report = approval_report(today_local(), today_local())
    assert report.submitted == 0 and report.auto_rate is None and report.median_hours is None
    assert report.within_target_rate is None and report.reasons == []


def test_the_report_takes_a_fixed_number_of_queries(month):
    from tests.builders_ordering import count_queries

    with count_queries() as counter:
        approval_report(*month)
    assert len(counter) <= 6


@pytest.mark.parametrize("htmx", [False, True])
def test_report_page_and_fragment(login_as, month, htmx):
    start, end = month
    client = login_as("admin")
    url = f"/admin/reports/orders?start={start.isoformat()}&end={end.isoformat()}"
    response = client.hx_get(url) if htmx else client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in page) is not htmx
    assert '<b id="auto-rate">33.3%</b>' in page and '<b id="median-cycle">60.0 小时</b>' in page
    assert "超出信用额度" in page and "库存不足" in page


def test_default_period_is_the_last_30_days(login_as, month):
    page = login_as("admin").get("/admin/reports/orders").get_data(as_text=True)
    assert month[0].isoformat() in page and '<b id="auto-rate">33.3%</b>' in page


def test_a_bad_date_is_shown_next_to_the_field_with_the_default_period(login_as, month):
    response = login_as("admin").get("/admin/reports/orders?start=2024-13-45")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'<p class="error" id="start-msg">', page) and 'id="auto-rate"' in page


def test_an_analyst_with_reports_only_may_open_it(app, world, login_as):
    world.users["admin_b"].permissions = "reports"
    db.session.commit()
    assert login_as("admin_b").get("/admin/reports/orders").status_code == 200
    world.users["admin_b"].permissions = ""
    db.session.commit()
    assert login_as("admin_b").get("/admin/reports/orders").status_code == 403
    for role in ("dealer", "retailer", "rep"):
        assert login_as(role).get("/admin/reports/orders").status_code == 403
