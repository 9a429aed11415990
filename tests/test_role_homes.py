"""Role homes show the day's work: each count links to the list it came from, and agrees with it."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import CartLine, ReorderRule
from app.services.analytics import facts
from app.services.core.clock import LOCAL, today_local
from tests import builders_credit, builders_stock, factories
from tests.builders_ordering import count_queries, order


def _tile(html: str, href: str) -> str:
    """The count shown on the tile that links to `href`."""
    found = re.search(r'<a href="' + re.escape(href) + r'"><b class="num">([^<]*)</b>', html)
    assert found, f"no tile links to {href}"
    return found.group(1)


def _dealer_day(world):
    cola, water = factories.product(), factories.product()
    dealer, retailer = world.orgs["dealer"], world.orgs["retailer"]
    for status in ("submitted", "submitted", "on_hold", "approved", "shipped", "completed"):
        order(retailer, dealer, [(cola, 2)], status=status)
    order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(cola, 1)], status="submitted")  # another dealer's
    builders_credit.invoice(retailer, dealer, 50_000, paid_fen=10_000, order_status="completed")
    builders_credit.invoice(dealer, world.brand, 120_000, order_status="completed")
    wh = builders_stock.warehouse(dealer, world.regions["hz"], is_default=True)
    builders_stock.stock(wh, cola, 5)
    builders_stock.stock(wh, water, 50, expires_in_days=10)
    db.session.add(ReorderRule(warehouse_id=wh.id, product_id=cola.id, reorder_point=20))
    db.session.commit()
    return cola


def test_dealer_home_counts_link_to_lists_that_agree(world, login_as):
    _dealer_day(world)
    client = login_as("dealer")
    html = client.get("/dealer/").get_data(as_text=True)
    assert _tile(html, "/dealer/orders?status=submitted") == "2"
    assert _tile(html, "/dealer/orders?status=on_hold") == "1"
    assert _tile(html, "/dealer/orders?status=approved") == "1"
    assert _tile(html, "/dealer/orders?status=shipped") == "1"
    assert _tile(html, "/dealer/stock/low") == "1"
    assert _tile(html, "/dealer/stock/expiring") == "1"
    assert _tile(html, "/dealer/credit/receivables") == "¥400.00"
    assert _tile(html, "/dealer/credit/") == "¥1,200.00"
    # The list the tile links to shows as many orders as the tile says.
    listing = client.get("/dealer/orders?status=submitted").get_data(as_text=True)
    assert len(set(re.findall(r"SO\d{6}\d{7}", listing))) == 2
    low = client.get("/dealer/stock/low").get_data(as_text=True)
    assert "¥" not in _tile(html, "/dealer/stock/low") and low.count("<tr") - 1 == 1


def test_dealer_home_costs_the_same_queries_whatever_the_volume(world, login_as):
    cola = _dealer_day(world)
    client = login_as("dealer")
    client.get("/dealer/")
    with count_queries() as few:
        assert client.get("/dealer/").status_code == 200
    for _ in range(15):
        order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 1)], status="shipped")
    db.session.commit()
    with count_queries() as many:
        html = client.get("/dealer/").get_data(as_text=True)
    assert _tile(html, "/dealer/orders?status=shipped") == "16"
    assert len(many) == len(few) <= 16


def test_brand_overview_today_permissions_and_trend(world, login_as):
    cola = factories.product()
    order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 3)], status="submitted")
    order(world.orgs["dealer"], world.brand, [(cola, 10)], status="submitted")
    old = order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 7)], status="completed", days_ago=9)
    for owner in (world.brand, world.orgs["dealer"]):  # low in the brand's warehouse and in a dealer's
        wh = builders_stock.warehouse(owner, world.regions["hz"])
        builders_stock.stock(wh, cola, 5)
        db.session.add(ReorderRule(warehouse_id=wh.id, product_id=cola.id, reorder_point=20))
    db.session.commit()
    html = login_as("admin").get("/admin/").get_data(as_text=True)
    assert _tile(html, "/admin/stock/low?owner=brand") == "1"
    low = login_as("admin").get("/admin/stock/low?owner=brand").get_data(as_text=True)
    assert low.count(cola.code) == 1
    assert re.search(r"全渠道今日订单</dt><dd class=\"num\">2<", html)
    assert f"¥{cola.base_price_fen * 13 / 100:,.2f}" in html
    assert _tile(html, "/admin/orders?status=submitted") == "1"
    assert "还没有销售数据" in html
    day = old.created_at.astimezone(LOCAL).date()
    facts.rebuild_range(day, today_local())
    db.session.commit()
    html = login_as("admin").get("/admin/").get_data(as_text=True)
    assert "<svg" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "/static/charts." in html
    # Net sales of the last weeks: retailer orders only (the facts' definition), as on the sales report.
    assert f"合计 ¥{cola.base_price_fen * 10 / 100:,.2f}" in html
    # An admin with no permissions sees neither the orders, the stock nor the sales.
    bare = login_as("admin_b").get("/admin/").get_data(as_text=True)
    assert "/admin/orders?status=" not in bare and "/admin/stock/low" not in bare and "<svg" not in bare


def test_retailer_home_last_order_reorders_in_one_tap_and_shows_new_products(world, login_as):
    cola = factories.product(name_zh="新口味可乐", launch_date=today_local() - timedelta(days=10))
    old = factories.product(name_zh="老牌矿泉水", launch_date=today_local() - timedelta(days=200))
    order(world.orgs["retailer"], world.orgs["dealer"], [(old, 4)], status="completed", days_ago=3)
    last = order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 6)], status="shipped", days_ago=1)
    db.session.commit()
    client = login_as("retailer")
    html = client.get("/retailer/").get_data(as_text=True)
    section = html.split("最近一单", 1)[1].split("</section>", 1)[0]
    assert last.number in section and "已发货" in section
    assert "新口味可乐" in html.split("新品", 1)[1] and "老牌矿泉水" not in html.split("新品", 1)[1].split("更早的订单")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', section).group(1)
    answer = client.post(action, data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/retailer/cart")
    items = db.session.scalars(select(CartLine).where(CartLine.product_id == cola.id)).all()
    assert [i.qty for i in items] == [6]
    # Another shop's last order is not on this home.
    assert last.number not in login_as("retailer_b").get("/retailer/").get_data(as_text=True)


def test_chart_styles_come_from_the_static_stylesheet_kept_equal_to_pygal():
    import pathlib

    from app.services.analytics.charts import column_chart, stylesheet

    static = pathlib.Path(__file__).resolve().parent.parent / "static" / "charts.css"
    assert static.read_text(encoding="utf-8") == stylesheet(), "regenerate static/charts.css from charts.stylesheet()"
    svg = column_chart(["01-05", "01-12"], "净销售额", [1.0, 2.0])
    assert "<style" not in svg and "<script" not in svg and "color-0" in svg
