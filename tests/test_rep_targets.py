"""Monthly targets: admins (permission "users" or "reports") set them, every change audited; the
rep sees this month's orders against the target (rejected and cancelled orders and other months
left out)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent
from app.models.visits import RepTarget
from app.services.field_sales import targets as rep_targets
from tests import builders_rep as br
from tests import factories


def text(response):
    return response.get_data(as_text=True)


def targets():
    return _db.session.execute(select(RepTarget.rep_id, RepTarget.month, RepTarget.target_fen)).all()


def test_admin_sets_and_changes_a_target_and_it_is_audited(world, login_as, db):
    admin, rep_user = login_as("admin"), world.users["rep"]
    page = text(admin.get("/admin/reps/targets?month=2026-11"))
    assert "2026 年 11 月" in page and rep_user.username in page
    response = admin.post("/admin/reps/targets?month=2026-11",
                          {"rep_id": rep_user.id, "month": "2026-11", "target": "50,000.00"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/reps/targets?month=2026-11"
    admin.post("/admin/reps/targets", {"rep_id": rep_user.id, "month": "2026-11", "target": "60000"})
    month = rep_targets.parse_month("2026-11")
    assert targets() == [(rep_user.id, month, 6_000_000)]
    events = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rep_target.set")
                                 .order_by(AuditEvent.id)).all()
    assert [e.after["target_fen"] for e in events] == [5_000_000, 6_000_000]
    assert events[1].before["target_fen"] == 5_000_000 and events[1].actor_id == world.users["admin"].id
    listing = text(admin.get("/admin/reps/targets?month=2026-11"))
    assert "¥60,000.00" in listing and "目标已保存" in listing


@pytest.mark.parametrize("data, field, message", [
    ({"rep_id": "0", "month": "2026-11", "target": "100"}, "rep_id", "请选择业务员。"),
    ({"month": "2026-11", "target": "100"}, "rep_id", "请选择业务员。"),
    ({"rep_id": "REP", "month": "2026-13", "target": "100"}, "month", "请输入月份，例如 2026-01。"),
    ({"rep_id": "REP", "month": "下个月", "target": "100"}, "month", "请输入月份，例如 2026-01。"),
    ({"rep_id": "REP", "month": "2026-11", "target": "-5"}, "target", "金额不能为负数。"),
    ({"rep_id": "REP", "month": "2026-11", "target": "1.234"}, "target", "金额最多两位小数。"),
    ({"rep_id": "REP", "month": "2026-11", "target": ""}, "target", "请输入金额。"),
])
def test_bad_target_input_shows_the_message_next_to_the_field(world, login_as, db, data, field, message):
    data = {name: world.users["rep"].id if value == "REP" else value for name, value in data.items()}
    response = login_as("admin").post("/admin/reps/targets", data)
    body = text(response)
    assert response.status_code == 400
    block = body.split(f'id="field-{field}"')[1].split("</div>")[0]
    assert message in block and 'aria-invalid="true"' in block
    assert targets() == []


def test_a_user_who_is_not_a_rep_cannot_get_a_target(world, login_as, db):
    response = login_as("admin").post("/admin/reps/targets", {"rep_id": world.users["dealer"].id, "month": "2026-11",
                                                              "target": "100"})
    assert response.status_code == 400 and "请选择业务员。" in text(response) and targets() == []


def test_targets_need_the_users_or_reports_permission(world, login_as, db):
    reporter = factories.user("admin", world.brand, "analyst", permissions="reports")
    _db.session.commit()
    assert login_as("admin_b").get("/admin/reps/targets").status_code == 403
    assert login_as("admin_b").post("/admin/reps/targets", {"rep_id": world.users["rep"].id, "month": "2026-11",
                                                            "target": "1"}).status_code == 403
    analyst = login_as("admin").__class__(login_as("admin").app)
    analyst.login(reporter.username)
    assert analyst.get("/admin/reps/targets").status_code == 200
    assert "业务员目标" in text(analyst.get("/admin/"))
    assert "业务员目标" not in text(login_as("admin_b").get("/admin/"))
    assert targets() == []


def test_progress_counts_the_reps_real_orders_of_the_month(world, login_as, db, monkeypatch):
    rep_user, shop, dealer = world.users["rep"], world.orgs["retailer"], world.orgs["dealer"]
    monkeypatch.setattr("app.services.field_sales.targets.today_local", lambda: datetime(2026, 11, 24).date())
    product = factories.product(base_price_fen=10_000)
    # 1 Nov 00:30 in Shanghai is still 31 Oct in UTC: it counts for November
    br.order_at(shop, dealer, [(product, 3)], datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc), placed_by=rep_user)
    br.order_at(shop, dealer, [(product, 2)], datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc), placed_by=rep_user)
    br.order_at(shop, dealer, [(product, 9)], datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc), placed_by=rep_user,
                status="cancelled")
    br.order_at(shop, dealer, [(product, 7)], datetime(2026, 10, 31, 15, 30, tzinfo=timezone.utc), placed_by=rep_user)
    br.order_at(shop, dealer, [(product, 4)], datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc),
                placed_by=world.users["rep_b"])
    br.target(rep_user, datetime(2026, 11, 1).date(), 1_000_000)
    _db.session.commit()
    progress = rep_targets.month_progress(rep_user)
    assert (progress.achieved_fen, progress.order_count, progress.percent, progress.remaining_fen) == (
        50_000, 2, 5, 950_000)
    for url in ("/rep/", "/rep/orders"):
        page = text(login_as("rep").get(url))
        assert "2026 年 11 月业绩" in page and "¥500.00" in page and "/ ¥10,000.00" in page and "完成 5%" in page
    admin_page = text(login_as("admin").get("/admin/reps/targets?month=2026-11"))
    row = admin_page.split(rep_user.username)[1].split("</tr>")[0]
    assert "¥10,000.00" in row and "¥500.00" in row and "5%" in row


def test_without_a_target_the_rep_sees_what_was_sold(world, login_as, db):
    page = text(login_as("rep").get("/rep/"))
    assert "本月还没有设定目标" in page and "¥0.00" in page


@pytest.mark.parametrize("text_in, expected", [("2026-01", (2026, 1)), ("2026-1", (2026, 1)), ("2026-12", (2026, 12)),
                                               ("2026-13", None), ("", None), ("1999-05", None), ("abc", None)])
def test_parse_month(text_in, expected):
    parsed = rep_targets.parse_month(text_in)
    assert (parsed.year, parsed.month) == expected if expected else parsed is None


def test_month_arithmetic():
    dec, jan = rep_targets.parse_month("2026-12"), rep_targets.parse_month("2027-01")
    assert rep_targets.next_month(dec) == jan and rep_targets.previous_month(jan) == dec
