"""Phones and tablets in Debian Chromium. The admin's and the dealer's menus: on a 360 px phone (JavaScript off) the page's
heading comes right under a one-row header, the links sit behind a 菜单 summary that opens on a tap and
leads to the page; from a tablet's width up the links are one plain row without a summary. The retailer's
statement fits 360 px."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.xdist_group("serial")  # a live server and a browser: one test at a time

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize(("user", "home", "target"), [("admin", "/admin/", "/admin/products"),
                                                      ("dealer001", "/dealer/", "/dealer/stock/")])
def test_phone_menu_is_one_row_until_tapped(new_context, live_server, demo, user, home, target):
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    log_in(page, live_server, user, home)
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 60, header  # one row: brand, 菜单, notifications, user menu
    assert page.locator("main h1").first.bounding_box()["y"] < 120
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    link = page.locator(f"details.navmenu a[href$='{target}']")
    expect(link).to_be_hidden()
    expect(page.locator("header.top a[href*='/notifications']")).to_be_visible()  # unread count stays in sight
    page.locator("details.navmenu > summary", has_text="菜单").tap()
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    link.tap()
    page.wait_for_url(live_server(target))


@pytest.mark.parametrize("width", [800, 1280])
def test_wide_screens_show_the_links_without_a_summary(new_context, live_server, demo, width):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, live_server, "admin", "/admin/")
    expect(page.locator("details.navmenu > summary")).to_be_hidden()
    expect(page.locator("details.navmenu a[href$='/admin/products']")).to_be_visible()
    page.click("details.navmenu a[href$='/admin/stock/']")
    page.wait_for_url(live_server("/admin/stock/"))


def test_retailer_statement_fits_a_phone_without_javascript(new_context, live_server, demo):
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    log_in(page, live_server, "retailer000001")
    page.goto(live_server("/retailer/statement"))
    expect(page.get_by_label("开始日期")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the period form wraps (was 459 px)
    query = page.locator("#statement form button[type=submit]")
    assert query.bounding_box()["x"] + query.bounding_box()["width"] <= 360
    query.click()
    expect(page.locator("article.statement h1")).to_have_text("对账单")


TAP_CHECK = """() => [...document.querySelectorAll('header a, header summary, main a, main button, main summary, main select')]
    .filter(e => e.offsetParent && !e.closest('svg'))
    .map(e => [(e.innerText || '').trim().slice(0, 20), Math.round(e.getBoundingClientRect().height)])
    .filter(([text, height]) => height < 44)"""


def test_rep_tablet_links_are_big_enough_to_tap(new_context, live_server, demo):
    page = new_context(viewport={"width": 800, "height": 1000}, has_touch=True).new_page()
    log_in(page, live_server, "rep01", "/rep/")
    card = page.locator("a.stop-main").first.get_attribute("href")
    for path in ("/rep/", "/rep/orders", card, card.rstrip("/") + "/order"):
        page.goto(live_server(path))
        assert page.evaluate(TAP_CHECK) == [], path  # shop names, order numbers, phone, print links were 16-26 px
    page.locator("header details.menu > summary").click()
    for item in (page.get_by_role("link", name="修改密码"), page.get_by_role("button", name="退出登录")):
        assert item.bounding_box()["height"] >= 44


@pytest.mark.parametrize(("user", "home", "paths"), [
    ("dealer001", "/dealer/", ["/dealer/credit/", "/dealer/credit/receivables"]),
    ("admin", "/admin/", ["/admin/reps/targets", "/admin/credit/"]),
])
def test_credit_and_target_pages_fit_a_phone(new_context, live_server, demo, user, home, paths):
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    log_in(page, live_server, user, home)
    for path in paths:
        page.goto(live_server(path))
        links = page.locator("main a[href*='/credit/customers/']")
        if links.count():
            paths.append(links.first.get_attribute("href"))  # a customer's page: credit notes, prepayment entries
            break
    for path in paths:
        page.goto(live_server(path))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path


@pytest.mark.parametrize("width", [360, 1280])
def test_api_reference_fits_the_screen(new_context, live_server, width):
    page = new_context(viewport={"width": width, "height": 800}, java_script_enabled=False).new_page()
    page.goto(live_server("/api/v1/docs"))
    assert page.locator("main").count() == 1  # the page's own <main> sat inside the layout's
    expect(page.locator("h3 code").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # was 1,586 px at 1280, 598 at 360


def test_phone_header_is_one_row_in_english_too(new_context, live_server, demo):
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    log_in(page, live_server, "dealer001", "/dealer/")
    page.locator("header details.menu > summary").tap()
    page.locator("header details.menu button[name=locale][value=en]").tap()
    expect(page.locator("details.navmenu > summary")).to_have_text("Menu")
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 60, header  # brand, Menu, Notifications and the user's name (was two rows)


@pytest.mark.parametrize("script", [False, True])
def test_print_links_show_only_where_they_can_print(new_context, live_server, demo, script):
    """打印 is window.print() from static/app.js: with JavaScript off it would do nothing, so it is hidden."""
    page = new_context(java_script_enabled=script, viewport={"width": 1024, "height": 768}).new_page()
    log_in(page, live_server, "rep01", "/rep/")
    page.goto(live_server("/rep/reports/customers"))
    link = page.locator("main [data-print]").first
    if script:
        expect(link).to_be_visible()
    else:
        expect(link).to_be_hidden()
