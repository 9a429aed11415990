"""Any range of the brand's sales report by retailer or by rep (range_series.py: the shops' running
sums, the reps' rows by day and week, kept by the fact job; PostgreSQL): the page and the export
equal the general path (the rollup summed per request) for ranges aligned to weeks or not, spanning
the data's start or past its end, in a province, with a shop in two provinces and shops on no
route, both comparisons and several pages; after a rebuild of some days, and after route changes,
and the incremental structures equal a build from scratch."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, text

from app.extensions import db
from app.models import Order, Organisation, RepRoute
from app.models.analytics import FactWatermark, SalesDay
from app.services.analytics import facts, range_series
from app.services.analytics.sales import sales_report, sales_report_page
from app.services.core.clock import LOCAL, today_local
from tests import factories
from tests.builders_ordering import order
from tests.test_sales_report_ranking import _figures, _market, _rows

pytestmark = pytest.mark.postgres(reason="the range structures are PostgreSQL arrays; SQLite sums the rollup")


def _moved_shop(world) -> Organisation:
    """A shop whose later facts are in another province (its region moved, a recent day rebuilt)."""
    moved = db.session.scalars(select(Organisation).where(Organisation.name == "排名门店001")).one()
    moved.region_id = world.regions["cd"].id
    db.session.flush()
    recent = db.session.scalars(select(Order.created_at).where(Order.buyer_id == moved.id)).all()
    facts.rebuild_days({max(recent).astimezone(LOCAL).date()})
    db.session.commit()
    return moved


def _ranges() -> dict[str, tuple[date, date]]:
    """Custom ranges: none of them a preset's (those end yesterday or are whole months and years)."""
    today = today_local()
    first = db.session.scalar(select(func.min(SalesDay.day)))
    monday = today - timedelta(days=today.weekday())
    return {"not aligned": (today - timedelta(days=45), today - timedelta(days=3)),
            "whole weeks": (monday - timedelta(weeks=9), monday - timedelta(days=1)),
            "one week's days": (monday - timedelta(days=12), monday - timedelta(days=10)),
            "over the data's start": (first - timedelta(days=20), first + timedelta(days=40)),
            "a year to today": (today - timedelta(days=364), today),
            "into the future": (today - timedelta(days=10), today + timedelta(days=30)),
            "all in the future": (today + timedelta(days=5), today + timedelta(days=50)),
            "two years": (today - timedelta(days=729), today)}


def _assert_equal(ranges, scopes, pages=(1, 2, 3, 99)) -> set:
    """Every range × scope × dimension × comparison × page: the page (and by rep the export) from
    the structures equals the general path. Returns the (range, scope, by) that had several pages."""
    paged = set()
    for name, (start, end) in ranges.items():
        for scope_name, scope in scopes.items():
            for by in ("retailer", "rep"):
                for compare in ("previous", "last_year"):
                    for page in pages:
                        general = sales_report(start, end, by=by, compare=compare, page=page, precomputed=False,
                                               **scope)
                        shown = sales_report_page(start, end, by=by, compare=compare, page=page, **scope)
                        assert _figures(shown) == _figures(general), (name, scope_name, by, compare, page)
                        if by == "rep" and page == 1:
                            export = sales_report(start, end, by=by, compare=compare, **scope)
                            assert _rows(export.rows) == _rows(general.rows), (name, scope_name, compare)
                        if general.pages > 1:
                            paged.add((name, scope_name, by))
    return paged


@pytest.fixture(params=["wide head", "narrow head"])
def heads(request, monkeypatch):
    """As configured (the head holds the whole small market), and with heads of a few shops, so that
    the span bounds prune the candidates (and sometimes find too few movers: every shop)."""
    if request.param == "narrow head":
        monkeypatch.setattr(range_series, "HEAD_MIN", 3)
        monkeypatch.setattr(range_series, "HEAD_PER_ROW", 1)
        monkeypatch.setattr(range_series, "HEAD_WIDE", 12)
    return request.param


def test_any_range_by_retailer_or_rep_equals_the_general_path(world, heads):
    _market(world)
    _moved_shop(world)
    assert range_series.available()
    assert db.session.scalar(text("SELECT count(*) FROM sales_shop_series WHERE piece <> 0"))  # two provinces
    scopes = {"brand": {}, "zj": {"province_id": world.regions["zj"].id},
              "sc": {"province_id": world.regions["sc"].id}}
    paged = _assert_equal(_ranges(), scopes)
    assert ("not aligned", "brand", "retailer") in paged
    unassigned = sales_report_page(*_ranges()["not aligned"], by="rep")
    assert any(r.key is None for r in unassigned.page_rows)  # the shops on no route


def _structures() -> dict:
    """Every row of the range structures, comparable."""
    tables = {"sales_shop_series": "buyer_id, piece", "sales_rep_shops": "buyer_id",
              "sales_rep_days": "day, rep_id, province_id", "sales_rep_weeks": "week, rep_id, province_id"}
    return {t: [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {t} ORDER BY {key}"))]
            for t, key in tables.items()}


def test_rebuilt_days_and_route_changes_keep_them_equal_to_a_full_build(world):
    """New sales rebuilt on two days, routes changed (a shop moved to another rep, one taken off
    every route, one put on a route): the page follows the routes at once (before the fact job),
    and after the job's incremental run the structures hold what a build from scratch gives."""
    _market(world)
    _moved_shop(world)
    today = today_local()
    shops = db.session.scalars(select(Organisation).where(Organisation.name.like("排名门店%"))
                               .order_by(Organisation.id)).all()
    rep, other = world.users["rep"], world.users["rep_b"]
    routes = db.session.scalars(select(RepRoute).order_by(RepRoute.id)).all()
    routed = {r.retailer_id for r in routes}
    on_other = {r.retailer_id for r in routes if r.rep_id == other.id}
    served = [r for r in routes if r.rep_id == rep.id and r.retailer_id not in on_other]
    # route changes: one of the rep's shops to another rep, one off every route, one onto a route
    served[0].rep_id = other.id
    db.session.execute(delete(RepRoute).where(RepRoute.retailer_id == served[1].retailer_id))
    unrouted = next(s for s in shops if s.id not in routed)
    db.session.add(RepRoute(rep_id=rep.id, retailer_id=unrouted.id, weekday=2))
    db.session.commit()
    ranges = {"not aligned": (today - timedelta(days=45), today - timedelta(days=3)),
              "a year to today": (today - timedelta(days=364), today)}
    _assert_equal(ranges, {"brand": {}, "zj": {"province_id": world.regions["zj"].id}}, pages=(1, 2))
    # New sales on two days (a new shop among them), a return of an old order's day: rebuilt.
    newcomer = factories.org("retailer", "新店", region_id=world.regions["hz"].id, dealer_id=world.orgs["dealer"].id)
    made = [order(shops[5], world.orgs["dealer"], [(factories.product(), 30)], status="completed", days_ago=2),
            order(newcomer, world.orgs["dealer"], [(factories.product(), 7)], status="completed", days_ago=2),
            order(shops[8], world.orgs["dealer"], [(factories.product(), 9)], status="cancelled", days_ago=40)]
    db.session.flush()
    facts.rebuild_days({m.created_at.astimezone(LOCAL).date() for m in made})
    db.session.commit()
    assert not db.session.scalar(text("SELECT count(*) FROM sales_route_changes"))  # applied
    _assert_equal(ranges, {"brand": {}, "zj": {"province_id": world.regions["zj"].id}}, pages=(1, 2))
    incremental = _structures()
    db.session.execute(delete(FactWatermark).where(FactWatermark.name == range_series.NAME))
    range_series.refresh([])  # no watermark: a build from scratch
    db.session.commit()
    assert _structures() == incremental
    assert len(incremental["sales_rep_shops"]) > 100 and incremental["sales_rep_weeks"]


def test_the_structures_are_built_on_the_first_refresh_and_empty_days_change_nothing(world):
    """A database migrated with facts already there: the first refresh builds the structures (the
    report sums the rollup until then); a refresh without changed days leaves them as they were."""
    _market(world, shops=12)
    db.session.execute(delete(FactWatermark).where(FactWatermark.name == range_series.NAME))
    for table in ("sales_shop_series", "sales_rep_shops", "sales_rep_days", "sales_rep_weeks"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    assert not range_series.available()
    start, end = today_local() - timedelta(days=40), today_local() - timedelta(days=2)
    general = _figures(sales_report(start, end, by="retailer", precomputed=False))
    assert _figures(sales_report_page(start, end, by="retailer")) == general  # the rollup meanwhile
    facts.rebuild_days([])
    db.session.commit()
    assert range_series.available()
    built = _structures()
    assert built["sales_shop_series"] and _figures(sales_report_page(start, end, by="retailer")) == general
    facts.rebuild_days([])
    db.session.commit()
    assert _structures() == built
