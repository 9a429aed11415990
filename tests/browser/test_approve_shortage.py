"""The dealer approves an order with a line short of stock in a real browser (Debian Chromium):
the order page shows each line's availability, the dealer approves what is available and the
rest becomes a linked backorder; with JavaScript off (plain POST and redirect) and on (htmx)."""
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Order, Organisation, User
from app.services.inventory.orders import default_warehouse
from app.services.ordering import shortage
from tests import builders_ordering, builders_stock, factories
from tests.browser.conftest import log_in

pytestmark = pytest.mark.xdist_group("serial")  # a live server and a browser: one test at a time

DEALER = "dealer001"


def _short_order() -> tuple[int, str, int]:
    """A submitted order of the dealer's retailer asking 10 of a product the dealer's warehouse
    holds 6 of; returns (order id, number, the short line's id), committed."""
    dealer_user = db.session.scalar(select(User).where(User.username == DEALER))
    dealer = db.session.get(Organisation, dealer_user.org_id)
    retailer = db.session.scalar(select(Organisation).where(Organisation.kind == "retailer",
                                                            Organisation.dealer_id == dealer.id).limit(1))
    warehouse = default_warehouse(dealer.id) or builders_stock.warehouse(dealer, SimpleNamespace(id=retailer.region_id), is_default=True)
    product = factories.product(name_zh="缺货测试可乐")
    builders_stock.stock(warehouse, product, 6)
    order = builders_ordering.order(retailer, dealer, [(product, 10)])
    db.session.commit()
    return order.id, order.number, order.lines[0].id


def _status(order_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Order, order_id).status


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
def test_approve_what_is_available_and_backorder_the_rest(new_context, live_server, demo, javascript):
    order_id, number, line_id = _short_order()
    page = new_context(java_script_enabled=javascript).new_page()
    log_in(page, live_server, DEALER, home="/dealer/")
    page.goto(live_server(f"/dealer/orders/{order_id}"))

    row = page.locator(f"#availability-{line_id}")
    expect(row).to_contain_text("缺货测试可乐")
    expect(row).to_contain_text("缺 4")
    expect(page.locator(f"#keep_{line_id}")).to_have_value("6")
    expect(page.locator("#shortage input[name=rest][value=backorder]")).to_be_checked()

    page.locator("#shortage button[type=submit]").click()
    page.wait_for_url(live_server(f"/dealer/orders/{order_id}"))
    expect(page.locator("h1 .status")).to_have_text("已审核")
    backorder = shortage.backorder_for(order_id)
    expect(page.locator("#backorder-link")).to_contain_text(backorder.number)
    assert _status(order_id) == "approved" and _status(backorder.id) == "on_hold"

    page.locator("#backorder-link a").click()
    page.wait_for_url(live_server(f"/dealer/orders/{backorder.id}"))
    expect(page.locator("#backorder-link")).to_contain_text("查看原订单")
