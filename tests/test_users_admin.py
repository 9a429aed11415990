"""User administration at /admin/users: list and search, create, edit, password reset and a
rep's route. What an admin sees, what is stored, and what is audited."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import RepRoute, User
from tests import factories
from tests.builders_users import audit_events, checked_boxes, field_error, fresh_user
from tests.conftest import Client


def user_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(User))


NEW_DEALER = {"username": "dealer-new", "display_name": "王经理", "email": "wang@example.com",
              "role": "dealer", "org_code": "", "password": "first-pass-1"}


# --- list -----------------------------------------------------------------------------------

def test_list_shows_every_user_with_role_and_organisation(login_as, world):
    body = login_as("admin").get("/admin/users").get_data(as_text=True)
    for username in ("admin1", "dealer1", "dealer2", "retailer1", "rep2"):
        assert f">{username}</a>" in body
    assert "成都经销商" in body and "经销商" in body and "业务员" in body
    assert "共 8 个用户" in body


def test_search_by_username_or_display_name(login_as, world):
    world.users["retailer"].display_name = "张小卖"
    db.session.commit()
    c = login_as("admin")
    body = c.get("/admin/users?q=dealer").get_data(as_text=True)
    assert ">dealer1</a>" in body and ">dealer2</a>" in body and ">retailer1</a>" not in body
    body = c.get("/admin/users?q=张小").get_data(as_text=True)
    assert ">retailer1</a>" in body and "共 1 个用户" in body
    # LIKE wildcards are searched for literally
    assert "没有符合条件的用户。" in c.get("/admin/users?q=%25").get_data(as_text=True)


def test_filter_by_role_and_ignore_an_unknown_role(login_as, world):
    c = login_as("admin")
    body = c.get("/admin/users?role=rep").get_data(as_text=True)
    assert ">rep1</a>" in body and ">rep2</a>" in body and ">dealer1</a>" not in body
    assert "共 1 个用户" in c.get("/admin/users?role=rep&q=rep2").get_data(as_text=True)
    response = c.get("/admin/users?role=superuser")
    assert response.status_code == 200
    assert "共 8 个用户" in response.get_data(as_text=True)


def test_list_is_paginated(login_as, world, app):
    for n in range(app.config["PAGE_SIZE"] + 2):
        factories.user("retailer", world.orgs["retailer"], f"shop{n:03d}")
    db.session.commit()
    c = login_as("admin")
    first = c.get("/admin/users?role=retailer").get_data(as_text=True)
    assert "第 1 / 2 页" in first and ">shop000</a>" in first and ">shop051</a>" not in first
    second = c.get("/admin/users?role=retailer&page=2").get_data(as_text=True)
    assert ">shop051</a>" in second and ">shop000</a>" not in second
    assert 'rel="prev"' in second and "role=retailer" in second


def test_list_answers_htmx_with_the_table_only(login_as, world):
    c = login_as("admin")
    fragment = c.hx_get("/admin/users?q=rep")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert body.lstrip().startswith('<div id="users-table">') and "<html" not in body
    assert ">rep1</a>" in body and ">dealer1</a>" not in body
    assert "HX-Request" in fragment.headers["Vary"]
    page = c.get("/admin/users?q=rep")
    assert "<html" in page.get_data(as_text=True) and 'id="users-table"' in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]


def test_admin_without_the_users_permission_is_refused(login_as, world):
    c = login_as("admin_b")
    assert c.get("/admin/users").status_code == 403
    assert c.post("/admin/users/new", dict(NEW_DEALER, org_code=world.orgs["dealer"].code)).status_code == 403
    assert user_count() == 8
    assert "/admin/users" not in c.get("/admin/").get_data(as_text=True)  # no nav link either


# --- create ---------------------------------------------------------------------------------

def test_create_a_dealer_user(login_as, world):
    c = login_as("admin")
    response = c.post("/admin/users/new", dict(NEW_DEALER, org_code=world.orgs["dealer"].code.lower(),
                                                permissions=["catalog"]))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "dealer-new"))
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert (user.role, user.org_id, user.display_name, user.email) == (
        "dealer", world.orgs["dealer"].id, "王经理", "wang@example.com")
    assert user.permissions == ""  # permissions belong to admins only
    assert user.password_hash.startswith("$argon2id$") and "first-pass-1" not in user.password_hash
    assert "已创建用户 dealer-new。" in c.get(response.headers["Location"]).get_data(as_text=True)
    [event] = audit_events("user.create", user.id)
    assert event.actor_id == world.users["admin"].id and event.after["username"] == "dealer-new"
    assert "password_hash" not in event.after
    # the new user can sign in and lands on the dealer home
    assert Client(c.app).login("dealer-new", "first-pass-1").headers["Location"] == "/dealer/"


def test_create_an_admin_with_permissions(login_as, world):
    c = login_as("admin")
    page = c.get("/admin/users/new").get_data(as_text=True)
    for label in ("商品", "价格", "订单", "库存", "营销", "报表", "用户"):
        assert f" {label}</label>" in page
    response = c.post("/admin/users/new", {
        "username": "analyst", "role": "admin", "org_code": "BRAND", "password": "analyst-pass",
        "permissions": ["users", "reports"]})
    assert response.status_code == 303
    assert db.session.scalar(select(User.permissions).where(User.username == "analyst")) == "reports users"


@pytest.mark.parametrize("role, org_key, message", [
    ("dealer", "retailer", "经销商用户必须属于经销商组织。"),
    ("retailer", "dealer", "零售商用户必须属于零售商组织。"),
    ("admin", "dealer", "品牌管理员和业务员必须属于品牌总部。"),
    ("rep", "retailer", "品牌管理员和业务员必须属于品牌总部。"),
])
def test_create_refuses_an_organisation_of_the_wrong_kind(login_as, world, role, org_key, message):
    c = login_as("admin")
    response = c.post("/admin/users/new", dict(NEW_DEALER, role=role, org_code=world.orgs[org_key].code))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert field_error(body, "org_code") == message
    assert 'value="dealer-new"' in body  # what was typed is kept
    assert user_count() == 8 and audit_events("user.create") == []


@pytest.mark.parametrize("changes, field, message", [
    ({"org_code": "NOPE"}, "org_code", "找不到该编码的组织。"),
    ({"username": "dealer1"}, "username", "用户名已存在。"),
    ({"username": "DEALER1"}, "username", "用户名已存在。"),
    ({"username": "bad name!"}, "username", "只能使用字母、数字、点、下划线和连字符。"),
    ({"password": "short"}, "password", None),
    ({"email": "not-an-email"}, "email", "请输入有效的电子邮箱。"),
    ({"role": "superuser"}, "role", None),
    ({"permissions": ["everything"]}, "permissions", None),
])
def test_create_with_bad_input_shows_the_error_next_to_the_field(login_as, world, changes, field, message):
    c = login_as("admin")
    data = dict(NEW_DEALER, org_code=world.orgs["dealer"].code)
    data.update(changes)
    response = c.post("/admin/users/new", data)
    assert response.status_code == 400
    error = field_error(response.get_data(as_text=True), field)
    assert error, f"no error next to {field}"
    if message:
        assert error == message
    assert user_count() == 8


def test_create_over_htmx_redirects_with_hx_redirect(login_as, world):
    c = login_as("admin")
    response = c.post("/admin/users/new", dict(NEW_DEALER, org_code=world.orgs["dealer"].code), htmx=True)
    assert response.status_code == 204
    user_id = db.session.scalar(select(User.id).where(User.username == "dealer-new"))
    assert response.headers["HX-Redirect"] == f"/admin/users/{user_id}"


# --- edit -----------------------------------------------------------------------------------

def test_edit_page_shows_the_user(login_as, world):
    c = login_as("admin")
    body = c.get(f"/admin/users/{world.users['admin_b'].id}").get_data(as_text=True)
    assert "<h1>admin2" in body and 'name="display_name"' in body and 'name="permissions"' in body
    assert c.get("/admin/users/99999").status_code == 404
    dealer_page = c.get(f"/admin/users/{world.users['dealer'].id}").get_data(as_text=True)
    assert 'name="permissions"' not in dealer_page and 'id="routes"' not in dealer_page
    assert "杭州经销商" in dealer_page


def test_edit_saves_profile_and_permissions_with_an_audit_event(login_as, world):
    c = login_as("admin")
    target = world.users["admin_b"]
    response = c.post(f"/admin/users/{target.id}", {
        "display_name": "李分析", "email": "li@example.com", "active": "y", "permissions": ["reports", "catalog"]})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{target.id}"
    user = fresh_user(target.id)
    assert (user.display_name, user.email, user.permissions, user.active) == (
        "李分析", "li@example.com", "catalog reports", True)
    [event] = audit_events("user.update", target.id)
    assert event.before == {"display_name": "", "email": None, "permissions": ""}
    assert event.after == {"display_name": "李分析", "email": "li@example.com", "permissions": "catalog reports"}
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存用户 admin2。" in page
    assert checked_boxes(page, "permissions") == {"catalog", "reports"}


def test_deactivating_a_user_ends_their_sessions_and_blocks_login(login_as, world):
    dealer_client = login_as("dealer")
    assert dealer_client.get("/dealer/").status_code == 200
    c = login_as("admin")
    response = c.post(f"/admin/users/{world.users['dealer'].id}", {"display_name": "", "email": ""})  # active unticked
    assert response.status_code == 303
    assert fresh_user(world.users["dealer"].id).active is False
    kicked = dealer_client.get("/dealer/")
    assert kicked.status_code == 302 and kicked.headers["Location"].startswith("/login?next=")
    assert Client(c.app).login("dealer1").status_code == 401
    [event] = audit_events("user.update", world.users["dealer"].id)
    assert event.before == {"active": True} and event.after == {"active": False}


def test_an_admin_cannot_lock_themselves_out(login_as, world):
    c = login_as("admin")
    me = world.users["admin"].id
    response = c.post(f"/admin/users/{me}", {"active": "y", "permissions": ["catalog"]})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "permissions") == "不能取消自己的用户管理权限。"
    response = c.post(f"/admin/users/{me}", {"permissions": ["users"]})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "active") == "不能停用自己的账号。"
    user = fresh_user(me)
    assert user.active and "users" in user.permission_set and audit_events("user.update") == []


def test_edit_with_a_bad_email_changes_nothing(login_as, world):
    c = login_as("admin")
    target = world.users["rep"]
    response = c.post(f"/admin/users/{target.id}", {"display_name": "新名字", "email": "nope", "active": "y"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "email") == "请输入有效的电子邮箱。"
    assert fresh_user(target.id).display_name == ""


def test_saving_without_changes_writes_no_audit_event(login_as, world):
    c = login_as("admin")
    target = world.users["rep"]
    assert c.post(f"/admin/users/{target.id}", {"display_name": "", "email": "", "active": "y"}).status_code == 303
    assert audit_events("user.update") == []


# --- password reset -------------------------------------------------------------------------

def test_reset_password_ends_the_users_sessions(login_as, world):
    dealer_client = login_as("dealer")
    c = login_as("admin")
    target = world.users["dealer"]
    response = c.post(f"/admin/users/{target.id}/password", {"new_password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{target.id}"
    assert "已重置 dealer1 的密码" in c.get(response.headers["Location"]).get_data(as_text=True)
    assert dealer_client.get("/dealer/").status_code == 302
    assert Client(c.app).login("dealer1").status_code == 401  # the old password
    assert Client(c.app).login("dealer1", "brand-new-pass").status_code == 303
    [event] = audit_events("user.password_reset", target.id)
    assert event.actor_id == world.users["admin"].id
    assert "brand-new-pass" not in str(event.before) + str(event.after)


@pytest.mark.parametrize("data, field, message", [
    ({"new_password": "brand-new-pass", "confirm": "other-pass-1"}, "confirm", "两次输入的密码不一致。"),
    ({"new_password": "short", "confirm": "short"}, "new_password", None),
])
def test_reset_password_with_bad_input(login_as, world, data, field, message):
    c = login_as("admin")
    target = world.users["dealer"]
    before = target.password_hash
    response = c.post(f"/admin/users/{target.id}/password", data)
    assert response.status_code == 400
    error = field_error(response.get_data(as_text=True), field)
    assert error and (message is None or error == message)
    user = fresh_user(target.id)
    assert user.password_hash == before and user.session_version == 1


def test_an_admin_resets_their_own_password_elsewhere(login_as, world):
    c = login_as("admin")
    me = world.users["admin"].id
    response = c.post(f"/admin/users/{me}/password", {"new_password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "new_password") == "请通过“修改密码”修改自己的密码。"
    assert c.get("/admin/").status_code == 200


# --- rep routes -----------------------------------------------------------------------------

def routes_of(rep_id: int) -> list[tuple[int, int]]:
    db.session.expire_all()
    return list(db.session.execute(select(RepRoute.retailer_id, RepRoute.weekday)
                                   .where(RepRoute.rep_id == rep_id).order_by(RepRoute.retailer_id)).tuples())


def test_rep_page_lists_the_route(login_as, world):
    body = login_as("admin").get(f"/admin/users/{world.users['rep'].id}").get_data(as_text=True)
    assert 'id="routes"' in body and "西湖小卖部" in body and "周一" in body and "锦江便利店" not in body


def test_assign_a_retailer_to_a_rep_and_move_it_to_another_day(login_as, world):
    c = login_as("admin")
    rep = world.users["rep"]
    retailer_b = world.orgs["retailer_b"]
    url = f"/admin/users/{rep.id}/routes"
    response = c.post(url, {"retailer_code": retailer_b.code, "weekday": "2"})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{rep.id}#routes"
    assert (retailer_b.id, 2) in routes_of(rep.id)
    page = c.get(f"/admin/users/{rep.id}").get_data(as_text=True)
    assert "锦江便利店" in page and "周三" in page and "已更新拜访路线。" in page
    [created] = audit_events("rep_route.create")
    assert created.after == {"rep_id": rep.id, "retailer_id": retailer_b.id, "weekday": 2}

    assert c.post(url, {"retailer_code": retailer_b.code, "weekday": "4"}).status_code == 303
    assert routes_of(rep.id) == [(world.orgs["retailer"].id, 0), (retailer_b.id, 4)]
    [moved] = audit_events("rep_route.update")
    assert moved.before == {"weekday": 2} and moved.after == {"weekday": 4}


@pytest.mark.parametrize("data, field, message", [
    ({"retailer_code": "NOPE", "weekday": "1"}, "retailer_code", "找不到该编码的零售商。"),
    ({"retailer_code": "dealer", "weekday": "1"}, "retailer_code", "找不到该编码的零售商。"),
    ({"retailer_code": "retailer_b", "weekday": "9"}, "weekday", None),
    ({"retailer_code": "", "weekday": "1"}, "retailer_code", None),
])
def test_assign_route_with_bad_input(login_as, world, data, field, message):
    c = login_as("admin")
    rep = world.users["rep"]
    if data["retailer_code"] in world.orgs:
        data = dict(data, retailer_code=world.orgs[data["retailer_code"]].code)
    response = c.post(f"/admin/users/{rep.id}/routes", data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    error = field_error(body, field)
    assert error and (message is None or error == message)
    assert 'id="routes"' in body and routes_of(rep.id) == [(world.orgs["retailer"].id, 0)]
    assert audit_events("rep_route.create") == []


def test_only_reps_have_routes(login_as, world):
    c = login_as("admin")
    dealer = world.users["dealer"]
    response = c.post(f"/admin/users/{dealer.id}/routes", {"retailer_code": world.orgs["retailer"].code,
                                                           "weekday": "1"})
    assert response.status_code == 400
    assert routes_of(dealer.id) == []


def test_remove_a_retailer_from_the_route(login_as, world):
    c = login_as("admin")
    rep = world.users["rep"]
    route_id = db.session.scalar(select(RepRoute.id).where(RepRoute.rep_id == rep.id))
    response = c.post(f"/admin/users/{rep.id}/routes/{route_id}/delete", {"confirmed": "1"})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{rep.id}#routes"
    assert routes_of(rep.id) == []
    assert "尚未分配零售商。" in c.get(f"/admin/users/{rep.id}").get_data(as_text=True)
    [event] = audit_events("rep_route.delete", route_id)
    assert event.before["retailer_id"] == world.orgs["retailer"].id and event.after is None


def test_a_route_is_removed_only_through_its_own_rep(login_as, world):
    c = login_as("admin")
    other_route = db.session.scalar(select(RepRoute.id).where(RepRoute.rep_id == world.users["rep_b"].id))
    response = c.post(f"/admin/users/{world.users['rep'].id}/routes/{other_route}/delete", {"confirmed": "1"})
    assert response.status_code == 404
    assert routes_of(world.users["rep_b"].id) == [(world.orgs["retailer_b"].id, 0)]


def test_route_forms_need_a_csrf_token(login_as, world):
    c = login_as("admin")
    rep = world.users["rep"]
    route_id = db.session.scalar(select(RepRoute.id).where(RepRoute.rep_id == rep.id))
    assert c.post(f"/admin/users/{rep.id}/routes/{route_id}/delete", {"confirmed": "1"}, csrf=False).status_code == 400
    assert len(routes_of(rep.id)) == 1
