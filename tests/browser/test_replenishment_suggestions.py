"""The dealer adds all its reorder suggestions to the replenishment cart in a real browser (Debian
Chromium, htmx on): the cart and the cart count in the sub-navigation update in place, without a
reload."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from app.extensions import db
from app.models import CartLine, ReorderRule, User, Warehouse
from app.services.catalog import storefront
from app.services.ordering import replenishment
from tests.browser.conftest import log_in

pytestmark = pytest.mark.xdist_group("serial")  # a live server and a browser: one test at a time

DEALER = "dealer001"


def test_adding_all_suggestions_updates_the_cart_count_in_place(new_context, live_server, demo):
    user = db.session.scalar(select(User).where(User.username == DEALER))
    db.session.execute(delete(CartLine).where(CartLine.owner_id == user.id))
    warehouse = db.session.scalars(select(Warehouse).where(Warehouse.owner_id == user.org_id)).first()
    listing = storefront.browse_catalog(user, user.org, per_page=3)
    for product in listing.page.items[:2]:
        db.session.merge(ReorderRule(warehouse_id=warehouse.id, product_id=product.id, safety_stock=0,
                                     reorder_point=5_000))
    db.session.commit()
    wanted = len(replenishment.reorder_suggestions(user, user.org))
    assert wanted >= 2

    page = new_context().new_page()
    log_in(page, live_server, DEALER, home="/dealer/")
    page.goto(live_server("/dealer/replenishment/cart"))
    expect(page.locator("#repl-cart-link")).to_have_text("补货购物车（0）")
    page.evaluate("document.body.dataset.marker = 'kept'")  # a reload would drop it
    with page.expect_response(lambda r: "/replenishment/cart/suggestions" in r.url):
        page.locator("button", has_text="全部加入购物车").click()
    expect(page.locator("#repl-cart")).to_contain_text(re.compile(r"已按补货建议加入 \d+ 种商品"))
    expect(page.locator("#repl-cart-link")).to_have_text(f"补货购物车（{wanted}）")
    assert page.evaluate("document.body.dataset.marker") == "kept"
