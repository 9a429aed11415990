"""The notification centre of every role: the list (all / unread, paged), mark one or all read in
place with htmx or by plain POST, following a notice's link, another user's notice is a 404, and
the unread badge in every layout costs one COUNT per full page and nothing per fragment."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Notification
from app.services import notifications
from app.services.notifications import Subject
from tests import builders_ordering as b
from tests import builders_rep as br

ROLES = ("admin", "dealer", "retailer", "rep")
HOME = {"admin": "/admin/", "dealer": "/dealer/", "retailer": "/retailer/", "rep": "/rep/"}
# A notice each role can follow, and the page it leads to (made for the role when shown).
FOLLOW = {"admin": (Subject("sales_order", 77), "/admin/orders/77"),
          "dealer": (Subject("sales_order", 77), "/dealer/orders/77"),
          "retailer": (Subject("order", 77), "/retailer/orders/77"),
          "rep": (Subject("order", 77), "/rep/orders/77")}


def text(response):
    return response.get_data(as_text=True)


def badge(page: str) -> str:
    """What the nav's badge shows ("" when nothing is unread)."""
    match = re.search(r'<span id="notification-badge">(.*?)</span></a>', page, re.S)
    assert match, "the layout has the notification badge"
    number = re.search(r">([^<]+)</span>$", match.group(1))
    return number.group(1) if number else ""


def is_read(notice_id: int) -> bool:
    return _db.session.scalar(select(Notification.read_at).where(Notification.id == notice_id)) is not None


@pytest.fixture(params=ROLES)
def role(request):
    return request.param


@pytest.fixture
def mine(world, role):
    """Two unread notices and a read one for the role's user, one unread notice for the other
    user of the same role."""
    user, other = world.users[role], world.users[f"{role}_b"]
    notices = {"first": br.notification(user, "第一条通知"), "second": br.notification(user, "第二条通知", FOLLOW[role][0]),
               "old": br.notification(user, "已读的旧通知", read=True), "theirs": br.notification(other, "别人的通知")}
    _db.session.commit()
    return notices


def test_the_list_shows_the_callers_notifications_and_the_badge(role, mine, login_as):
    c = login_as(role)
    page = text(c.get(f"/{role}/notifications/"))
    assert "第一条通知" in page and "第二条通知" in page and "已读的旧通知" in page and "别人的通知" not in page
    assert badge(page) == "2" and "未读（2）" in page
    assert badge(text(c.get(HOME[role]))) == "2"
    unread = text(c.get(f"/{role}/notifications/?unread=1"))
    assert "第一条通知" in unread and "已读的旧通知" not in unread
    fragment = c.hx_get(f"/{role}/notifications/?unread=1")
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert text(fragment).lstrip().startswith('<div id="notifications"') and "第一条通知" in text(fragment)


def test_mark_read_without_js(role, mine, login_as, world):
    c = login_as(role)
    c.get(f"/{role}/notifications/")
    response = c.post(f"/{role}/notifications/{mine['first'].id}/read")
    assert response.status_code == 303 and response.headers["Location"] == f"/{role}/notifications/"
    assert is_read(mine["first"].id) and notifications.unread_count(world.users[role]) == 1
    assert badge(text(c.get(f"/{role}/notifications/"))) == "1"


def test_mark_read_with_htmx_swaps_the_item_and_the_badge(role, mine, login_as, world):
    c = login_as(role)
    response = c.post(f"/{role}/notifications/{mine['first'].id}/read", htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    item = body.split("</li>")[0]
    assert f'id="notice-{mine["first"].id}"' in item and "第一条通知" in item and "标为已读" not in item
    assert re.search(r'<span id="notification-badge" hx-swap-oob="innerHTML"><span class="badge"[^>]*>1</span>', body)
    bar = body.split('id="notification-actions"')[1].split("</div>")[0]
    assert bar.startswith(' hx-swap-oob="true"') and "未读（1）" in bar and "全部标为已读" in bar
    c.post(f"/{role}/notifications/{mine['second'].id}/read", htmx=True)
    last = text(c.post(f"/{role}/notifications/{mine['second'].id}/read", htmx=True))  # already read: no change
    assert '<span id="notification-badge" hx-swap-oob="innerHTML"></span>' in last
    assert "未读（0）" in last and "全部标为已读" not in last
    assert notifications.unread_count(world.users[role]) == 0


def test_marking_read_in_the_unread_list_keeps_the_filter(role, mine, login_as):
    c = login_as(role)
    page = text(c.get(f"/{role}/notifications/?unread=1"))
    assert f'action="/{role}/notifications/{mine["first"].id}/read?unread=1"' in page
    response = c.post(f"/{role}/notifications/{mine['first'].id}/read?unread=1")
    assert response.status_code == 303 and response.headers["Location"] == f"/{role}/notifications/?unread=1"
    remaining = text(c.get(response.headers["Location"]))
    assert "第一条通知" not in remaining and "第二条通知" in remaining


def test_following_a_notice_marks_it_read_and_goes_to_its_link(role, mine, login_as):
    c = login_as(role)
    page = FOLLOW[role][1]
    plain = c.post(f"/{role}/notifications/{mine['second'].id}/read", {"follow": "1"})
    assert plain.status_code == 303 and plain.headers["Location"] == page and is_read(mine["second"].id)
    hx = c.post(f"/{role}/notifications/{mine['second'].id}/read", {"follow": "1"}, htmx=True)
    assert hx.status_code == 204 and hx.headers["HX-Redirect"] == page


@pytest.mark.parametrize("about", [None, Subject("stock", 1, 1), Subject("sales_order", 1), Subject("gone", 1)])
def test_a_notice_with_no_page_for_the_role_is_not_followed(world, login_as, about):
    """A notice stores no URL: the link is made for the role from the subject, or there is none."""
    notice = br.notification(world.users["rep"], "钓鱼", about)
    _db.session.commit()
    response = login_as("rep").post(f"/rep/notifications/{notice.id}/read", {"follow": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/rep/notifications/"


def test_mark_all_read_without_js_and_with_htmx(role, mine, login_as, world):
    c = login_as(role)
    response = c.post(f"/{role}/notifications/read-all")
    assert response.status_code == 303 and response.headers["Location"] == f"/{role}/notifications/"
    page = text(c.get(response.headers["Location"]))
    assert "已将 2 条通知标为已读" in page and badge(page) == "" and "全部标为已读" not in page
    assert notifications.unread_count(world.users[role]) == 0
    assert not is_read(mine["theirs"].id)  # only the caller's own

    br.notification(world.users[role], "又一条")
    _db.session.commit()
    hx = c.post(f"/{role}/notifications/read-all?unread=1", htmx=True)
    body = text(hx)
    assert hx.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="notifications"')
    assert "已将 1 条通知标为已读" in body and "没有未读通知" in body
    assert '<span id="notification-badge" hx-swap-oob="innerHTML"></span>' in body


def test_another_users_notification_is_not_found(role, mine, login_as):
    c = login_as(role)
    for htmx in (False, True):
        for data in ({}, {"follow": "1"}):
            response = c.post(f"/{role}/notifications/{mine['theirs'].id}/read", data, htmx=htmx)
            assert response.status_code == 404 and "别人的通知" not in text(response)
    assert not is_read(mine["theirs"].id)


def test_the_list_is_paged(world, login_as, app):
    user = world.users["retailer"]
    for n in range(app.config["PAGE_SIZE"] + 3):
        br.notification(user, f"分页通知{n:03d}")
    _db.session.commit()
    c = login_as("retailer")
    first = text(c.get("/retailer/notifications/"))
    assert 'href="/retailer/notifications/?page=2"' in first and badge(first) == "53"
    second = text(c.hx_get("/retailer/notifications/?page=2"))
    assert second.count('class="card notice') == 3 and "<html" not in second


def test_a_hundred_unread_shows_99_plus(world, login_as):
    for n in range(100):
        br.notification(world.users["dealer"], f"通知{n}")
    _db.session.commit()
    assert badge(text(login_as("dealer").get("/dealer/"))) == "99+"


def _notification_queries(statements):
    return [s for s in statements if "notifications" in s]


@pytest.mark.parametrize("url, fragment", [("/rep/", False), ("/rep/orders", False), ("/rep/?day=2", True),
                                           ("/retailer/catalog", False), ("/dealer/", False), ("/admin/", False)])
def test_the_badge_costs_one_count_per_full_page_and_none_per_fragment(world, login_as, url, fragment):
    role = url.split("/")[1]
    for n in range(30):
        br.notification(world.users[role], f"通知{n}")
    _db.session.commit()
    c = login_as(role)
    with b.count_queries() as queries:
        response = c.hx_get(url) if fragment else c.get(url)
    assert response.status_code == 200
    counted = _notification_queries(queries.statements)
    if fragment:
        assert counted == [] and "notification-badge" not in text(response)
    else:
        assert len(counted) == 1 and "count(" in counted[0].lower() and badge(text(response)) == "30"


def test_the_badge_endpoint_for_htmx(world, login_as):
    br.notification(world.users["rep"], "一条")
    _db.session.commit()
    c = login_as("rep")
    assert text(c.hx_get("/rep/notifications/badge")).strip().endswith(">1</span>")
    assert c.get("/rep/notifications/badge").status_code == 302
