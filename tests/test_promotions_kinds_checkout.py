"""Bundles and volume tiers end to end: made through the admin form (errors next to the fields),
priced by quote_cart and frozen by checkout, the buyer's earlier quantity read in one query
per quote whatever the number of tiers, and the simulator showing both."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OrderLine, Promotion, PromotionRedemption
from app.services.core.clock import LOCAL, now_utc
from app.services.ordering import cart, lifecycle
from app.services.ordering import orders as ordering
from app.services.promotions import simulate
from tests import builders_lifecycle as bl
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories


@pytest.fixture
def marketing(world, login_as):
    world.users["admin"].permissions = "marketing"
    db.session.commit()
    return login_as("admin")


def form(**kw):
    values = dict(code="set-1", name="早餐套餐", kind="bundle", lane="order", basis="discounted",
                  starts_at=(now_utc() - timedelta(days=1)).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"),
                  ends_at=(now_utc() + timedelta(days=9)).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"),
                  status="active", funding="brand", brand_share_pct="100", product_codes="", channels="")
    values.update(kw)
    return values


def test_a_bundle_made_in_the_form_prices_the_cart_and_the_order_freezes_it(marketing, world, shop, app):
    tea, cup = factories.product(base_price_fen=1_001), factories.product(base_price_fen=2_000)
    db.session.commit()
    made = marketing.post("/admin/promotions/new", form(bundle_items=f"{tea.code}:2，{cup.code}：1", bundle_price="35"))
    assert made.status_code in (302, 303), made.get_data(as_text=True)[-1500:]
    row = db.session.scalar(select(Promotion))
    assert (row.kind, row.lane, row.rule, sorted(row.product_ids)) == (
        "bundle", "item", {"items": sorted([[tea.id, 2], [cup.id, 1]]), "price_fen": 3_500}, sorted([tea.id, cup.id]))
    edit = marketing.get(f"/admin/promotions/{row.id}/edit").get_data(as_text=True)
    assert f"{tea.code}:2" in edit and 'value="35' in edit

    user, retailer = shop
    with app.test_request_context():
        cart.add_to_cart(user, retailer, tea.id, 4)
        cart.add_to_cart(user, retailer, cup.id, 2)
        quote = cart.quote_cart(user, retailer)
        assert quote.discount_fen == 1_004 and quote.total_fen == 8_004 - 1_004
        order = ordering.submit_order(user, retailer, "bundle-1", quote.fingerprint).order
        db.session.commit()
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert sorted(l.discount_fen for l in lines) == [502, 502]
        redemption = db.session.scalar(select(PromotionRedemption))
        assert redemption.discount_fen == 1_004 and redemption.snapshot["kind"] == "bundle"


@pytest.mark.parametrize("changes, field, message", [
    (dict(bundle_items="NOPE:2", bundle_price="10"), "bundle_items", "不存在的商品"),
    (dict(bundle_items="X", bundle_price="10"), "bundle_items", "每项写成"),
    (dict(bundle_price="99"), "bundle_price", "低于套餐商品原价合计"),
    (dict(kind="volume_tier", tiers="100:5, 100:8"), "tiers", "不能重复"),
    (dict(kind="volume_tier", tiers="abc"), "tiers", "每档写成"),
])
def test_bad_kind_fields_are_shown_next_to_the_field_and_nothing_is_saved(marketing, changes, field, message):
    tea, cup = factories.product(base_price_fen=1_000), factories.product(base_price_fen=2_000)
    db.session.commit()
    values = dict(bundle_items=f"{tea.code}:2, {cup.code}:1")
    values.update(changes)
    response = marketing.post("/admin/promotions/new", form(**values))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-msg"' in page and message in page
    assert db.session.scalar(select(func.count()).select_from(Promotion)) == 0


def test_earlier_orders_in_the_window_count_towards_the_tier_in_one_query(world, shop, app):
    user, retailer = shop
    admin = world.users["admin"]
    with app.test_request_context():
        tea, other = factories.product(base_price_fen=1_000), factories.product(base_price_fen=1_000)
        start = now_utc() - timedelta(days=3)
        bp.promotion(admin, world.brand, "volume_tier", {"tiers": [[20, 1_000]]}, product_ids=[tea.id],
                     starts_at=start, name="累计满20箱九折")
        before_window = bl.order(retailer, world.orgs["dealer"], [(tea, 50)])
        before_window.created_at = start - timedelta(hours=1)
        counted = bl.order(retailer, world.orgs["dealer"], [(tea, 12), (other, 40)])
        cancelled = bl.order(retailer, world.orgs["dealer"], [(tea, 30)])
        db.session.commit()
        lifecycle.cancel_as_buyer(retailer.id, cancelled.id, user.id, "不要了")
        db.session.commit()
        assert counted.id

        cart.add_to_cart(user, retailer, tea.id, 7)  # 12 + 7 = 19: one short
        db.session.commit()
        cart.quote_cart(user, retailer)
        with b.count_queries() as short_by_one:
            quote = cart.quote_cart(user, retailer)
        assert quote.discount_fen == 0 and [str(h) for h in quote.hints] == ["累计再买1箱可减10%"]
        cart.add_to_cart(user, retailer, tea.id, 1)
        db.session.commit()
        assert cart.quote_cart(user, retailer).discount_fen == 800  # 10 % of 8 cases at 10 yuan

        for i in range(30):  # more tiers still read the history in the same one query
            bp.promotion(admin, world.brand, "volume_tier", {"tiers": [[500 + i, 100]]}, product_ids=[tea.id])
        cart.quote_cart(user, retailer)
        with b.count_queries() as many:
            cart.quote_cart(user, retailer)
        assert len(many) == len(short_by_one), many.statements


def test_without_a_live_tier_the_quote_reads_no_history(world, shop, app):
    user, retailer = shop
    with app.test_request_context():
        tea = factories.product(base_price_fen=1_000)
        cart.add_to_cart(user, retailer, tea.id, 3)
        db.session.commit()
        cart.quote_cart(user, retailer)
        with b.count_queries() as plain:
            cart.quote_cart(user, retailer)
        assert not any("CASE WHEN" in s.upper() for s in plain.statements)


def test_the_simulator_counts_the_buyers_history_for_a_tier(world, app):
    admin = world.users["admin"]
    retailer = world.orgs["retailer"]
    with app.test_request_context():
        tea = factories.product(base_price_fen=1_000)
        bp.promotion(admin, world.brand, "volume_tier", {"tiers": [[10, 500]]}, product_ids=[tea.id], name="累计满10箱")
        bl.order(retailer, world.orgs["dealer"], [(tea, 8)])
        db.session.commit()
        result = simulate.simulate(retailer, [(tea.code.upper(), 2)], now_utc())
        assert result.discount_fen == 100  # 8 earlier + 2 = 10 cases: 5 % of 20 yuan
        assert [row.promotion.name for row in result.item if row.applied] == ["累计满10箱"]


def test_volume_tiers_add_no_statement_to_a_quote(world, shop, app):
    """The buyer's history is read inside the cart query (services/promotions/volume.py): a quote
    with live volume tiers runs as many statements as one without any promotion, and counts the
    earlier orders all the same (only after a promotion changed does one quote read it apart)."""
    user, retailer = shop
    admin = world.users["admin"]
    with app.test_request_context():
        tea, cake = factories.product(base_price_fen=1_000), factories.product(base_price_fen=2_000)
        cart.add_to_cart(user, retailer, tea.id, 5)
        cart.add_to_cart(user, retailer, cake.id, 1)
        db.session.commit()
        cart.quote_cart(user, retailer)
        with b.count_queries() as plain:
            cart.quote_cart(user, retailer)
        earlier = bl.order(retailer, world.orgs["dealer"], [(tea, 15), (cake, 4)])
        bp.promotion(admin, world.brand, "volume_tier", {"tiers": [[20, 1_000]]}, product_ids=[tea.id],
                     starts_at=now_utc() - timedelta(days=2))
        bp.promotion(admin, world.brand, "volume_tier", {"tiers": [[5, 500]]}, category_ids=[cake.category_id],
                     starts_at=now_utc() - timedelta(days=5))
        db.session.commit()
        cart.quote_cart(user, retailer)  # the process loads the changed promotions (and reads the history apart)
        with b.count_queries() as tiered:
            quote = cart.quote_cart(user, retailer)
        assert len(tiered) == len(plain), tiered.statements
        assert quote.discount_fen == 500 + 100  # 15 + 5 teas: 10 % of 50 yuan; 4 + 1 cakes: 5 % of 20 yuan
        with b.count_queries() as again:  # the process's copy of the history, its version unchanged
            assert cart.quote_cart(user, retailer).discount_fen == 600
        assert len(again) == len(plain)

        lifecycle.cancel_as_buyer(retailer.id, earlier.id, user.id, "不要了")  # the orders' version moves
        db.session.commit()
        assert cart.quote_cart(user, retailer).discount_fen == 0
