"""The retailer's catalog on a 360 px phone in Debian Chromium: compact rows (≤ 96 px, each with
a thumbnail), the header in one row and the tab bar at the bottom, the stock level, and the
+/− stepper with htmx (in place: a marker set on the page survives) and without JavaScript
(plain forms: back to the same row). A screenshot of the phone catalog is written to
$SCREENSHOT_DIR (default: pytest's tmp_path) for people to look at."""
import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import CartLine, Product, User
from tests.browser.conftest import log_in

pytestmark = pytest.mark.xdist_group("serial")  # a live server and a browser: one test at a time

RETAILER = "retailer000001"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ROW_BUDGET_PX = 96


def _cart(product_id: int) -> int | None:
    db.session.remove()
    owner = db.session.scalar(select(User.id).where(User.username == RETAILER))
    return db.session.scalar(select(CartLine.qty).where(CartLine.owner_id == owner, CartLine.product_id == product_id))


def _is_set(response) -> bool:
    return "/retailer/cart/set" in response.url and response.request.headers.get("hx-request") == "true"


def _press_enter_and_wait_for_the_new_row(page, row_id: str, qty) -> None:
    """Send a typed quantity and wait until htmx has swapped the answer in: the old row still shows
    the typed value, so waiting for the value alone could go on with the old row (and type the
    next value into a box about to be replaced)."""
    page.locator(f"#{row_id}").evaluate("row => { row.dataset.old = '1' }")
    with page.expect_response(_is_set):
        qty.press("Enter")
    expect(page.locator(f"#{row_id}[data-old]")).to_have_count(0)


def _phone_catalog(new_context, live_server, js: bool = True):
    page = new_context(java_script_enabled=js, **PHONE).new_page()
    log_in(page, live_server, RETAILER)
    page.goto(live_server("/retailer/catalog"))
    return page


def test_catalog_rows_fit_a_phone(new_context, live_server, demo, tmp_path):
    page = _phone_catalog(new_context, live_server)
    rows = page.locator("#catalog-list li.prod")
    expect(rows).to_have_count(50)
    heights = page.eval_on_selector_all("#catalog-list li.prod", "rows => rows.map(r => r.getBoundingClientRect().height)")
    print(f"\nproduct row height at 360 px: max {max(heights):.1f} px, 50 rows {sum(heights):.0f} px")
    assert max(heights) <= ROW_BUDGET_PX, heights
    assert page.locator("#catalog-list li.prod .thumb").count() == 50  # a picture or a placeholder in every row
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width  # nothing wider than the screen
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 60, header  # one row
    tabs = page.locator("nav.tabbar").bounding_box()
    assert abs(tabs["y"] + tabs["height"] - 740) < 1 and tabs["width"] == 360  # the tab bar sits at the bottom
    levels = set(page.locator("#catalog-list .stock").all_inner_texts())
    assert levels and levels <= {"有货", "紧张", "缺货"}, levels
    expect(page.locator("#cart-bar")).to_be_hidden()  # an empty cart takes no room
    page.screenshot(path=str(os.environ.get("SCREENSHOT_DIR", tmp_path)) + "/retailer-catalog-360.png")


def test_stepper_updates_the_row_and_cart_bar_in_place(new_context, live_server, demo):
    page = _phone_catalog(new_context, live_server)
    page.evaluate("window.__marker = 'same page'")
    row_id = page.locator("#catalog-list li.prod").first.get_attribute("id")
    product = db.session.get(Product, int(row_id[1:]))
    low, step = product.min_order_qty, product.order_multiple
    row = page.locator(f"#{row_id}")

    with page.expect_response(_is_set):
        row.locator("button[name=to]").click()  # + on a product not in the cart: the minimum
    expect(row.locator("input[name=qty]")).to_have_value(str(low))
    expect(page.locator("#cart-bar")).to_contain_text("购物车 1 种")
    expect(page.locator("#cart-badge")).to_have_text("1")
    bar, tabs = page.locator("#cart-bar").bounding_box(), page.locator("nav.tabbar").bounding_box()
    assert abs(bar["y"] + bar["height"] - tabs["y"]) <= 1, (bar, tabs)  # the cart bar sits on the tab bar
    with page.expect_response(_is_set):
        row.locator("button[name=to]", has_text="+").click()
    expect(row.locator("input[name=qty]")).to_have_value(str(low + step))
    height = row.bounding_box()["height"]
    assert height <= ROW_BUDGET_PX, height  # the stepper fits the row
    with page.expect_response(_is_set):
        row.locator("button[name=to]", has_text="−").click()
    expect(row.locator("input[name=qty]")).to_have_value(str(low))
    assert _cart(product.id) == low

    qty = row.locator("input[name=qty]")  # a typed quantity, sent with Enter
    qty.fill(str(low + 3 * step))
    _press_enter_and_wait_for_the_new_row(page, row_id, qty)
    expect(row.locator("input[name=qty]")).to_have_value(str(low + 3 * step))
    assert _cart(product.id) == low + 3 * step

    qty.fill("0")
    _press_enter_and_wait_for_the_new_row(page, row_id, qty)
    expect(row.locator("input[name=qty]")).to_have_count(0)  # only + is left
    expect(page.locator("#cart-bar")).to_be_hidden()
    expect(page.locator("#cart-badge")).to_be_hidden()
    assert _cart(product.id) is None
    assert page.evaluate("window.__marker") == "same page"


def test_stepper_without_javascript(new_context, live_server, demo):
    page = _phone_catalog(new_context, live_server, js=False)
    row_id = page.locator("#catalog-list li.prod").nth(1).get_attribute("id")
    product = db.session.get(Product, int(row_id[1:]))
    low, step = product.min_order_qty, product.order_multiple
    row = page.locator(f"#{row_id}")

    for button, expected in (("+", low), ("+", low + step), ("−", low)):
        with page.expect_navigation():
            row.locator("button[name=to]", has_text=button).click()
        # The tap lands on a small page holding the row (its stepper keeps working) and the cart bar.
        assert f"/retailer/cart/added?product={product.id}" in page.url, page.url
        expect(page.locator(".flashes")).to_contain_text(f"购物车中 {expected}")
        expect(row.locator("input[name=qty]")).to_have_value(str(expected))
        expect(page.locator("#cart-bar")).to_contain_text("购物车 1 种")
    assert _cart(product.id) == low

    row.locator("input[name=qty]").fill(str(low + 2 * step))
    with page.expect_navigation():
        row.locator("input[name=qty]").press("Enter")
    expect(row.locator("input[name=qty]")).to_have_value(str(low + 2 * step))
    with page.expect_navigation():
        page.locator("#cart-bar a", has_text="去结算").click()
    expect(page.locator("#cart li.line")).to_have_count(1)
