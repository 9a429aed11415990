"""The simulator prices a typed cart as a customer at a time and shows each lane's decision,
with the promotions live then (not now), writing nothing; bad input is shown next to its field."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CartLine, Order
from app.services.core.clock import LOCAL, now_utc
from app.services.promotions import simulate
from tests import builders_promotions as bp
from tests import factories


@pytest.fixture
def marketing(world, login_as):
    world.users["admin"].permissions = "marketing"
    db.session.commit()
    return login_as("admin")


@pytest.fixture
def setup(app, world):
    with app.test_request_context():
        admin = world.users["admin"]
        drink = factories.product(base_price_fen=10_000)
        later = now_utc() + timedelta(days=10)
        ten = bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 1000}, product_ids=[drink.id],
                           name="九折")
        five = bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 500}, product_ids=[drink.id],
                            name="九五折")
        ladder = bp.promotion(admin, world.brand, "spend_off", {"ladder": [[50_000, 5_000]]}, name="满500减50")
        summer = bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 2000}, product_ids=[drink.id],
                              name="夏季八折", starts_at=later, ends_at=later + timedelta(days=5))
        return drink, ten, five, ladder, summer, later


def test_each_lane_decision_now_and_at_a_later_date(app, world, setup):
    drink, ten, five, ladder, summer, later = setup
    with app.test_request_context():
        now = simulate.simulate(world.orgs["retailer"], [(drink.code, 10)], now_utc())
        assert [(row.promotion.id, bool(row.applied), row.why_not) for row in now.item] == [
            (ten.id, True, ""), (five.id, False, "lost")]
        assert [(row.promotion.id, row.applied.discount_fen) for row in now.order] == [(ladder.id, 5_000)]
        assert (now.list_fen, now.discount_fen, now.total_fen) == (100_000, 15_000, 85_000)
        assert sum(line.total_fen for line in now.lines) == now.total_fen

        then = simulate.simulate(world.orgs["retailer"], [(drink.code, 10)], later + timedelta(hours=1))
        winners = [row.promotion.id for row in then.item if row.applied]
        assert winners == [summer.id]  # the summer promotion is live then, and the best
        assert then.discount_fen == 20_000 + 5_000


def test_the_page_shows_the_lanes_and_writes_nothing(world, setup, marketing):
    drink, *_ = setup
    before = {"orders": db.session.scalar(select(func.count()).select_from(Order)),
              "cart": db.session.scalar(select(func.count()).select_from(CartLine)),
              "audit": db.session.scalar(select(func.count()).select_from(AuditEvent))}
    assert marketing.get("/admin/promotions/simulate").status_code == 200
    at = (now_utc().astimezone(LOCAL)).strftime("%Y-%m-%dT%H:%M")
    page = marketing.post("/admin/promotions/simulate", {"buyer": world.orgs["retailer"].code, "at": at,
                                                         "lines": f"{drink.code} 10", "coupon": ""})
    body = page.get_data(as_text=True)
    assert page.status_code == 200, body[-1500:]
    assert "九折" in body and "同一通道内另一促销胜出" in body and "满500减50" in body and "¥850.00" in body
    after = {"orders": db.session.scalar(select(func.count()).select_from(Order)),
             "cart": db.session.scalar(select(func.count()).select_from(CartLine)),
             "audit": db.session.scalar(select(func.count()).select_from(AuditEvent))}
    assert after == before

    bad = marketing.post("/admin/promotions/simulate", {"buyer": "NOPE", "at": at, "lines": f"{drink.code} 10"})
    assert bad.status_code in (400, 422) and "客户编码不存在" in bad.get_data(as_text=True)
    bad_lines = marketing.post("/admin/promotions/simulate", {"buyer": world.orgs["retailer"].code, "at": at,
                                                              "lines": "XX 0"})
    assert bad_lines.status_code in (400, 422) and "商品编码 数量" in bad_lines.get_data(as_text=True)
