"""Customer health: each shop measured against its own ordering rhythm; dealers and reps see only
their own shops."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from app.extensions import db
from app.services.analytics import facts
from app.services.analytics.customers import shop_health
from app.services.core.clock import LOCAL, today_local
from tests import factories
from tests.builders_ordering import order


def _orders_every(shop, seller, product, gap_days, count, last_days_ago, status="completed"):
    return [order(shop, seller, [(product, 2)], status=status, days_ago=last_days_ago + i * gap_days)
            for i in range(count)]


def _shops(world):
    cola = factories.product()
    dealer = world.orgs["dealer"]
    steady = world.orgs["retailer"]  # every 5 days, last 3 days ago: active
    slipping = factories.org("retailer", "拱墅便利店", region_id=world.regions["hz"].id, channel="convenience",
                             dealer_id=dealer.id)  # every 5 days, but quiet for 20: at risk
    monthly = factories.org("retailer", "余杭超市", region_id=world.regions["hz"].id, channel="supermarket",
                            dealer_id=dealer.id)  # every 30 days, quiet for 40: not yet at risk (< 2 x 30)
    fresh = factories.org("retailer", "滨江新店", region_id=world.regions["hz"].id, channel="kiosk", dealer_id=dealer.id)
    quiet = factories.org("retailer", "萧山老店", region_id=world.regions["hz"].id, channel="kiosk", dealer_id=dealer.id)
    made = (_orders_every(steady, dealer, cola, 5, 30, 3) + _orders_every(slipping, dealer, cola, 5, 30, 20)
            + _orders_every(monthly, dealer, cola, 30, 6, 40) + _orders_every(fresh, dealer, cola, 10, 2, 5)
            + _orders_every(quiet, dealer, cola, 7, 4, 200)
            + [order(slipping, dealer, [(cola, 9)], status="cancelled", days_ago=2)])  # a cancelled order is no order
    days = [m.created_at.astimezone(LOCAL).date() for m in made]
    facts.rebuild_range(min(days), today_local())
    db.session.commit()
    return cola, {"steady": steady, "slipping": slipping, "monthly": monthly, "fresh": fresh, "quiet": quiet}


def test_each_shop_is_judged_by_its_own_rhythm(world):
    cola, shops = _shops(world)
    health = {h.shop.id: h for h in shop_health(list(shops.values()))}
    assert health[shops["steady"].id].segment == "active"
    slipping = health[shops["slipping"].id]
    assert (slipping.segment, slipping.median_gap, slipping.days_since) == ("at_risk", 5.0, 20)
    assert health[shops["monthly"].id].segment == "active" and health[shops["monthly"].id].median_gap == 30.0
    assert health[shops["fresh"].id].segment == "new"
    assert health[shops["quiet"].id].segment == "inactive"
    assert health[shops["steady"].id].value_fen == cola.base_price_fen * 2 * 30
    assert health[shops["slipping"].id].order_days == 30
    assert [h.segment for h in shop_health(list(shops.values()))][0] == "at_risk"


def test_dealer_page_export_and_scope(world, login_as):
    _cola, shops = _shops(world)
    client = login_as("dealer")
    page = client.get("/dealer/reports/customers?segment=at_risk").get_data(as_text=True)
    table = page.split('id="shops"', 1)[1]
    assert "拱墅便利店" in table and "余杭超市" not in table
    assert re.search(r'<a href="/dealer/reports/customers\?segment=at_risk"><b class="num">1</b>', page)
    export = client.get("/dealer/reports/customers/export.xlsx?segment=at_risk")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["拱墅便利店"] and rows[1][5] == 5 and rows[1][6] == 20
    other = login_as("dealer_b").get("/dealer/reports/customers").get_data(as_text=True)
    assert "拱墅便利店" not in other and "西湖小卖部" not in other
    assert client.get("/dealer/reports/customers?segment=bogus").status_code == 200


def test_rep_home_and_page_show_only_the_routes_shops_at_risk(world, login_as):
    from app.models import RepRoute

    _cola, shops = _shops(world)
    db.session.add(RepRoute(rep_id=world.users["rep"].id, retailer_id=shops["slipping"].id, weekday=2))
    db.session.commit()
    home = login_as("rep").get("/rep/").get_data(as_text=True)
    section = home.split('id="at-risk"', 1)[1].split("</section>", 1)[0]
    assert "拱墅便利店" in section and f"/rep/retailers/{shops['slipping'].id}/order" in section
    listing = login_as("rep").get("/rep/reports/customers").get_data(as_text=True)
    assert "拱墅便利店" in listing and "西湖小卖部" in listing and "余杭超市" not in listing
    assert "拱墅便利店" not in login_as("rep_b").get("/rep/reports/customers").get_data(as_text=True)
    assert "id=\"at-risk\"" not in login_as("rep_b").get("/rep/").get_data(as_text=True)
