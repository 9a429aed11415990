"""The rep's route of the day: weekday on the Shanghai calendar, other days, search, the last
order date and the overdue mark, visits, only the rep's own retailers, and a fixed number of
queries whatever the number of retailers."""
import re
from datetime import timedelta

import pytest

from app.services.field_sales import portal as rep_portal
from tests import builders_ordering as b
from tests import builders_rep as br
from tests import factories


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def now(monkeypatch):
    return br.freeze_rep_clock(monkeypatch)


@pytest.fixture
def rep_user(world):
    return world.users["rep"]


def make(world, weekday, name, **kw):
    return br.route_retailer(world.users["rep"], weekday, world.orgs["dealer"], world.regions["hz"].id, name, **kw)


def test_today_is_the_shanghai_weekday_and_other_days_are_one_tap_away(world, login_as, now, db):
    assert rep_portal.local_weekday() == br.TUESDAY  # Monday in UTC, Tuesday in Shanghai
    make(world, br.TUESDAY, "周二小店")
    make(world, br.MONDAY, "周一超市")
    db.session.commit()
    rep = login_as("rep")
    page = text(rep.get("/rep/"))
    assert "周二小店" in page and "周一超市" not in page
    assert re.search(r'href="/rep/\?day=1"[^>]*aria-current="page"', page)  # Tuesday is selected
    assert "周二：1 家客户" in page
    monday = text(rep.get("/rep/?day=0"))
    assert "周一超市" in monday and "周二小店" not in monday
    # the world's retailer (Monday) belongs to this rep too; rep_b's retailer never shows
    assert world.orgs["retailer"].name in monday and world.orgs["retailer_b"].name not in monday


def test_switching_days_with_htmx_returns_the_route_fragment_only(world, login_as, now, db):
    make(world, 3, "周四餐馆")
    db.session.commit()
    fragment = login_as("rep").hx_get("/rep/?day=3")
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body and "周四餐馆" in body
    assert 'class="day-switch"' in body and "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("bad", ["9", "-1", "x"])
def test_a_bad_day_falls_back_to_today(world, login_as, now, db, bad):
    make(world, br.TUESDAY, "周二小店")
    db.session.commit()
    response = login_as("rep").get(f"/rep/?day={bad}")
    assert response.status_code == 200 and "周二小店" in text(response)


def test_search_finds_the_reps_retailers_on_any_day_and_only_them(world, login_as, now, db):
    make(world, 5, "星期六副食店")
    br.route_retailer(world.users["rep_b"], 5, world.orgs["dealer_b"], world.regions["cd"].id, "别人的副食店")
    db.session.commit()
    page = text(login_as("rep").get("/rep/?q=副食"))
    assert "星期六副食店" in page and "周六" in page and "别人的副食店" not in page
    assert "找到 1 家客户" in page


def test_last_order_date_and_the_overdue_mark(world, login_as, now, db):
    product = factories.product()
    recent = make(world, br.TUESDAY, "常下单小店")
    stale = make(world, br.TUESDAY, "好久没下单")
    never = make(world, br.TUESDAY, "从没下过单")
    only_cancelled = make(world, br.TUESDAY, "只有取消单")
    dealer = world.orgs["dealer"]
    br.order_at(recent, dealer, [(product, 1)], now - timedelta(days=3))
    br.order_at(stale, dealer, [(product, 1)], now - timedelta(days=rep_portal.OVERDUE_AFTER_DAYS + 6))
    br.order_at(only_cancelled, dealer, [(product, 1)], now - timedelta(days=1), status="cancelled")
    db.session.commit()
    page = text(login_as("rep").get("/rep/"))
    stops = {name: block for name, block in
             ((re.search(r"<b>(.*?)</b>", li).group(1), li) for li in page.split('<li class="stop')[1:])}
    overdue_mark = f"超过 {rep_portal.OVERDUE_AFTER_DAYS} 天未下单"
    assert overdue_mark not in stops["常下单小店"] and "最近下单 2026-11-21" in stops["常下单小店"]
    assert overdue_mark in stops["好久没下单"] and "最近下单 2026-11-04" in stops["好久没下单"]
    assert overdue_mark in stops["从没下过单"] and "还没有下过单" in stops["从没下过单"]
    assert overdue_mark in stops["只有取消单"] and "还没有下过单" in stops["只有取消单"]
    assert all(block.startswith(' overdue"') == (overdue_mark in block) for block in stops.values())


def test_visits_show_on_the_route(world, login_as, now, db, rep_user):
    today = make(world, br.TUESDAY, "今天去过")
    earlier = make(world, br.TUESDAY, "上周去过")
    br.visit(rep_user, today, "补货完成", at=now - timedelta(minutes=30))
    br.visit(rep_user, earlier, "老板不在", at=now - timedelta(days=7))
    db.session.commit()
    page = text(login_as("rep").get("/rep/"))
    today_block = page.split("今天去过")[1].split('<li class="stop')[0]
    earlier_block = page.split("上周去过")[1].split('<li class="stop')[0]
    assert "今日已拜访" in today_block and "补货完成" in today_block
    assert "今日已拜访" not in earlier_block and "最近拜访 2026-11-17" in earlier_block and "老板不在" in earlier_block


def test_the_route_page_runs_the_same_queries_for_3_or_30_retailers(world, login_as, now, db, rep_user):
    rep = login_as("rep")
    product = factories.product()

    def add(n):
        for i in range(n):
            retailer = make(world, br.TUESDAY, None)
            br.order_at(retailer, world.orgs["dealer"], [(product, 1)], now - timedelta(days=i))
            br.visit(rep_user, retailer, at=now - timedelta(days=i, hours=1))
        db.session.commit()

    def measure():
        with b.count_queries() as queries:
            response = rep.get("/rep/")
        assert response.status_code == 200
        return len(queries), text(response).count('<li class="stop')

    add(3)
    few, shown_few = measure()
    add(27)
    many, shown_many = measure()
    assert (shown_few, shown_many) == (3, 30)
    assert few == many, (few, many)
    # user, route count + page, last orders, last visits, target, achieved, badge, shops at risk (2)
    assert many <= 12
