"""The points pages as people use them: the retailer's own balance, tier, next-tier need and
expiring points (never another shop's), the history fragment for htmx, the home link; the brand
admin's settings (errors next to fields, nothing half saved), catalog, distribution and a
retailer's ledger (404 for anything that is not a retailer); the rep's shop card."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, LoyaltySettings, PointsAccount, PointsGift
from app.services.core.clock import today_local
from app.services.loyalty import ledger
from tests import builders_loyalty as pts
from tests import factories


def text(response):
    return response.get_data(as_text=True)


def _points(world):
    shop, other = world.orgs["retailer"], world.orgs["retailer_b"]
    pts.earn(shop, 1_234, expires_in_days=10, value_fen=1_876_600, kind="earn")
    pts.earn(shop, 5_000, expires_in_days=300)
    pts.earn(other, 777_777)
    db.session.commit()
    return shop, other


def test_retailer_sees_its_own_points_tier_and_what_the_next_tier_needs(world, retailer):
    _points(world)
    assert "/retailer/points" in text(retailer.get("/retailer/"))
    page = text(retailer.get("/retailer/points"))
    assert "普通会员 · 积分 6,234" in page
    assert "再消费 ¥1,234.00 升级银卡" in page  # ¥20,000 − ¥18,766
    assert "1,234 积分即将到期（最早 " + (today_local() + timedelta(days=10)).isoformat() in page
    assert "777,777" not in page


def test_the_other_retailer_sees_only_its_own(world, login_as):
    _points(world)
    page = text(login_as("retailer_b").get("/retailer/points"))
    assert "积分 777,777" in page and "6,234" not in page


def test_history_pages_as_a_fragment_for_htmx(world, retailer):
    shop, _other = _points(world)
    for i in range(25):
        ledger.spend(shop.id, 1, "redeem", f"test:page:{i}")
    db.session.commit()
    response = retailer.hx_get("/retailer/points?page=2")
    body = text(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="points-history">') and "第 2 / 2 页" in body
    full = text(retailer.get("/retailer/points?page=2"))
    assert "<html" in full and "第 2 / 2 页" in full


def test_admin_distribution_lookup_and_ledger(world, login_as):
    shop, _other = _points(world)
    admin = login_as("admin")
    home = text(admin.get("/admin/loyalty"))
    assert "会员等级分布" in home and "784,011" in home  # the points held by members
    response = admin.get(f"/admin/loyalty/lookup?code={shop.code}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/loyalty/retailers/{shop.id}")
    ledger_page = text(admin.get(f"/admin/loyalty/retailers/{shop.id}"))
    assert shop.name in ledger_page and "积分 6,234" in ledger_page and "777,777" not in ledger_page
    missing = admin.get("/admin/loyalty/lookup?code=NOPE")
    assert missing.status_code == 404 and "没有这个零售商编号" in text(missing)
    assert admin.get(f"/admin/loyalty/retailers/{world.orgs['dealer'].id}").status_code == 404
    assert login_as("admin_b").get("/admin/loyalty").status_code == 403  # no "marketing"


SETTINGS = dict(earn_points_per_yuan="2", redeem_points_per_yuan="100", max_redeem_pct="30", lot_life_days="365",
                notice_days="30", silver_from_fen="10000", gold_from_fen="50000", diamond_from_fen="100000",
                grace_days="60")


def test_admin_settings_refuse_bad_input_next_to_the_field_and_save_good_input(world, login_as):
    admin = login_as("admin")
    assert "积分最多抵订单的（%）" in text(admin.get("/admin/loyalty/settings"))
    response = admin.post("/admin/loyalty/settings", dict(SETTINGS, max_redeem_pct="150"))
    assert response.status_code == 400 and 'id="max_redeem_pct-msg"' in text(response)
    response = admin.post("/admin/loyalty/settings", dict(SETTINGS, gold_from_fen="5000"))
    assert response.status_code == 400 and "门槛须依次递增" in text(response)
    assert db.session.get(LoyaltySettings, 1) is None  # nothing saved
    assert admin.post("/admin/loyalty/settings", SETTINGS).status_code == 303
    row = db.session.get(LoyaltySettings, 1)
    assert (row.earn_points_per_yuan, row.max_redeem_pct, row.gold_from_fen) == (2, 30, 5_000_000)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "loyalty.settings"))


def test_admin_manages_the_points_catalog(world, login_as):
    product = factories.product(name_zh="积分礼品毛巾")
    db.session.commit()
    admin = login_as("admin")
    response = admin.post("/admin/loyalty/gifts/new", {"product_code": "NOPE", "points_price": "100", "stock_cap": "5",
                                                       "active": "y"})
    assert response.status_code == 400 and "没有这个商品编码" in text(response)
    response = admin.post("/admin/loyalty/gifts/new", {"product_code": product.code, "points_price": "800",
                                                       "stock_cap": "5", "active": "y"})
    assert response.status_code == 303
    gift = db.session.scalar(select(PointsGift))
    assert (gift.points_price, gift.stock_cap, gift.active) == (800, 5, True)
    assert "积分礼品毛巾" in text(admin.get("/admin/loyalty/gifts"))
    assert admin.post(f"/admin/loyalty/gifts/{gift.id}", {"product_code": product.code, "points_price": "900",
                                                          "stock_cap": "5"}).status_code == 303
    db.session.expire_all()
    assert (db.session.get(PointsGift, gift.id).points_price, db.session.get(PointsGift, gift.id).active) == (900, False)
    assert admin.get("/admin/loyalty/gifts/999999").status_code == 404


def test_rep_card_shows_the_shops_tier_and_points_read_only(world, login_as):
    shop, other = _points(world)
    db.session.get(PointsAccount, shop.id).tier = "gold"
    db.session.commit()
    rep = login_as("rep")
    page = text(rep.get(f"/rep/retailers/{shop.id}"))
    assert "金卡 · 积分 6,234" in page and "已是最高等级" not in page and "升级钻石" in page
    assert rep.get(f"/rep/retailers/{other.id}").status_code == 404  # not on this rep's route


def test_history_amounts_group_thousands_like_the_balance(world, retailer):
    """"下单抵扣 -2040 … 余额 2,040": the entry's own figure had no thousands separator."""
    shop, _other = _points(world)
    ledger.spend(shop.id, 2_040, "redeem", "test:thousands")
    db.session.commit()
    page = text(retailer.get("/retailer/points"))
    assert '<b class="num">-2,040</b>' in page and '<b class="num">+5,000</b>' in page
