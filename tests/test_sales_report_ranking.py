"""The report page ranks in SQL: its rows, top rows, movers, totals and page count equal the
whole report ranked in Python, in every scope and dimension, and its statements do not grow with
the number of rows."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Organisation, RepRoute
from app.models.analytics import SalesShopTotal
from app.services.analytics import facts, shop_totals
from app.services.analytics.sales import DIMENSIONS, PAGE_SIZE, sales_report, sales_report_page
from app.services.core.clock import LOCAL, today_local
from tests import factories
from tests.builders_analytics import fulfil_some
from tests.builders_ordering import count_queries, order

SHOPS = 2 * PAGE_SIZE + 7  # three pages of shops


def _market(world, shops: int = SHOPS, seed: int = 29):
    """`shops` shops of both dealers, most on one of three reps' routes (some on two, some on
    none), buying in this period, the one before and a year before; some buy exactly alike (ties),
    some only cancel (rows of zeros)."""
    rng = random.Random(seed)
    cola, water, tea = factories.product(), factories.product(), factories.product()
    reps = [world.users["rep"], world.users["rep_b"], factories.user("rep", world.brand)]
    places = [(world.regions["hz"], world.orgs["dealer"]), (world.regions["cd"], world.orgs["dealer_b"])]
    made = []
    for n in range(shops):
        region, dealer = rng.choice(places)
        shop = factories.org("retailer", f"排名门店{n:03d}", region_id=region.id, dealer_id=dealer.id,
                             channel=rng.choice(["kiosk", "convenience"]))
        served = rng.sample(reps, rng.choice([0, 1, 1, 1, 2]))
        db.session.add_all([RepRoute(rep_id=r.id, retailer_id=shop.id, weekday=0) for r in served])
        if n % 10 == 0:  # alike: the same basket on the same day
            made += [order(shop, dealer, [(cola, 3)], status="completed", days_ago=d) for d in (2, 33)]
            continue
        if n % 17 == 0:
            made.append(order(shop, dealer, [(tea, 2)], status="cancelled", days_ago=rng.randint(0, 29)))
            continue
        for _ in range(rng.randint(1, 3)):
            days_ago = rng.choice([rng.randint(0, 29), rng.randint(30, 59), rng.randint(365, 380)])
            made.append(order(shop, dealer, [(rng.choice([cola, water, tea]), rng.randint(1, 12))],
                              status=rng.choice(["completed", "completed", "completed", "cancelled"]),
                              days_ago=days_ago))
    made.append(order(world.orgs["dealer"], world.brand, [(cola, 50)], status="completed", days_ago=4))
    fulfil_some(made)
    days = {m.created_at.astimezone(LOCAL).date() + timedelta(days=i) for m in made for i in range(8)}
    facts.rebuild_days(days)
    db.session.commit()


def _rows(rows):
    return [(r.key, r.label, r.code, r.value_fen, r.qty, r.orders, r.ordered_fen, r.shipped_fen, r.delivered_fen,
             r.returned_fen, r.prior_fen) for r in rows]


def _figures(report):
    return (report.page, report.pages, report.row_count, report.value_fen, report.qty, report.orders,
            report.prior_fen, report.ordered_fen, report.shipped_fen, report.delivered_fen, report.returned_fen,
            report.weekly_fen, _rows(report.page_rows), _rows(report.top), _rows(report.risers),
            _rows(report.fallers))


def test_the_sql_ranked_page_equals_the_whole_report_ranked_in_python(world):
    _market(world)
    end = today_local()
    start = end - timedelta(days=29)
    route = select(RepRoute.retailer_id).where(RepRoute.rep_id == world.users["rep"].id)
    scopes = {"brand": {}, "dealer": {"seller_id": world.orgs["dealer"].id}, "rep": {"buyers": route},
              "province": {"province_id": world.regions["zj"].id}}
    paged = set()
    for name, scope in scopes.items():
        for by in DIMENSIONS:
            for compare in ("previous", "last_year"):
                for page in (1, 2, 3, 99):
                    whole = sales_report(start, end, by=by, compare=compare, page=page, **scope)
                    shown = sales_report_page(start, end, by=by, compare=compare, page=page, **scope)
                    assert shown.rows is None
                    assert _figures(shown) == _figures(whole), (name, by, compare, page)
                    if whole.pages > 1:
                        paged.add((name, by))
    # The world is large enough to page, to tie, to have rows of zeros and shops served by no rep.
    assert ("brand", "retailer") in paged
    whole = sales_report(start, end, by="retailer")
    assert len({r.value_fen for r in whole.rows}) < len(whole.rows)
    assert any(r.value_fen == r.prior_fen == 0 for r in whole.rows)
    unassigned = [r for r in sales_report(start, end, by="rep").rows if r.key is None]
    assert unassigned and unassigned[0].label == "未分配业务员"


def _statements(start, end, **scope) -> list[int]:
    counts = []
    for by in ("retailer", "rep", "product"):
        with count_queries() as counted:
            sales_report_page(start, end, by=by, **scope)
        counts.append(len(counted))
    return counts


def test_the_page_runs_the_same_statements_whatever_the_number_of_rows(world, login_as):
    """By retailer, five statements for the brand (whether a period preset's per-shop totals hold
    the range, the ranking, the measures of the rows shown and the totals, the weekly trend, the
    labels; on PostgreSQL three more: whether the range structures are built, the work_mem, the
    ranking's span bounds), whether the market holds two shops or three pages
    of them; by rep or product, the statements of the two periods' sums, as many either way."""
    end = today_local()
    start = end - timedelta(days=29)
    order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)], status="completed", days_ago=3)
    db.session.flush()
    facts.refresh()
    db.session.commit()
    route = select(RepRoute.retailer_id).where(RepRoute.rep_id == world.users["rep"].id)
    few = [_statements(start, end), _statements(start, end, seller_id=world.orgs["dealer"].id),
           _statements(start, end, buyers=route)]
    _market(world)
    many = [_statements(start, end), _statements(start, end, seller_id=world.orgs["dealer"].id),
            _statements(start, end, buyers=route)]
    on_postgres = db.session.get_bind().dialect.name == "postgresql"  # by retailer, its work_mem
    assert few == many and few[0][0] == (8 if on_postgres else 5)
    html = login_as("admin").get("/admin/reports/sales?by=rep&page=2").get_data(as_text=True)
    assert "未分配业务员" in html  # past the last page: the last page, with the shops on no route


def _general_and_preset(start, end, scope, by, compare, page):
    whole = sales_report(start, end, by=by, compare=compare, page=page, precomputed=False, **scope)
    shown = sales_report_page(start, end, by=by, compare=compare, page=page, **scope)
    export = sales_report(start, end, by=by, compare=compare, page=page, **scope)
    return _figures(whole), _figures(shown), _figures(export), [_rows(whole.rows), _rows(export.rows)]


def test_the_preset_periods_per_shop_totals_equal_the_general_path(world):
    """Over the form's presets the brand's report by retailer or rep reads the per-shop totals the
    fact job keeps: the page and the export equal the rollup's sums in every scope, comparison and
    page, a shop whose facts hold two provinces included, and after a rebuild of changed days."""
    _market(world)
    moved = db.session.scalars(select(Organisation).where(Organisation.name == "排名门店001")).one()
    moved.region_id = world.regions["cd"].id  # its later days' facts in another province
    db.session.flush()
    recent = db.session.scalars(select(Order.created_at).where(Order.buyer_id == moved.id)).all()
    facts.rebuild_days({max(recent).astimezone(LOCAL).date()})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(SalesShopTotal).where(SalesShopTotal.piece != 0))
    route = select(RepRoute.retailer_id).where(RepRoute.rep_id == world.users["rep"].id)
    scopes = {"brand": {}, "zj": {"province_id": world.regions["zj"].id}, "sc": {"province_id": world.regions["sc"].id},
              "dealer": {"seller_id": world.orgs["dealer"].id}, "rep": {"buyers": route}}
    ranges = shop_totals.preset_ranges()
    for preset in ("d30", "d90", "d365", "this_year", "last_year"):
        start, end = ranges[preset]
        assert shop_totals.preset_of(start, end, "previous") is not None
        for name, scope in scopes.items():
            for by in ("retailer", "rep"):
                for compare in ("previous", "last_year"):
                    for page in (1, 2, 99):
                        whole, shown, export, rows = _general_and_preset(start, end, scope, by, compare, page)
                        assert shown == whole == export, (preset, name, by, compare, page)
                        assert rows[0] == rows[1]
    # New sales on a day of the presets: the rebuild of that day sums them again.
    start, end = ranges["d30"]
    shop = db.session.scalars(select(Organisation).where(Organisation.name == "排名门店002")).one()
    order(shop, world.orgs["dealer"], [(factories.product(), 40)], status="completed", days_ago=1)
    db.session.flush()
    facts.rebuild_days({end})
    db.session.commit()
    whole, shown, export, rows = _general_and_preset(start, end, {}, "retailer", "previous", 1)
    assert shown == whole == export and rows[0] == rows[1]
    assert shown[12][0][0] == shop.id  # the biggest now


def test_the_per_shop_totals_follow_the_days_and_serve_only_stored_ranges(world):
    """A new day moves the rolling presets (refresh_presets rebuilds them, a second run nothing);
    a range no preset holds is not served from them."""
    _market(world, shops=12)
    today = today_local()
    assert shop_totals.refresh_presets(today=today) == []  # the facts' rebuild did it
    moved = shop_totals.refresh_presets(today=today + timedelta(days=1))
    assert {"d30", "d90", "d365", "this_year"} <= set(moved)
    assert shop_totals.refresh_presets(today=today + timedelta(days=1)) == []
    start, end = shop_totals.preset_ranges(today + timedelta(days=1))["d30"]
    assert shop_totals.preset_of(start, end, "last_year") == ("d30", "last_year")
    assert shop_totals.preset_of(start, end - timedelta(days=1), "previous") is None
    assert shop_totals.preset_of(*shop_totals.preset_ranges(today)["d30"], "previous") is None  # moved on


def test_the_form_offers_the_presets_as_links_that_fill_the_range(world, login_as):
    """The presets are plain links (no JS) keeping the other filters; following one shows that range."""
    start, end = shop_totals.preset_ranges()["d365"]
    client = login_as("admin")
    html = client.get("/admin/reports/sales?by=retailer&compare=last_year").get_data(as_text=True)
    assert "近一年" in html and "上月" in html
    assert 'aria-current="true">近30天' in html  # the default period is the last 30 days
    assert f"start={start.isoformat()}" in html and "by=retailer" in html
    page = client.get(f"/admin/reports/sales?by=retailer&compare=last_year&start={start}&end={end}")
    assert page.status_code == 200
    assert 'aria-current="true">近一年' in page.get_data(as_text=True)
