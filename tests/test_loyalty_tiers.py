"""Member tiers: thresholds on the rolling 12-month spend, an upgrade at once (at sign-off and in
the nightly job), a downgrade only after the grace period, the job safe to run twice; a tier
unlocks promotions (engine targeting, the compiled index, the admin form)."""
from datetime import datetime, time, timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import PointsAccount, PointsEntry, Promotion
from app.services.core.clock import LOCAL, today_local
from app.services.loyalty import settings, tiers
from app.services.ordering import cart
from app.services.promotions import engine
from app.services.promotions import index as promo_index
from jobs.loyalty import recompute_tiers_job
from tests import builders_fulfilment as f
from tests import builders_loyalty as pts
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories

CONFIG = settings.Settings(silver_from_fen=100_000, gold_from_fen=500_000, diamond_from_fen=1_000_000, grace_days=30)


def _account(retailer) -> PointsAccount:
    return db.session.get(PointsAccount, retailer.id, populate_existing=True)


def _age_spend(retailer, days: int) -> None:
    """Move the retailer's ledger entries `days` into the past."""
    at = datetime.combine(today_local() - timedelta(days=days), time(12), LOCAL)
    db.session.execute(update(PointsEntry).where(PointsEntry.retailer_id == retailer.id).values(at=at))


def test_thresholds_and_what_the_next_tier_needs():
    assert [tiers.tier_for(v, CONFIG) for v in (0, 99_999, 100_000, 500_000, 2_000_000)] == \
        ["member", "member", "silver", "gold", "diamond"]
    assert tiers.next_tier(376_600, "silver", CONFIG) == tiers.NextTier("gold", 123_400)
    assert tiers.next_tier(1_000_000, "diamond", CONFIG) is None


def test_downgrade_waits_for_the_grace_period():
    today = today_local()
    assert tiers.decide("gold", None, 200_000, today, CONFIG) == ("gold", today)  # grace starts
    assert tiers.decide("gold", today - timedelta(days=29), 200_000, today, CONFIG) == \
        ("gold", today - timedelta(days=29))
    assert tiers.decide("gold", today - timedelta(days=30), 200_000, today, CONFIG) == ("silver", None)
    assert tiers.decide("gold", today - timedelta(days=10), 600_000, today, CONFIG) == ("gold", None)  # back above
    assert tiers.decide("silver", None, 600_000, today, CONFIG) == ("gold", None)  # up at once


def test_the_nightly_job_keeps_a_tier_through_the_grace_then_lowers_it(world):
    shop = world.orgs["retailer"]
    pts.earn(shop, 6_000, value_fen=600_000, kind="earn")  # ¥6,000 delivered in the window: gold
    db.session.add(factories_settings())
    db.session.commit()
    assert "1 up" in recompute_tiers_job(today_local().isoformat())
    assert _account(shop).tier == "gold"
    _age_spend(shop, 400)  # the spend leaves the 12-month window
    db.session.commit()
    recompute_tiers_job(today_local().isoformat())
    account = _account(shop)
    assert (account.tier, account.below_since, account.spend_12m_fen) == ("gold", today_local(), 0)
    assert recompute_tiers_job(today_local().isoformat()).endswith("0 changed, 0 up, 0 down, 1 in grace")
    later = today_local() + timedelta(days=30)
    assert "1 down" in recompute_tiers_job(later.isoformat())
    assert (_account(shop).tier, _account(shop).below_since) == ("member", None)


def factories_settings():
    from app.models import LoyaltySettings

    return LoyaltySettings(id=1, earn_points_per_yuan=1, redeem_points_per_yuan=100, max_redeem_pct=20,
                           lot_life_days=365, notice_days=30, silver_from_fen=CONFIG.silver_from_fen,
                           gold_from_fen=CONFIG.gold_from_fen, diamond_from_fen=CONFIG.diamond_from_fen,
                           grace_days=CONFIG.grace_days)


def test_a_sign_off_that_crosses_a_threshold_upgrades_at_once(world):
    db.session.add(factories_settings())
    shop = world.orgs["retailer"]
    product = factories.product(base_price_fen=50_000)
    f.stocked_dealer(world, [product], qty=10)
    f.delivered_order(world, [(product, 2)])  # ¥1,000
    account = _account(shop)
    assert (account.tier, account.spend_12m_fen) == ("silver", 100_000)


def test_a_member_tier_promotion_reaches_only_that_tier_and_above(shop, world):
    user, org = shop
    admin = world.users["admin"]
    promo = bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 1_000}, audience={"member_tiers": ["gold", "diamond"]})
    compiled = promo_index.load_index(1).by_id[promo.id]
    assert compiled.member_tiers == frozenset({"gold", "diamond"})
    buyer = engine.Buyer(id=org.id, kind="retailer")
    assert not compiled.targets(buyer)
    assert compiled.targets(engine.Buyer(id=org.id, kind="retailer", member_tier="diamond"))
    product = factories.product(base_price_fen=10_000)
    b.cart_line(user, org, product, 1, quoted=10_000)
    db.session.commit()
    assert cart.quote_cart(user, org).discount_fen == 0  # a member
    pts.earn(org, 0)
    db.session.execute(update(PointsAccount).where(PointsAccount.retailer_id == org.id).values(tier="gold"))
    db.session.commit()
    assert cart.quote_cart(user, org).discount_fen == 1_000


def test_the_promotion_form_saves_the_member_tier(world, login_as):
    admin = login_as("admin")
    page = admin.get("/admin/promotions/new").get_data(as_text=True)
    assert "会员等级" in page and "金卡及以上" in page
    response = admin.post("/admin/promotions/new", {
        "code": "GOLD10", "name": "金卡专享", "kind": "percent_off", "lane": "order", "percent": "10",
        "basis": "discounted", "member_tier": "gold", "starts_at": "2026-01-01T00:00",
        "ends_at": "2027-01-01T00:00", "status": "draft", "funding": "brand", "brand_share_pct": "100", "channels": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    row = db.session.query(Promotion).filter_by(code="GOLD10").one()
    assert row.audience["member_tiers"] == ["gold", "diamond"]


def test_the_schedule_registers_the_nightly_points_and_tier_jobs():
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    found = {j.func_name: (j.cron, j.queue_name) for j in scheduler.get_jobs() if j.func_name.startswith("jobs.loyalty.")}
    assert found == {"jobs.loyalty.expire_points_job": ("10 18 * * *", "default"),
                     "jobs.loyalty.recompute_tiers_job": ("40 18 * * *", "default")}
