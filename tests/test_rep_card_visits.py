"""A retailer's card (recent orders, open orders, usual products, visits), only for the rep's
own retailers, and the visit check-in with and without htmx."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.visits import Visit
from app.services.field_sales import portal as rep_portal
from tests import builders_ordering as b
from tests import builders_rep as br
from tests import factories


def text(response):
    return response.get_data(as_text=True)


def visits_count():
    return _db.session.scalar(select(func.count()).select_from(Visit))


@pytest.fixture
def shop(world):
    return world.orgs["retailer"]


def test_the_card_shows_orders_open_issues_and_usual_products(world, login_as, db, shop):
    dealer, now = world.orgs["dealer"], rep_portal.now_utc()
    water = factories.product(name_zh="矿泉水", base_price_fen=2400)
    tea = factories.product(name_zh="冰红茶", base_price_fen=3600, order_multiple=2)
    old = factories.product(name_zh="去年的汽水")
    for days in (2, 9, 30):
        br.order_at(shop, dealer, [(water, 5)], now - timedelta(days=days), status="delivered")
    br.order_at(shop, dealer, [(tea, 3), (water, 7)], now - timedelta(days=1), status="shipped")
    br.order_at(shop, dealer, [(old, 50)], now - timedelta(days=rep_portal.USUAL_PRODUCTS_DAYS + 5),
                status="delivered")
    cancelled = br.order_at(shop, dealer, [(old, 99)], now - timedelta(days=1), status="cancelled")
    br.visit(world.users["rep"], shop, "老板说下周进新品")
    db.session.commit()
    page = text(login_as("rep").get(f"/rep/retailers/{shop.id}"))
    assert shop.name in page and "老板说下周进新品" in page
    open_part = page.split("未完成的订单")[1].split("最近订单")[0]
    assert "已发货" in open_part and cancelled.number not in open_part and "已送达" not in open_part
    usual = page.split("常购商品")[1].split("拜访签到")[0]
    assert usual.index("矿泉水") < usual.index("冰红茶")  # four orders before one
    assert "去年的汽水" not in usual  # older than the window, and a cancelled order does not count
    assert "下单 4 次，常订 6箱" in usual  # (5+5+5+7)/4 = 5.5 → 6
    assert "下单 1 次，常订 4箱" in usual  # 3, rounded to the multiple of 2
    assert "¥24.00" in usual and f'/rep/retailers/{shop.id}/usual/{water.id}/add' in usual


@pytest.mark.parametrize("path", ["", "/order"])
def test_another_reps_retailer_is_not_found(world, login_as, db, path):
    other = world.orgs["retailer_b"]  # on rep_b's route
    response = login_as("rep").get(f"/rep/retailers/{other.id}{path}")
    assert response.status_code == 404 and other.name not in text(response)
    assert login_as("rep_b").get(f"/rep/retailers/{other.id}{path}").status_code == 200


def test_check_in_without_js_saves_the_visit_and_shows_it(world, login_as, db, shop, monkeypatch):
    now = br.freeze_rep_clock(monkeypatch)
    rep = login_as("rep")
    rep.get(f"/rep/retailers/{shop.id}")
    response = rep.post(f"/rep/retailers/{shop.id}/visits", {"note": "  陈列整齐，缺货两种  "})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/rep/retailers/{shop.id}#visits"
    [visit] = _db.session.scalars(select(Visit)).all()
    assert (visit.rep_id, visit.retailer_id, visit.note, visit.at) == (world.users["rep"].id, shop.id,
                                                                       "陈列整齐，缺货两种", now)
    page = text(rep.get(f"/rep/retailers/{shop.id}"))
    assert "已签到" in page and "陈列整齐，缺货两种" in page
    route = text(rep.get(f"/rep/?day={br.MONDAY}"))  # the shop's route day
    assert shop.name in route and "今日已拜访" in route and "陈列整齐，缺货两种" in route


def test_check_in_with_htmx_swaps_the_visits_section(world, login_as, db, shop):
    response = login_as("rep").post(f"/rep/retailers/{shop.id}/visits", {"note": "收到货款"}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="visits">') and "已签到" in body and "收到货款" in body
    assert visits_count() == 1


@pytest.mark.parametrize("note, message", [("", "请填写拜访记录。"), ("   ", "请填写拜访记录。"),
                                           ("长" * 501, "拜访记录最多 500 个字。")])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_check_in_shows_the_message_next_to_the_note_and_saves_nothing(world, login_as, db, shop, note,
                                                                          message, htmx):
    response = login_as("rep").post(f"/rep/retailers/{shop.id}/visits", {"note": note}, htmx=htmx)
    body = text(response)
    assert response.status_code == (422 if htmx else 400)
    assert ("<html" in body) is not htmx
    field = body.split('id="field-note"')[1].split("</div>")[0]
    assert message in field and 'aria-invalid="true"' in field
    assert visits_count() == 0


def test_check_in_at_another_reps_retailer_is_not_found(world, login_as, db):
    other = world.orgs["retailer_b"]
    for htmx in (False, True):
        response = login_as("rep").post(f"/rep/retailers/{other.id}/visits", {"note": "试试"}, htmx=htmx)
        assert response.status_code == 404
    assert visits_count() == 0


def test_the_card_of_a_retailer_without_history(world, login_as, db):
    quiet = br.route_retailer(world.users["rep"], 2, world.orgs["dealer"], world.regions["hz"].id, "新开小店")
    db.session.commit()
    page = text(login_as("rep").get(f"/rep/retailers/{quiet.id}"))
    assert "新开小店" in page and "还没有下过单" in page and "没有未完成的订单" in page
    assert f"近 {rep_portal.USUAL_PRODUCTS_DAYS} 天没有订单" in page and "还没有拜访记录" in page


def test_the_card_runs_a_fixed_number_of_queries(world, login_as, db, shop):
    rep = login_as("rep")
    dealer, now = world.orgs["dealer"], rep_portal.now_utc()

    def measure():
        with b.count_queries() as queries:
            assert rep.get(f"/rep/retailers/{shop.id}").status_code == 200
        return len(queries)

    products = b.products(2)
    br.order_at(shop, dealer, [(products[0], 1)], now - timedelta(days=1))
    db.session.commit()
    few = measure()
    more = b.products(8)
    for i, product in enumerate(more):
        br.order_at(shop, dealer, [(product, 2), (products[1], 1)], now - timedelta(days=i + 2), status="approved")
        br.visit(world.users["rep"], shop, f"第{i}次")
    db.session.commit()
    assert measure() == few
