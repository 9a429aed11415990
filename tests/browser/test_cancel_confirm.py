"""A retailer cancels its order in a real browser (Debian Chromium), asked to confirm first: with
JavaScript off through the confirm page (the second POST carries confirmed=1), with htmx through
the browser's own dialog. Going back from the confirm page leaves the order as it was."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Order, Organisation, Product, User
from tests import builders_ordering
from tests.browser.conftest import log_in

pytestmark = pytest.mark.xdist_group("serial")  # a live server and a browser: one test at a time

RETAILER = "retailer000001"


def _submitted_order() -> tuple[int, str]:
    """A fresh submitted order of retailer000001 to the dealer that serves it, committed."""
    user = db.session.scalar(select(User).where(User.username == RETAILER))
    retailer = db.session.get(Organisation, user.org_id)
    product = db.session.scalars(select(Product).where(Product.status == "active").order_by(Product.id)).first()
    order = builders_ordering.order(retailer, db.session.get(Organisation, retailer.dealer_id), [(product, 2)])
    db.session.commit()
    return order.id, order.number


def _status(order_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Order, order_id).status


def test_cancel_asks_on_a_confirm_page_without_javascript(new_context, live_server, demo):
    order_id, number = _submitted_order()
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, live_server, RETAILER)
    page.goto(live_server(f"/retailer/orders/{order_id}"))

    page.locator("#order-cancel summary").click()
    page.fill("#order-cancel textarea[name=note]", "买多了")
    with page.expect_navigation():
        page.locator("#order-cancel button[type=submit]").click()
    expect(page.locator("#confirm h1")).to_have_text(f"取消订单 {number}？")
    expect(page.locator("#confirm")).to_contain_text("买多了")
    assert _status(order_id) == "submitted"

    with page.expect_navigation():  # changed my mind: back to the order, nothing happened
        page.locator("#confirm a", has_text="返回").click()
    assert page.url == live_server(f"/retailer/orders/{order_id}") and _status(order_id) == "submitted"

    page.locator("#order-cancel summary").click()
    page.fill("#order-cancel textarea[name=note]", "买多了")
    with page.expect_navigation():
        page.locator("#order-cancel button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm button[type=submit]").click()
    assert page.url == live_server(f"/retailer/orders/{order_id}")
    expect(page.locator(".flashes")).to_contain_text(f"订单 {number} 已取消")
    expect(page.locator("h1 .status")).to_have_text("已取消")
    expect(page.locator("#order-cancel")).to_have_count(0)
    assert _status(order_id) == "cancelled"


def test_cancel_asks_in_the_browser_dialog_with_htmx(new_context, live_server, demo):
    order_id, number = _submitted_order()
    page = new_context().new_page()
    log_in(page, live_server, RETAILER)
    page.goto(live_server(f"/retailer/orders/{order_id}"))
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.locator("#order-cancel summary").click()
    page.fill("#order-cancel textarea[name=note]", "买多了")
    page.locator("#order-cancel button[type=submit]").click()  # dismissed: nothing is sent
    expect(page.locator("#order-cancel textarea[name=note]")).to_have_value("买多了")
    assert _status(order_id) == "submitted"

    with page.expect_navigation():  # accepted: htmx posts with confirmed=1, then the redirect
        page.locator("#order-cancel button[type=submit]").click()
    assert questions == [f"取消订单 {number}？"] * 2
    expect(page.locator("h1 .status")).to_have_text("已取消")
    assert _status(order_id) == "cancelled"


def test_a_plain_delete_form_asks_in_the_browser_with_javascript(new_context, live_server, demo):
    """A form without hx-post (here: delete a shelf-life rule) is boosted by its confirm_attrs, so
    with JavaScript it asks in the browser instead of showing the confirm page."""
    from app.models.inventory import ShelfLifeRule

    rule = ShelfLifeRule(name="超市九成", audience="retailer", channel="supermarket", min_remaining_pct=90)
    db.session.add(rule)
    db.session.commit()
    rule_id = rule.id
    page = new_context().new_page()
    log_in(page, live_server, "admin", home="/admin/")
    page.goto(live_server("/admin/stock/shelf-life"))
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    with page.expect_response(lambda r: r.url.endswith(f"/admin/stock/shelf-life/{rule_id}/delete")):
        page.locator("tr", has_text="超市九成").locator("button", has_text="删除").click()
    expect(page.locator(".flashes")).to_contain_text("保质期规则已删除")
    assert questions == ["删除保质期规则“超市九成”？"]
    expect(page.locator("#confirm")).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(ShelfLifeRule, rule_id) is None
