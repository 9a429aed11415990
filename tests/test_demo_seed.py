"""The demo data (seed-demo): built once for this module at the hidden "tiny" scale, which runs
the same code as small and full with fewer dealers, retailers and orders."""
import hashlib
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.demo import builder
from app.demo.data_catalog import CATEGORIES
from app.demo.prices import DRINKS
from app.demo.seasonality import cny_dates_between
from app.extensions import db as _db
from app.models import (Category, ContractPrice, DealerTerritory, Order, OrderEvent, OrderLine, Organisation,
                        PriceList, Product, ProductVisibility, Region, RepRoute, User)
from app.services.ordering import routing
from app.services.ordering.cart import tax_included
from app.services.catalog.gtin import is_valid_gtin
from app.services.pricing.prices import quote_prices, region_profile
from app.services.core.clock import LOCAL
from app.services.catalog.visibility import visible_products
from tests.demo_build import demo_fixtures

pytestmark = pytest.mark.xdist_group("demo-seed")  # one worker builds the demo data once

HOMES = {"admin": "/admin/", "dealer001": "/dealer/", "retailer000001": "/retailer/", "rep01": "/rep/"}


built, db = demo_fixtures("tiny")


def org(code: str) -> Organisation:
    return _db.session.scalar(select(Organisation).where(Organisation.code == code))


def retailer_orders():
    """The history's cart orders (campaign steps add presale and group-buy orders of their own)."""
    return select(Order).join(Organisation, Organisation.id == Order.buyer_id).where(
        Organisation.kind == "retailer", Order.kind == "standard")


@pytest.mark.parametrize("username", list(HOMES))
def test_demo_logins_land_on_their_homes(app, client, username):
    response = client.login(username, app.config["DEMO_PASSWORD"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith(HOMES[username])
    assert client.get(HOMES[username]).status_code == 200


def test_wrong_password_is_refused(client):
    response = client.login("dealer001", "not-the-demo-password")
    assert response.status_code == 401
    response = client.get("/dealer/")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_every_user_shares_one_password_hash():
    assert _db.session.scalar(select(func.count(func.distinct(User.password_hash)))) == 1
    admin = _db.session.scalar(select(User).where(User.username == "admin"))
    assert admin.permission_set == {"catalog", "pricing", "orders", "stock", "marketing", "reports", "users"}
    catalog01 = _db.session.scalar(select(User).where(User.username == "catalog01"))
    assert catalog01.permission_set == {"catalog", "pricing"}
    assert _db.session.scalar(select(User).where(User.username == "analyst01")).permission_set == {"reports"}


def test_retailer000001_is_served_by_dealer001():
    user = _db.session.scalar(select(User).where(User.username == "retailer000001"))
    assert user.org.code == "R000001"
    assert user.org.dealer.code == "D001"
    assert _db.session.scalar(select(User).where(User.username == "dealer001")).org.code == "D001"
    assert routing.seller_for(user.org).code == "D001"


def test_every_retailer_is_served_by_the_dealer_covering_its_city():
    paths = dict(_db.session.execute(select(Region.id, Region.path)).all())
    territories = defaultdict(set)
    for dealer_id, region_id in _db.session.execute(select(DealerTerritory.dealer_id, DealerTerritory.region_id)):
        territories[dealer_id].add(region_id)
    retailers = _db.session.scalars(select(Organisation).where(Organisation.kind == "retailer")).all()
    assert len(retailers) == builder.SCALES["tiny"].retailers
    brand_served = [r for r in retailers if r.dealer_id is None]
    assert len(brand_served) == builder.SCALES["tiny"].uncovered_retailers
    for retailer in retailers:
        ancestors = {int(x) for x in paths[retailer.region_id].strip("/").split("/")}
        covering = {d for d, regions in territories.items() if regions & ancestors}
        assert covering == ({retailer.dealer_id} if retailer.dealer_id else set()), retailer.code
    # Each territory unit has one dealer.
    assert _db.session.execute(select(DealerTerritory.region_id).group_by(DealerTerritory.region_id)
                               .having(func.count() > 1)).all() == []
    for retailer in random.Random(1).sample(retailers, 25):
        expected = retailer.dealer_id or _db.session.scalar(select(Organisation.id).where(Organisation.code == "BRAND"))
        assert routing.seller_for(retailer).id == expected


def test_real_geography_and_catalog():
    assert _db.session.scalar(select(func.count()).where(Region.level == 1)) == 31
    assert _db.session.scalar(select(func.count()).where(Region.level == 2)) >= 300
    for name in ("浙江省", "杭州市", "海淀区", "延边朝鲜族自治州", "阿里地区"):
        assert _db.session.scalar(select(Region.id).where(Region.name == name)), name
    hangzhou = _db.session.scalar(select(Region).where(Region.name == "杭州市"))
    assert hangzhou.path == f"/{hangzhou.parent_id}/{hangzhou.id}/"

    products = _db.session.scalars(select(Product)).all()
    assert len(products) >= 200
    assert {c.code for c in _db.session.scalars(select(Category))} == {c[0] for c in CATEGORIES}
    assert all(is_valid_gtin(p.gtin) and p.gtin.startswith("69") and len(p.gtin) == 13 for p in products)
    assert len({p.gtin for p in products}) == len(products)
    assert {p.status for p in products} == {"active", "draft", "discontinued"}
    assert {p.tax_rate for p in products} == {9, 13}
    ice_tea = next(p for p in products if p.name_zh == "冰红茶 500ml×15")
    assert (ice_tea.pinyin, ice_tea.unit, ice_tea.pack_size, ice_tea.spec) == ("bhc", "箱", 15, "500ml×15")
    water = next(p for p in products if p.name_zh.startswith("饮用纯净水"))
    assert water.shelf_life_days == 730


def test_catering_packs_and_regional_beer_are_visible_only_where_meant():
    catering_pack = _db.session.scalar(select(Product).where(Product.name_zh == "冰爽啤酒 600ml×12 餐饮装"))
    regional_beer = _db.session.scalar(select(Product).where(Product.name_zh.like("关东老啤%")))
    assert _db.session.scalar(select(func.count()).where(ProductVisibility.product_id == catering_pack.id)) == 2
    shops = _db.session.scalars(select(Organisation).where(Organisation.kind == "retailer")).all()
    catering = next(r for r in shops if r.channel == "catering")
    kiosk = next(r for r in shops if r.channel == "kiosk")

    def sees(customer, product):
        query = visible_products(region_profile(customer)).where(Product.id == product.id)
        return _db.session.scalar(query) is not None

    assert sees(catering, catering_pack) and not sees(kiosk, catering_pack)
    northeast = {r.id for r in _db.session.scalars(select(Region).where(Region.name.in_(("辽宁省", "吉林省",
                                                                                         "黑龙江省"))))}
    for shop in shops[:60]:
        in_northeast = bool(northeast & set(region_profile(shop).region_ids))
        assert sees(shop, regional_beer) == in_northeast


def test_prices_are_sane_dealer_below_retailer_at_or_below_base():
    dealers = _db.session.scalars(select(Organisation).where(Organisation.kind == "dealer")).all()
    shops = _db.session.scalars(select(Organisation).where(Organisation.kind == "retailer")).all()
    contract_holders = set(_db.session.scalars(select(ContractPrice.customer_id).distinct()))
    sample_shops = [next(s for s in shops if s.channel == c) for c in ("kiosk", "convenience", "supermarket",
                                                                         "catering")]
    sample_shops += [s for s in shops if s.id in contract_holders][:4]
    sample_dealers = [next(d for d in dealers if d.tier == t) for t in ("A", "B", "C")]
    sample_dealers += [d for d in dealers if d.id in contract_holders][:2]
    assert len(sample_shops) == 8 and len(sample_dealers) == 5
    products = {p.id: p for p in _db.session.scalars(select(Product))}
    history_day = date.today() - timedelta(days=400)
    for on in (None, history_day):
        highest_dealer, lowest_retail = defaultdict(int), defaultdict(lambda: 10**12)
        for qty in (1, 10, 50, 200):
            for dealer in sample_dealers:
                for pid, price in quote_prices(region_profile(dealer), dict.fromkeys(products, qty), on).items():
                    highest_dealer[pid] = max(highest_dealer[pid], price.unit_price_fen)
            for shop in sample_shops:
                for pid, price in quote_prices(region_profile(shop), dict.fromkeys(products, qty), on).items():
                    lowest_retail[pid] = min(lowest_retail[pid], price.unit_price_fen)
                    assert price.unit_price_fen <= products[pid].base_price_fen
        for pid, product in products.items():
            assert highest_dealer[pid] < lowest_retail[pid] <= product.base_price_fen, product.name_zh
    kinds = {pl.audience for pl in _db.session.scalars(select(PriceList))}
    assert kinds == {"dealer", "retailer"}
    assert _db.session.scalar(select(func.count()).where(PriceList.region_id.is_not(None))) >= 4


def test_order_lines_carry_the_price_the_pricing_service_gives():
    lines = _db.session.execute(  # gift lines (买赠) are priced 0
        select(OrderLine, Order.buyer_id, Order.created_at).join(Order).where(OrderLine.is_gift.is_(False))
        .order_by(OrderLine.id)).all()
    sample = random.Random(7).sample(lines, 150)
    buyers = {o.id: o for o in _db.session.scalars(select(Organisation).where(
        Organisation.id.in_({buyer_id for _line, buyer_id, _at in sample})))}
    with force_locale("zh"):
        for line, buyer_id, created_at in sample:
            on = created_at.astimezone(LOCAL).date()
            price = quote_prices(region_profile(buyers[buyer_id]), {line.product_id: line.qty}, on)[line.product_id]
            assert (line.unit_price_fen, line.price_basis) == (price.unit_price_fen, price.reason)


def test_order_totals_equal_the_sum_of_their_lines():
    sums = select(OrderLine.order_id, func.sum(OrderLine.line_total_fen).label("total"),
                  func.sum(OrderLine.tax_fen).label("tax"), func.count().label("lines")) \
        .group_by(OrderLine.order_id).subquery()
    mismatched = _db.session.execute(
        select(Order.id).outerjoin(sums, sums.c.order_id == Order.id)
        .where((sums.c.total.is_(None)) | (Order.total_fen != sums.c.total) | (Order.tax_fen != sums.c.tax)
               | (Order.line_count != sums.c.lines))).all()
    assert mismatched == []
    for line in _db.session.scalars(select(OrderLine).limit(2000)):
        assert line.line_total_fen == line.unit_price_fen * line.qty - line.discount_fen  # after promotions
        assert line.tax_fen == tax_included(line.line_total_fen, line.tax_rate)
    # One event per order, for its final state.
    events = dict(_db.session.execute(select(OrderEvent.order_id, OrderEvent.to_status)).all())
    statuses = dict(_db.session.execute(select(Order.id, Order.status)).all())
    assert events == statuses


def test_orders_span_two_years_with_settled_history_and_recent_orders_in_flight(built):
    orders = _db.session.execute(select(Order.id, Order.created_at, Order.status, Order.number, Order.seller_id,
                                        Order.buyer_id).where(Order.kind == "standard")).all()
    local_days = [o.created_at.astimezone(LOCAL).date() for o in orders]
    assert min(local_days) >= built.history_start and max(local_days) == built.history_end
    old = [o.status for o, day in zip(orders, local_days) if (built.today - day).days > 10]
    assert {"completed", "cancelled", "rejected"} == set(old)
    assert old.count("completed") / len(old) > 0.9
    recent = {o.status for o, day in zip(orders, local_days) if (built.today - day).days <= 2}
    assert recent <= {"submitted", "approved", "shipped", "cancelled", "rejected"}
    assert recent & {"submitted", "approved", "shipped"}
    assert all(o.number == f"SO{day:%y%m%d}{o.id:07d}" for o, day in zip(orders, local_days))
    brand = org("BRAND")
    dealer_ids = set(_db.session.scalars(select(Organisation.id).where(Organisation.kind == "dealer")))
    replenishment = [o for o in orders if o.buyer_id in dealer_ids]
    assert replenishment and all(o.seller_id == brand.id for o in replenishment)
    assert _db.session.scalar(select(func.count()).select_from(retailer_orders().subquery())) == \
        builder.SCALES["tiny"].retail_orders


def test_weekly_order_counts_peak_before_new_year_and_in_summer(built):
    per_day = defaultdict(int)
    for (created_at,) in _db.session.execute(select(Order.created_at).join(
            Organisation, Organisation.id == Order.buyer_id).where(Organisation.kind == "retailer")):
        per_day[created_at.astimezone(LOCAL).date()] += 1

    def daily_average(first: date, last: date) -> float:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        days = [d for d in days if built.history_start <= d <= built.history_end]
        return sum(per_day[d] for d in days) / len(days)

    new_years = cny_dates_between(built.history_start + timedelta(days=40), built.history_end)
    assert new_years
    for cny in new_years:
        rush = daily_average(cny - timedelta(days=24), cny - timedelta(days=4))
        before = daily_average(cny - timedelta(days=80), cny - timedelta(days=45))
        holiday = daily_average(cny, cny + timedelta(days=6))
        assert rush > 1.3 * before and holiday < 0.7 * before
    summers = [y for y in range(built.history_start.year, built.history_end.year + 1)
               if date(y, 4, 1) >= built.history_start and date(y, 8, 15) <= built.history_end]
    assert summers
    for year in summers:
        assert daily_average(date(year, 7, 1), date(year, 8, 15)) > 1.3 * daily_average(date(year, 4, 1),
                                                                                      date(year, 5, 15))


def test_drinks_are_more_seasonal_than_noodles(built):
    year = next(y for y in range(built.history_start.year, built.history_end.year + 1)
                if date(y, 4, 1) >= built.history_start and date(y, 8, 1) <= built.history_end)
    rows = _db.session.execute(
        select(Category.code, Order.created_at, OrderLine.qty).select_from(OrderLine).join(Order)
        .join(Product, Product.id == OrderLine.product_id).join(Category, Category.id == Product.category_id)
        .join(Organisation, Organisation.id == Order.buyer_id).where(Organisation.kind == "retailer")).all()
    cases = defaultdict(int)
    for code, created_at, qty in rows:
        month = created_at.astimezone(LOCAL).date()
        if month.year == year and month.month in (4, 7):
            cases[("drinks" if code in DRINKS else code, month.month)] += qty
    drinks_rise = cases[("drinks", 7)] / cases[("drinks", 4)]
    noodles_rise = cases[("NOODLE", 7)] / cases[("NOODLE", 4)]
    assert drinks_rise > 1.3 and drinks_rise > noodles_rise + 0.3


def test_reps_have_routes_over_six_weekdays_one_city_a_day():
    rep01 = _db.session.scalar(select(User).where(User.username == "rep01"))
    routes = _db.session.scalars(select(RepRoute).where(RepRoute.rep_id == rep01.id)).all()
    assert {r.weekday for r in routes} == set(range(6))
    assert org("R000001").id in {r.retailer_id for r in routes}
    cities = defaultdict(set)
    for rep_id, weekday, path in _db.session.execute(
            select(RepRoute.rep_id, RepRoute.weekday, Region.path).join(Organisation, Organisation.id == RepRoute.retailer_id)
            .join(Region, Region.id == Organisation.region_id)):
        cities[(rep_id, weekday)].add(path.split("/")[2])  # /province/city/[district/]
    assert cities and all(len(city) == 1 for city in cities.values())
    assert _db.session.scalar(select(func.count(func.distinct(RepRoute.retailer_id)))) == \
        _db.session.scalar(select(func.count()).select_from(RepRoute))


def test_seed_demo_if_empty_does_nothing_and_plain_seed_refuses(app):
    before = _db.session.scalar(select(func.count()).select_from(Order))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "nothing to do" in result.output
    result = runner.invoke(args=["seed-demo", "--scale", "small"])
    assert result.exit_code != 0 and "--replace" in result.output
    _db.session.remove()
    assert _db.session.scalar(select(func.count()).select_from(Order)) == before


def test_ids_keep_working_after_the_bulk_load():
    retailer, dealer = org("R000001"), org("D001")
    placed_by = _db.session.scalar(select(User.id).where(User.username == "retailer000001"))
    product = _db.session.scalar(select(Product).where(Product.status == "active").limit(1))
    highest = {model: _db.session.scalar(select(func.max(model.id))) for model in (Order, OrderLine, OrderEvent)}
    order = Order(buyer_id=retailer.id, seller_id=dealer.id, placed_by_id=placed_by, line_count=1,
                  total_fen=product.base_price_fen, tax_fen=tax_included(product.base_price_fen, product.tax_rate))
    order.lines.append(OrderLine(product_id=product.id, qty=1, unit_price_fen=product.base_price_fen,
                                 tax_rate=product.tax_rate, line_total_fen=product.base_price_fen,
                                 tax_fen=order.tax_fen))
    order.events.append(OrderEvent(to_status="submitted"))
    extra_shop = Organisation(kind="retailer", code="R-EXTRA", name="新开小卖部", channel="kiosk")
    _db.session.add_all([order, extra_shop])
    _db.session.flush()
    assert order.id > highest[Order] and order.lines[0].id > highest[OrderLine]
    assert order.events[0].id > highest[OrderEvent]
    assert extra_shop.id > org("R000240").id
    _db.session.rollback()


def test_rebuild_with_replace_gives_the_same_data(app, built):
    def fingerprint() -> str:
        digest = hashlib.sha256()
        for row in _db.session.execute(select(Organisation.code, Organisation.name, Organisation.dealer_id)
                                       .order_by(Organisation.id)):
            digest.update(repr(tuple(row)).encode())
        for row in _db.session.execute(select(Order.number, Order.total_fen, Order.status).order_by(Order.id)):
            digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    first = fingerprint()
    _db.session.remove()
    builder.build("tiny", replace=True, echo=lambda _line: None)
    assert fingerprint() == first
    assert _db.session.scalar(select(func.count()).select_from(Organisation)) == \
        1 + builder.SCALES["tiny"].dealers + builder.SCALES["tiny"].retailers


def test_every_product_has_a_drawn_picture_served_like_an_upload(app, client):
    """The demo's pictures go through the upload service: a re-encoded image and a 112 px WebP
    thumbnail per product, shown lazily with width/height on the retailer's catalog and the admin list."""
    import io

    from PIL import Image

    from app.models import ProductImage

    products = _db.session.scalars(select(Product).order_by(Product.id)).all()
    images = {i.product_id: i for i in _db.session.scalars(select(ProductImage))}
    assert len(products) >= 200 and set(images) == {p.id for p in products}
    assert all(p.image_version == 1 for p in products)
    thumbs = {images[p.id].thumbnail for p in products}
    assert len(thumbs) == len(products)  # distinct: no two products look the same
    assert Image.open(io.BytesIO(images[products[0].id].thumbnail)).size == (112, 112)

    assert client.login("retailer000001", app.config["DEMO_PASSWORD"]).status_code == 303
    page = client.get("/retailer/catalog").get_data(as_text=True)
    assert page.count('<img class="thumb" src="/media/products/') >= 50
    assert 'width="56" height="56" loading="lazy"' in page
    thumb = client.get(f"/media/products/{products[0].id}/1/thumb.webp")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"


def test_turnover_stockout_rates_vary_and_match_a_day_by_day_replay_of_the_ledger():
    """Issue 10: the trial's turnover report showed 38.9 % stock-outs on every product (the days
    before the demo ledger began). Replay the ledger of the brand's main DC day by day."""
    from app.models import StockMovement, Warehouse
    from app.services.core.clock import today_local
    from app.services.inventory.daysql import start_of_local_day
    from app.services.inventory.reports import turnover_report

    wh = _db.session.scalar(select(Warehouse).where(Warehouse.code == "DC-SH"))
    end = today_local() - timedelta(days=1)
    start = end - timedelta(days=89)
    report = turnover_report([wh.id], start, end)
    movements = defaultdict(list)
    for m in _db.session.scalars(select(StockMovement).where(StockMovement.warehouse_id == wh.id)):
        movements[m.product_id].append(m)
    for row in report.rows:
        ledger = movements[row.product.id]
        first = min(m.at for m in ledger)
        zero_days = carried = 0
        for offset in range(90):
            day = start + timedelta(days=offset)
            close = start_of_local_day(day + timedelta(days=1))
            if close <= first:
                continue
            carried += 1
            available = sum(m.on_hand_delta - m.reserved_delta for m in ledger if m.at < close)
            zero_days += available <= 0
        assert (row.days_carried, row.stockout_days) == (carried, zero_days), row.product.code
    rates = {round(r.stockout_rate, 3) for r in report.rows}
    assert len(rates) >= 5 and min(rates) == 0 and max(rates) < 0.5
    assert 0 < report.stockout_rate < 0.15
