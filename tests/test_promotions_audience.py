"""Targeting by sales rep and by customer group, and budgets allocated per rep and per region:
who gets the promotion, the one extra query only when such promotions are live, allocations
consumed by conditional updates (50 checkouts racing for a region allocation that fits 10),
given back on cancel, and the admin's customer-group page and form fields."""
import os
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Organisation, PromotionRedemption, PromotionScopedBudget, RepRoute, User
from app.models.customer_groups import CustomerGroup
from app.services.ordering import cart, lifecycle
from app.services.ordering import orders as ordering
from app.services.promotions import audience
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _discount(user, shop_org, product, qty=1) -> int:
    cart.add_to_cart(user, shop_org, product.id, qty)
    db.session.commit()
    return cart.quote_cart(user, shop_org).discount_fen


def test_a_promotion_for_one_reps_shops_reaches_only_them(world):
    drink = factories.product(base_price_fen=10_000)
    bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                 audience={"rep_ids": [world.users["rep"].id]})
    assert _discount(world.users["retailer"], world.orgs["retailer"], drink) == 1_000  # on rep1's route
    assert _discount(world.users["retailer_b"], world.orgs["retailer_b"], drink) == 0  # on rep2's


def test_a_promotion_for_a_customer_group_reaches_its_members_and_costs_one_query(world):
    admin = world.users["admin"]
    drink = factories.product(base_price_fen=10_000)
    user, shop = world.users["retailer"], world.orgs["retailer"]
    cart.add_to_cart(user, shop, drink.id, 1)
    db.session.commit()
    cart.quote_cart(user, shop)
    with b.count_queries() as plain:
        cart.quote_cart(user, shop)
    group = audience.save_group(admin, "key-acct", "重点客户", [world.orgs["retailer_b"].code])
    db.session.commit()
    bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 1_000}, audience={"group_ids": [group.id]})
    cart.quote_cart(user, shop)
    with b.count_queries() as targeted:
        assert cart.quote_cart(user, shop).discount_fen == 0  # not a member
    assert len(targeted) == len(plain) + 1, targeted.statements
    audience.save_group(admin, "KEY-ACCT", "重点客户", [world.orgs["retailer_b"].code, shop.code], group.id)
    db.session.commit()
    assert cart.quote_cart(user, shop).discount_fen == 1_000


def test_a_rep_allocation_is_consumed_refuses_when_used_up_and_comes_back_on_cancel(world):
    admin, rep = world.users["admin"], world.users["rep"]
    drink = factories.product(base_price_fen=10_000)
    promo = bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 1_000},
                         allocations=[["rep", rep.id, 1_500]])
    user, shop = world.users["retailer"], world.orgs["retailer"]
    assert _discount(world.users["retailer_b"], world.orgs["retailer_b"], drink) == 0  # rep2 has no allocation
    assert _discount(user, shop, drink) == 1_000
    order = ordering.submit_order(user, shop, "alloc-key-00000001", cart.quote_cart(user, shop).fingerprint).order
    db.session.commit()
    allocation = db.session.scalar(select(PromotionScopedBudget).where(PromotionScopedBudget.promotion_id == promo.id))
    assert allocation.used_fen == 1_000
    # 500 left cannot cover 1,000: the checkout's conditional update refuses, the cart is re-priced
    cart.add_to_cart(user, shop, drink.id, 1)
    db.session.commit()
    with pytest.raises(ordering.PricesChanged) as refused:
        ordering.submit_order(user, shop, "alloc-key-00000003", cart.quote_cart(user, shop).fingerprint)
    db.session.rollback()
    assert "活动额度已用完" in refused.value.message and refused.value.quote.discount_fen == 0
    assert cart.quote_cart(user, shop).discount_fen == 0  # this process reloaded the allocations
    lifecycle.cancel_as_buyer(shop.id, order.id, user.id, "不要了")
    db.session.commit()
    db.session.refresh(allocation)
    assert allocation.used_fen == 0
    assert cart.quote_cart(user, shop).discount_fen == 1_000
    redemption = db.session.scalar(select(PromotionRedemption).where(PromotionRedemption.order_id == order.id))
    assert redemption.snapshot["allocations"] == [["rep", rep.id]]


def test_a_region_allocation_taken_between_quote_and_submit_reprices_with_the_reason(world):
    drink = factories.product(base_price_fen=10_000)
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         allocations=[["region", world.regions["zj"].id, 1_000]])
    user, shop = world.users["retailer"], world.orgs["retailer"]
    quote_discount = _discount(user, shop, drink)
    assert quote_discount == 1_000  # 杭州 is inside 浙江
    quote = cart.quote_cart(user, shop)
    db.session.execute(PromotionScopedBudget.__table__.update().where(
        PromotionScopedBudget.promotion_id == promo.id).values(used_fen=500))
    db.session.commit()
    with pytest.raises(ordering.PricesChanged) as refused:
        ordering.submit_order(user, shop, "alloc-key-00000002", quote.fingerprint)
    db.session.rollback()
    assert "活动额度已用完" in refused.value.message and refused.value.quote.discount_fen == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
def test_fifty_concurrent_checkouts_race_for_a_region_allocation_that_fits_ten(app, world):
    dealer, rep = world.orgs["dealer"], world.users["rep"]
    drink = factories.product(base_price_fen=10_000)
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1_000},
                         allocations=[["region", world.regions["hz"].id, 10_000]])
    shops = [factories.org("retailer", f"分配店{i}", region_id=world.regions["hz"].id, channel="kiosk",
                           dealer_id=dealer.id) for i in range(50)]
    for shop_org in shops:
        cart.add_to_cart(rep, shop_org, drink.id, 1)
    db.session.commit()
    shop_ids, rep_id = [s.id for s in shops], rep.id
    start = threading.Barrier(50)
    results, errors = {}, []

    def checkout(i):
        with app.app_context(), app.test_request_context():
            try:
                owner, buyer = db.session.get(User, rep_id), db.session.get(Organisation, shop_ids[i])
                quote = cart.quote_cart(owner, buyer)
                assert quote.discount_fen == 1_000
                db.session.close()
                start.wait(60)
                owner, buyer = db.session.get(User, rep_id), db.session.get(Organisation, shop_ids[i])
                for attempt in range(10):
                    try:
                        order = ordering.submit_order(owner, buyer, f"race-key-{i:08d}", quote.fingerprint,
                                                      accept_changes=attempt > 0).order
                        db.session.commit()
                        results[i] = order.total_fen
                        return
                    except ordering.PricesChanged as changed:
                        db.session.rollback()
                        quote = changed.quote
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sorted(results.values()) == [9_000] * 10 + [10_000] * 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PromotionRedemption)) == 10
    assert db.session.scalar(select(func.count()).select_from(Order)) == 50
    allocation = db.session.scalar(select(PromotionScopedBudget).where(PromotionScopedBudget.promotion_id == promo.id))
    assert allocation.used_fen == 10_000


@pytest.fixture
def marketing(world, login_as):
    world.users["admin"].permissions = "marketing"
    db.session.commit()
    return login_as("admin")


def test_the_admin_keeps_customer_groups_with_errors_next_to_the_field(marketing, world):
    assert marketing.get("/admin/customer-groups").status_code == 200
    bad = marketing.post("/admin/customer-groups", {"code": "vip", "name": "大客户", "members": "NOPE9"})
    assert bad.status_code == 400 and 'id="members-msg"' in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CustomerGroup)) == 0
    made = marketing.post("/admin/customer-groups", {"code": "vip", "name": "大客户",
                                                     "members": world.orgs["retailer"].code})
    assert made.status_code in (302, 303)
    group = db.session.scalar(select(CustomerGroup))
    assert group.code == "VIP" and [m.customer_id for m in group.members] == [world.orgs["retailer"].id]
    page = marketing.get("/admin/customer-groups").get_data(as_text=True)
    assert "大客户" in page
    edit = marketing.get(f"/admin/customer-groups/{group.id}/edit").get_data(as_text=True)
    assert world.orgs["retailer"].code in edit
    moved = marketing.post(f"/admin/customer-groups/{group.id}/edit", {"code": "VIP", "name": "大客户",
                                                                      "members": world.orgs["retailer_b"].code})
    assert moved.status_code in (302, 303)
    db.session.expire_all()
    assert [m.customer_id for m in db.session.get(CustomerGroup, group.id).members] == [world.orgs["retailer_b"].id]


def test_the_promotion_form_takes_reps_groups_and_allocations_by_name(marketing, world):
    from tests.test_promotions_admin import form

    group = audience.save_group(world.users["admin"], "VIP", "大客户", [])
    db.session.commit()
    bad = marketing.post("/admin/promotions/new", form(reps="nobody"))
    assert bad.status_code == 400 and 'id="reps-msg"' in bad.get_data(as_text=True)
    bad = marketing.post("/admin/promotions/new", form(rep_allocations="rep1:abc"))
    assert bad.status_code == 400 and 'id="rep_allocations-msg"' in bad.get_data(as_text=True)
    made = marketing.post("/admin/promotions/new", form(reps="rep1", groups="vip", rep_allocations="rep1:500",
                                                        region_allocations=f"{world.regions['zj'].code}:800.5"))
    assert made.status_code in (302, 303), made.get_data(as_text=True)[-1500:]
    from app.models import Promotion

    row = db.session.scalar(select(Promotion))
    assert row.audience["rep_ids"] == [world.users["rep"].id] and row.audience["group_ids"] == [group.id]
    budgets = sorted((a.scope, a.scope_id, a.budget_fen) for a in db.session.scalars(select(PromotionScopedBudget)))
    assert budgets == [("region", world.regions["zj"].id, 80_050), ("rep", world.users["rep"].id, 50_000)]
    edit = marketing.get(f"/admin/promotions/{row.id}/edit").get_data(as_text=True)
    assert "rep1:500" in edit and "800.5" in edit
    assert db.session.scalar(select(func.count()).select_from(RepRoute)) == 2  # nothing else touched
