"""Group-buy pages: the retailer's phone page (pool, ladder, commit/raise/withdraw as plain
forms), the pool fragment with and without HX-Request, territory scoping (a shop sees only its
territory's campaigns, a dealer only its own, with their commitments), and the campaign forms
with errors next to their fields."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CreditNote, Order
from app.models.groupbuy import GroupBuyCampaign, GroupBuyCommitment
from app.services.campaigns import groupbuy
from tests import builders_groupbuy as gb
from tests import factories


def _pooled(world, campaign, qty, dealer_key="dealer", region_key="hz"):
    user, shop = gb.shop_of(world, dealer_key, region_key)
    groupbuy.commit_quantity(user, shop, campaign.id, qty)
    return shop


def test_retailer_page_shows_the_live_pool_and_commits_without_javascript(world, retailer):
    campaign = gb.campaign(world.orgs["dealer"], factories.product())
    _pooled(world, campaign, 412)
    db.session.commit()

    page = retailer.get(f"/retailer/groupbuys/{campaign.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "412 / 500 箱" in html and "还差 88 箱" in html and 'hx-trigger="every 30s"' in html
    assert "¥48.00" in html and "¥45.00" in html  # current price (200 reached) and the next rung
    # Below the minimum the 200-case price is not yet anyone's: it applies once the pool forms.
    price = html.split('id="groupbuy-price"', 1)[1].split("</p>", 1)[0]
    assert "成团后团购价" in price and "当前团购价" not in price
    assert "已达到，成团后生效" in html and "已解锁" not in html

    response = retailer.post(f"/retailer/groupbuys/{campaign.id}/commit", {"qty": "88"})
    assert response.status_code == 303
    html = retailer.get(response.headers["Location"]).get_data(as_text=True)
    assert "500 / 500 箱" in html and "已达成团数量" in html
    assert "当前团购价" in html and "已解锁" in html and "成团后生效" not in html
    commitment = db.session.scalar(select(GroupBuyCommitment).where(GroupBuyCommitment.retailer_id == world.orgs["retailer"].id))
    order = db.session.get(Order, commitment.order_id)
    assert (commitment.qty, commitment.committed_price_fen, order.kind, order.seller_id) == (88, 4500, "groupbuy", world.orgs["dealer"].id)
    assert order.number in html
    # Joined: the field holds the total committed, and the button says it replaces it
    assert 'value="88"' in html and "现为 88 箱，只能增加" in html and "改为此总数" in html and "参团</button>" not in html

    raised = retailer.post(f"/retailer/groupbuys/{campaign.id}/commit", {"qty": "100"})
    assert raised.status_code == 303
    assert "512 / 500 箱" in retailer.get(raised.headers["Location"]).get_data(as_text=True)

    withdrawn = retailer.post(f"/retailer/groupbuys/{campaign.id}/withdraw")
    assert withdrawn.status_code == 303
    html = retailer.get(withdrawn.headers["Location"]).get_data(as_text=True)
    assert "412 / 500 箱" in html and "已退出" in html
    db.session.expire_all()
    assert db.session.get(Order, commitment.order_id).status == "cancelled"


def test_a_bad_quantity_is_shown_next_to_the_field_and_nothing_is_saved(world, retailer):
    campaign = gb.campaign(world.orgs["dealer"], factories.product(), min_per=10)
    db.session.commit()
    for qty, status in (("abc", 400), ("5", 400)):
        response = retailer.post(f"/retailer/groupbuys/{campaign.id}/commit", {"qty": qty})
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert 'id="field-qty"' in html and 'aria-invalid="true"' in html
    assert "每店至少认购 10 箱" in html
    assert db.session.scalar(select(GroupBuyCommitment.id)) is None
    db.session.expire_all()
    assert db.session.get(GroupBuyCampaign, campaign.id).pool_qty == 0


def test_pool_fragment_for_htmx_and_the_full_page_otherwise(world, retailer):
    campaign = gb.campaign(world.orgs["dealer"], factories.product())
    _pooled(world, campaign, 120)
    db.session.commit()
    url = f"/retailer/groupbuys/{campaign.id}/pool"

    fragment = retailer.hx_get(url)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers.get("Vary", "")
    assert html.lstrip().startswith('<section class="card" id="groupbuy-pool"') and "<html" not in html
    assert "120 / 500 箱" in html and "还差 380 箱" in html

    _pooled(world, campaign, 80)  # the next poll shows the new pool and the unlocked tier
    db.session.commit()
    html = retailer.hx_get(url).get_data(as_text=True)
    assert "200 / 500 箱" in html and "¥48.00" in html

    full = retailer.get(url)
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert "200 / 500 箱" in full.get_data(as_text=True) and "我的认购" in full.get_data(as_text=True)


def test_retailer_sees_only_its_territorys_campaigns(world, retailer):
    product = factories.product()
    own = gb.campaign(world.orgs["dealer"], product, name="杭州集单")
    brand_region = gb.campaign(world.brand, product, region=world.regions["zj"], name="浙江全省集单")
    foreign = gb.campaign(world.orgs["dealer_b"], product, name="成都集单")
    foreign_region = gb.campaign(world.brand, product, region=world.regions["sc"], name="四川全省集单")
    draft = gb.campaign(world.orgs["dealer"], product, status="draft", name="草稿集单")
    db.session.commit()

    html = retailer.get("/retailer/groupbuys").get_data(as_text=True)
    assert "杭州集单" in html and "浙江全省集单" in html
    assert "成都集单" not in html and "四川全省集单" not in html and "草稿集单" not in html
    assert retailer.get(f"/retailer/groupbuys/{brand_region.id}").status_code == 200
    for other in (foreign, foreign_region, draft):
        assert retailer.get(f"/retailer/groupbuys/{other.id}").status_code == 404
        assert retailer.hx_get(f"/retailer/groupbuys/{other.id}/pool").status_code == 404
        assert retailer.post(f"/retailer/groupbuys/{other.id}/commit", {"qty": "5"}).status_code == 404
    assert own.pool_qty == 0 and db.session.scalar(select(GroupBuyCommitment.id)) is None


def test_dealer_sees_its_campaigns_and_each_shops_commitment_never_anothers(world, login_as):
    product = factories.product()
    own = gb.campaign(world.orgs["dealer"], product, name="杭州集单")
    shop = _pooled(world, own, 60)
    foreign = gb.campaign(world.orgs["dealer_b"], product, name="成都集单")
    secret = _pooled(world, foreign, 30, "dealer_b", "cd")
    db.session.commit()
    dealer = login_as("dealer")

    listing = dealer.get("/dealer/groupbuys").get_data(as_text=True)
    assert "杭州集单" in listing and "成都集单" not in listing
    detail = dealer.get(f"/dealer/groupbuys/{own.id}").get_data(as_text=True)
    assert shop.name in detail and "60 / 500 箱" in detail
    # Below the minimum the owner reads the tier's price as what applies once the pool forms.
    assert "成团后团购价 <b id=\"groupbuy-owner-price\">" in detail and "当前价" not in detail
    assert secret.name not in detail and secret.name not in listing
    assert dealer.get(f"/dealer/groupbuys/{foreign.id}").status_code == 404
    assert dealer.post(f"/dealer/groupbuys/{foreign.id}/close").status_code == 404


def test_dealer_creates_publishes_and_closes_a_campaign(app, world, login_as):
    product = factories.product()
    db.session.commit()
    dealer = login_as("dealer")
    form = {"name": "春节集单", "product_code": product.code, "starts_at": "2026-01-01T09:00",
            "ends_at": "2099-01-31T20:00", "base_price": "50", "tiers": "200:48, 500:45", "min_pool_qty": "300",
            "min_per_retailer": "1"}

    bad = dealer.post("/dealer/groupbuys/new", dict(form, tiers="500:45, 200:48", ends_at="2025-01-01T08:00"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="field-ends_at"' in html
    assert "结束时间须晚于" in html and db.session.scalar(select(GroupBuyCampaign.id)) is None
    bad = dealer.post("/dealer/groupbuys/new", dict(form, tiers="500:45, 200:48"))
    assert bad.status_code == 400 and "阶梯须按数量从小到大" in bad.get_data(as_text=True)

    created = dealer.post("/dealer/groupbuys/new", form)
    assert created.status_code == 303
    campaign = db.session.scalar(select(GroupBuyCampaign))
    assert (campaign.owner_id, campaign.status, [(t.min_qty, t.unit_price_fen) for t in campaign.tiers]) == \
        (world.orgs["dealer"].id, "draft", [(200, 4800), (500, 4500)])
    assert dealer.post(f"/dealer/groupbuys/{campaign.id}/publish").status_code == 303
    db.session.expire_all()
    assert db.session.get(GroupBuyCampaign, campaign.id).status == "open"

    closed = dealer.post(f"/dealer/groupbuys/{campaign.id}/close")
    assert closed.status_code == 303
    assert "正在结束团购" in dealer.get(closed.headers["Location"]).get_data(as_text=True)
    if app.config.get("REDIS_URL"):  # the close job waits on RQ under its fixed id
        from rq.job import Job

        from app.services.core.redis_conn import redis_connection

        assert Job.fetch(f"groupbuy-close-{campaign.id}", connection=redis_connection()).args[0] == campaign.id
    else:  # inline after the commit: nobody joined, so it failed
        db.session.expire_all()
        assert db.session.get(GroupBuyCampaign, campaign.id).result == "failed"


def test_brand_sees_every_campaign_with_results(world, login_as):
    product = factories.product()
    gb.campaign(world.orgs["dealer"], product, name="杭州集单")
    gb.campaign(world.brand, product, region=world.regions["sc"], name="四川全省集单")
    db.session.commit()
    html = login_as("admin").get("/admin/groupbuys").get_data(as_text=True)
    assert "杭州集单" in html and "四川全省集单" in html and "0 / 500" in html
    assert login_as("admin_b").get("/admin/groupbuys").status_code == 403


@pytest.mark.xdist_group("serial")
def test_a_real_worker_closes_the_campaign_once(app, world, login_as, tmp_path):
    """With Redis, "close now" pressed twice enqueues one job (its fixed id); `flask worker
    --burst` runs it: the pool succeeded and each shop gets one credit note."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: without it the close runs inline (tested above)")
    from tests.test_documents_worker import _finish, _flask

    campaign = gb.campaign(world.orgs["dealer"], factories.product(), min_pool=300)
    _pooled(world, campaign, 150)  # billed at ¥50
    _pooled(world, campaign, 150)  # pool 300: billed at ¥48
    _pooled(world, campaign, 200)  # pool 500: ¥45
    db.session.commit()
    dealer = login_as("dealer")
    for _ in range(2):
        assert dealer.post(f"/dealer/groupbuys/{campaign.id}/close").status_code == 303
    db.session.remove()
    log = tmp_path / "worker.log"
    _finish(_flask(app, ["worker", "--burst"], log), log)
    db.session.rollback()
    closed = db.session.get(GroupBuyCampaign, campaign.id)
    assert (closed.status, closed.result, closed.final_price_fen) == ("closed", "succeeded", 4500)
    assert sorted(db.session.scalars(select(CreditNote.amount_fen))) == [150 * 300, 150 * 500]


def test_dealer_sees_its_own_shops_in_the_brands_campaign_and_nothing_else(world, login_as):
    product = factories.product()
    brand_wide = gb.campaign(world.brand, product, region=world.regions["zj"], name="浙江全省集单")
    mine = _pooled(world, brand_wide, 40)
    db.session.add(factories.DealerTerritory(dealer_id=world.orgs["dealer_b"].id, region_id=world.regions["zj"].id))
    db.session.flush()
    theirs = _pooled(world, brand_wide, 25, dealer_key="dealer_b", region_key="zj")  # routed to its own dealer
    db.session.commit()
    assert db.session.scalar(select(GroupBuyCommitment.seller_id).where(GroupBuyCommitment.retailer_id == theirs.id)) \
        != world.orgs["dealer"].id

    dealer = login_as("dealer")
    listing = dealer.get("/dealer/groupbuys").get_data(as_text=True)
    assert "浙江全省集单" in listing and "品牌团购中您服务的门店" in listing
    page = dealer.get(f"/dealer/groupbuys/{brand_wide.id}/shops")
    assert page.status_code == 200
    assert mine.name in page.get_data(as_text=True) and theirs.name not in page.get_data(as_text=True)
    assert dealer.get(f"/dealer/groupbuys/{brand_wide.id}").status_code == 404  # the brand's desk page
    assert dealer.post(f"/dealer/groupbuys/{brand_wide.id}/close").status_code == 404
    assert login_as("dealer_b").get(f"/dealer/groupbuys/{brand_wide.id}/shops").get_data(as_text=True).count(theirs.name) == 1


def test_a_failed_group_buy_unlocks_no_price_on_the_retailer_page(world, retailer):
    """Closed short of its minimum: the page said "当前团购价 ¥48.00" and "✓ 已解锁" beside the 200-case
    rung although no price applied and every order was cancelled."""
    from app.services.campaigns.groupbuy_close import close_campaign
    campaign = gb.campaign(world.orgs["dealer"], factories.product())
    _pooled(world, campaign, 412)
    db.session.commit()
    close_campaign(campaign.id, world.users["dealer"].id, early=True)
    db.session.commit()
    assert db.session.get(GroupBuyCampaign, campaign.id).result == "failed"
    html = retailer.get(f"/retailer/groupbuys/{campaign.id}").get_data(as_text=True)
    assert "未成团：团购价不生效，认购的订单已取消。" in html
    assert "当前团购价" not in html and "已解锁" not in html and "成团后生效" not in html
