"""The marketing admin's promotion pages: list with budget use and orders, create and edit with
errors next to the fields (nothing saved), the window typed in Shanghai time, audit events, and
the permission."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CouponCode, Promotion
from tests import factories


@pytest.fixture
def marketing(world, login_as):
    world.users["admin"].permissions = "marketing"
    db.session.commit()
    return login_as("admin")


def form(**kw):
    values = dict(code="cny-2027", name="春节满减", kind="spend_off", lane="order", ladder="3000:300, 5000:600",
                  basis="discounted", starts_at="2027-01-20T00:00", ends_at="2027-02-05T00:00", status="active",
                  funding="shared", brand_share_pct="60", product_codes="", channels="")
    values.update(kw)
    return values


def test_create_then_list_then_edit(marketing, world):
    created = marketing.post("/admin/promotions/new", form())
    assert created.status_code in (302, 303), created.get_data(as_text=True)[-2000:]
    row = db.session.scalar(select(Promotion))
    assert (row.code, row.rule) == ("CNY2027", {"ladder": [[300_000, 30_000], [500_000, 60_000]], "basis": "discounted"})
    assert row.starts_at.isoformat() == "2027-01-19T16:00:00+00:00"  # Shanghai midnight
    assert (row.funding, row.brand_share_pct) == ("shared", 60)
    page = marketing.get("/admin/promotions").get_data(as_text=True)
    assert "CNY2027" in page and "春节满减" in page and "2027-01-20 00:00" in page
    edit = marketing.get(f"/admin/promotions/{row.id}/edit").get_data(as_text=True)
    assert 'value="3000:300, 5000:600"' in edit
    updated = marketing.post(f"/admin/promotions/{row.id}/edit", form(name="春节满减（加码）", status="paused"))
    assert updated.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Promotion, row.id).status == "paused"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "promotion")).all()
    assert sorted(actions) == ["promotion.create", "promotion.update"]


@pytest.mark.parametrize("changes, field, message", [
    (dict(ladder="3000:3000"), "ladder", "减免金额须小于门槛金额"),
    (dict(ladder="abc"), "ladder", "每档写成"),
    (dict(ends_at="2027-01-01T00:00"), "ends_at", "结束时间须晚于开始时间"),
    (dict(product_codes="NOPE1"), "product_codes", "没有这些商品编码"),
    (dict(kind="percent_off", percent="120"), "percent", "之间的整数"),
    (dict(kind="buy_x_get_y", buy="10", get="1", gift_product="ZZZ"), "gift_product", "赠品商品不存在"),
    (dict(funding="shared", brand_share_pct="150"), "brand_share_pct", ""),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(marketing, changes, field, message):
    response = marketing.post("/admin/promotions/new", form(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-msg"' in page and message in page
    assert db.session.scalar(select(func.count()).select_from(Promotion)) == 0


def test_a_coupon_promotion_gets_its_shared_code(marketing):
    response = marketing.post("/admin/promotions/new", form(lane="coupon", ladder="100:10", coupon_code="new year"))
    assert response.status_code in (302, 303)
    assert db.session.scalar(select(CouponCode.code)) == "NEWYEAR"


def test_an_admin_without_marketing_is_refused(world, login_as):
    client = login_as("admin")
    world.users["admin"].permissions = "catalog"
    db.session.commit()
    assert client.get("/admin/promotions").status_code == 403
    assert client.post("/admin/promotions/new", form()).status_code == 403


def test_a_dealer_manages_only_its_own_promotions(world, login_as):
    dealer = login_as("dealer")
    created = dealer.post("/dealer/promotions/new", form(code="D-OWN", funding="brand"))
    assert created.status_code in (302, 303)
    own = db.session.scalar(select(Promotion).where(Promotion.code == "DOWN"))
    assert (own.owner_id, own.funding) == (world.orgs["dealer"].id, "dealer")  # always its own money
    other = login_as("dealer_b")
    assert "DOWN" not in other.get("/dealer/promotions").get_data(as_text=True)
    assert other.get(f"/dealer/promotions/{own.id}/edit").status_code == 404
    assert other.post(f"/dealer/promotions/{own.id}/edit", form(code="D-OWN", name="抢来的")).status_code == 404
    assert "DOWN" in dealer.get("/dealer/promotions").get_data(as_text=True)


def test_an_admin_editing_a_dealers_promotion_keeps_its_owner(world, login_as, marketing):
    dealer = login_as("dealer")
    dealer.post("/dealer/promotions/new", form(code="D-OWN"))
    own = db.session.scalar(select(Promotion).where(Promotion.code == "DOWN"))
    assert marketing.post(f"/admin/promotions/{own.id}/edit", form(code="D-OWN", status="paused")).status_code in (302, 303)
    db.session.expire_all()
    row = db.session.get(Promotion, own.id)
    assert (row.owner_id, row.funding, row.status) == (world.orgs["dealer"].id, "dealer", "paused")


def test_saving_reports_overlapping_live_promotions_and_who_wins(marketing):
    marketing.post("/admin/promotions/new", form(code="A1", priority="5"))
    marketing.post("/admin/promotions/new", form(code="B1", channels="supermarket"))  # overlaps A1 (A1: every channel)
    marketing.post("/admin/promotions/new", form(code="C1", starts_at="2027-03-01T00:00", ends_at="2027-03-02T00:00"))
    page = marketing.get("/admin/promotions").get_data(as_text=True)
    assert "与进行中的促销重叠" in page and "A1（对方优先级更高，对方胜出）" in page
    assert "C1（" not in page
