"""The brand's limits on dealers' own promotions: a marketing admin sets them per dealer tier
(with a default) on one page; a dealer's create/edit beyond them is refused next to the field
(4xx, nothing saved); the dealer's list shows them; the engine never applies a dealer promotion
beyond the limits in force at quote time (a limit lowered later pauses it where it goes beyond);
a dealer can neither change the limits nor touch another dealer's promotion."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Promotion, PromotionDealerLimit
from app.services.ordering import cart
from app.services.promotions import limits
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories


@pytest.fixture
def marketing(world, login_as):
    world.users["admin"].permissions = "marketing"
    db.session.commit()
    return login_as("admin")


@pytest.fixture
def products(app):
    with app.test_request_context():
        drink = factories.product(code="LIM001", base_price_fen=10_000)
        snack = factories.product(code="LIM002", base_price_fen=5_000)
        db.session.commit()
        return drink, snack


def limit_form(client, tier="default", **kw):
    client.get("/admin/promotions/dealer-limits")
    values = {f"{tier}-csrf_token": client.csrf, f"{tier}-max_depth_pct": "", f"{tier}-product_codes": "",
              f"{tier}-category_codes": ""}
    values.update({f"{tier}-{k}": v for k, v in kw.items()})
    return client.post(f"/admin/promotions/dealer-limits/{tier}", values, csrf=False)


def dealer_form(**kw):
    values = dict(code="d-deal", name="经销商让利", kind="percent_off", lane="order", percent="10",
                  starts_at="2026-01-01T00:00", ends_at="2030-01-01T00:00", status="active", product_codes="",
                  channels="", basis="discounted")
    values.update(kw)
    return values


def set_limits(admin, tier="*", depth=None, product_ids=(), category_ids=()):
    limits.save_limits(admin, tier, depth, list(product_ids), list(category_ids))
    db.session.commit()


def test_the_admin_sets_limits_per_tier_with_errors_next_to_the_field(marketing, products):
    page = marketing.get("/admin/promotions/dealer-limits").get_data(as_text=True)
    assert "默认（所有等级）" in page and "A 级经销商" in page
    saved = limit_form(marketing, max_depth_pct="15")
    assert saved.status_code == 303
    saved = limit_form(marketing, "A", max_depth_pct="20", product_codes="LIM001")
    assert saved.status_code == 303
    rows = {r.tier: r for r in db.session.scalars(select(PromotionDealerLimit))}
    assert (rows["*"].max_depth_pct, rows["*"].product_ids) == (15, [])
    assert (rows["A"].max_depth_pct, rows["A"].product_ids) == (20, [products[0].id])
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "promotion_dealer_limit.update")) == 2

    refused = limit_form(marketing, "B", max_depth_pct="150", product_codes="NOPE9")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert re.search(r'id="B-max_depth_pct-msg">[^<]*最大折扣须在 1 到 99 之间', page)
    assert re.search(r'id="B-product_codes-msg">[^<]*NOPE9', page)
    assert db.session.scalar(select(func.count()).select_from(PromotionDealerLimit)) == 2
    assert limit_form(marketing, "Z", max_depth_pct="10").status_code == 404


def test_a_dealer_cannot_change_the_limits(world, login_as, products):
    dealer = login_as("dealer")
    assert dealer.get("/admin/promotions/dealer-limits").status_code == 403
    dealer.get("/dealer/promotions")
    response = dealer.post("/admin/promotions/dealer-limits/default", {"default-csrf_token": dealer.csrf,
                                                                         "default-max_depth_pct": "90"}, csrf=False)
    assert response.status_code == 403
    assert dealer.post("/dealer/promotions/dealer-limits/default", {}).status_code in (404, 405)
    assert db.session.scalar(select(func.count()).select_from(PromotionDealerLimit)) == 0


@pytest.mark.parametrize("changes, field", [
    (dict(kind="percent_off", percent="20"), "percent"),
    (dict(kind="spend_off", ladder="1000:200"), "ladder"),
    (dict(kind="spend_percent", ladder="1000:16"), "ladder"),
    (dict(kind="amount_off", percent="", off="8", product_codes="LIM002"), "off"),  # ¥8 of ¥50 = 16 %
    (dict(kind="buy_x_get_y", percent="", buy="5", get="1"), "get"),  # 1 free per 5 = 20 %
    (dict(kind="volume_tier", percent="", tiers="10:5, 50:18"), "tiers"),
    (dict(kind="bundle", percent="", bundle_items="LIM001:1, LIM002:1", bundle_price="120"), "bundle_price"),
])
def test_a_dealer_promotion_beyond_the_depth_is_refused_next_to_the_field(world, login_as, products, changes, field):
    set_limits(world.users["admin"], depth=15)
    dealer = login_as("dealer")
    response = dealer.post("/dealer/promotions/new", dealer_form(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-msg">[^<]*超过品牌允许的最大折扣 15%', page), page[-3000:]
    assert db.session.scalar(select(func.count()).select_from(Promotion)) == 0


def test_within_the_limits_it_saves_and_the_list_shows_the_limits(world, login_as, products):
    set_limits(world.users["admin"], "A", depth=15, product_ids=[products[0].id])
    dealer = login_as("dealer")  # tier A
    outside = dealer.post("/dealer/promotions/new", dealer_form(percent="10", product_codes="LIM002"))
    assert outside.status_code == 400
    assert re.search(r'id="product_codes-msg">[^<]*品牌只允许经销商促销覆盖指定的商品或品类：LIM001', outside.get_data(as_text=True))
    every = dealer.post("/dealer/promotions/new", dealer_form(percent="10"))  # every product: not allowed
    assert every.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Promotion)) == 0

    assert dealer.post("/dealer/promotions/new", dealer_form(percent="15", product_codes="LIM001")).status_code == 303
    listed = dealer.get("/dealer/promotions").get_data(as_text=True)
    assert "品牌限制：最大折扣 15%" in listed and "只限商品：LIM001" in listed
    other = login_as("dealer_b")  # tier B, no row and no default: no limits
    assert "品牌限制" not in other.get("/dealer/promotions").get_data(as_text=True)


def test_a_limit_lowered_after_creation_pauses_the_promotion_at_quote_time(app, world, shop, products):
    user, org = shop
    drink, snack = products
    admin, dealer = world.users["admin"], world.orgs["dealer"]
    with app.test_request_context():
        bp.promotion(world.users["dealer"], dealer, "percent_off", {"percent_x100": 2_000}, product_ids=[drink.id])
        bp.promotion(world.users["dealer"], dealer, "spend_off", {"ladder": [[50_000, 5_000]]}, lane="order")
        b.cart_line(user, org, drink, 10)
        db.session.commit()

        def given():
            quote = cart.quote_cart(user, org)
            return sorted((a.promotion.kind, a.discount_fen) for a in quote.promotions.applied)

        assert given() == [("percent_off", 20_000), ("spend_off", 5_000)]
        set_limits(admin, depth=15)  # 20 % off is now beyond: left out, not capped to 15 %
        assert given() == [("spend_off", 5_000)]
        set_limits(admin, depth=5)   # ¥50 off a ¥500 threshold is 10 %: out too
        assert given() == []
        set_limits(admin, depth=20, product_ids=[snack.id])  # deep enough, but the drink is not allowed,
        assert given() == []  # nor is the 满减 over every product
        set_limits(admin, "A", depth=30)  # the dealer's tier row wins over the default
        assert given() == [("percent_off", 20_000), ("spend_off", 5_000)]


def test_a_dealer_cannot_touch_another_dealers_promotion(world, login_as, products):
    mine = login_as("dealer")
    assert mine.post("/dealer/promotions/new", dealer_form()).status_code == 303
    row = db.session.scalar(select(Promotion))
    other = login_as("dealer_b")
    assert other.get(f"/dealer/promotions/{row.id}/edit").status_code == 404
    assert other.post(f"/dealer/promotions/{row.id}/edit", dealer_form(percent="50")).status_code == 404
    db.session.expire_all()
    assert db.session.get(Promotion, row.id).rule == {"percent_x100": 1_000}
