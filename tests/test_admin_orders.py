"""The brand's order desk: review queue with reasons, list by status, an order's page with its
events, the decisions (with and without htmx, bad input next to the field, nothing saved), a
re-check, the approval rules page; other sellers' orders are not found; permissions."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Order
from app.models.approval import ApprovalPolicy, OrderReviewReason
from app.models.credit import CreditProfile
from app.services.approval import automatic as approval
from tests import builders_lifecycle as b
from tests import factories

SEEN_RE = re.compile(r'name="seen" type="hidden" value="([^"]*)"|name="seen" value="([^"]*)"')


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def desk(login_as):
    return login_as("admin")


@pytest.fixture
def held(world):
    """A dealer's replenishment order to the brand, held for its credit limit."""
    order = b.order(world.orgs["dealer"], world.brand, [(factories.product(name_zh="冰红茶"), 20)], status="on_hold",
                    days_ago=1)
    db.session.add(OrderReviewReason(order_id=order.id, code="credit_limit", message="超出信用额度 ¥1,000.00"))
    db.session.commit()
    return order


def status_of(order) -> str:
    db.session.expire_all()
    return db.session.get(Order, order.id).status


def test_review_queue_lists_held_orders_with_their_reasons(desk, held, world):
    b.order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 1)], status="on_hold")  # the dealer's
    db.session.commit()
    for response in (desk.get("/admin/orders/review"), desk.hx_get("/admin/orders/review")):
        page = text(response)
        assert response.status_code == 200
        assert held.number in page and "<b>超出信用额度</b> ¥1,000.00" in page and world.orgs["dealer"].name in page
        assert "超出信用额度</b>：超出信用额度" not in page  # the label once
        assert "共 1 个订单等待审核" in page
    assert "<html" in text(desk.get("/admin/orders/review")) and "<html" not in text(desk.hx_get("/admin/orders/review"))
    filtered = text(desk.get("/admin/orders/review?reason=stock_short"))
    assert held.number not in filtered and "没有等待审核的订单" in filtered


def test_order_list_filters_by_status_and_search(desk, held, world):
    approved = b.order(world.orgs["dealer"], world.brand, [(factories.product(), 1)], status="approved")
    db.session.commit()
    page = text(desk.get("/admin/orders"))
    assert held.number in page and approved.number in page and "1 个订单等待审核" in page
    page = text(desk.hx_get("/admin/orders?status=approved"))
    assert approved.number in page and held.number not in page and "<html" not in page
    assert held.number in text(desk.get(f"/admin/orders?q={held.number}"))


def test_order_page_shows_reasons_events_credit_and_the_decisions(desk, held, world):
    page = text(desk.get(f"/admin/orders/{held.id}"))
    assert held.number in page and "冰红茶" in page and "<b>超出信用额度</b> ¥1,000.00" in page
    assert "信用概况" in page and "审核通过" in page and "拒绝" in page and "重新检查审核规则" in page
    assert "开始拣货" not in page  # not from on_hold
    assert SEEN_RE.search(page) and "on_hold" in page


@pytest.mark.parametrize("htmx", [False, True])
def test_approve_with_a_note_moves_the_order_and_records_who(desk, held, world, htmx):
    response = desk.post(f"/admin/orders/{held.id}/approve", {"note": "已电话确认", "seen": "on_hold"}, htmx=htmx)
    target = f"/admin/orders/{held.id}"
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == target
    else:
        assert response.status_code == 303 and response.headers["Location"] == target
    assert status_of(held) == "approved"
    assert b.events_of(held.id)[-1] == ("on_hold", "approved", world.users["admin"].id, "已电话确认")
    page = text(desk.get(target))
    assert f"订单 {held.number}：已审核" in page and world.users["admin"].username in page and "已电话确认" in page


@pytest.mark.parametrize("action", ["reject", "cancel"])
@pytest.mark.parametrize("htmx", [False, True])
def test_saying_no_without_a_note_is_refused_next_to_the_field(desk, held, action, htmx):
    response = desk.post(f"/admin/orders/{held.id}/{action}", {"note": " ", "seen": "on_hold"}, htmx=htmx)
    assert response.status_code == (422 if htmx else 400)
    page = text(response)
    assert re.search(r'<p class="error" id="note-msg">请填写原因。</p>', page)
    assert ("<html" in page) is not htmx and 'id="decision"' in page
    assert status_of(held) == "on_hold" and len(b.events_of(held.id)) == 1


def test_reject_with_a_reason_notifies_the_buyer(desk, held, world):
    response = desk.post(f"/admin/orders/{held.id}/reject", {"note": "额度不足，请先付款", "seen": "on_hold", "confirmed": "1"})
    assert response.status_code == 303 and status_of(held) == "rejected"
    [notice] = b.notices_for(world.users["dealer"], "order_status")
    assert "已拒绝" in b.shown(notice).title and b.shown(notice).body == "额度不足，请先付款"


def test_a_decision_on_a_page_that_is_out_of_date_is_refused(desk, held):
    order = db.session.get(Order, held.id)
    order.status = "cancelled"
    db.session.commit()
    response = desk.post(f"/admin/orders/{held.id}/approve", {"note": "", "seen": "on_hold"})
    assert response.status_code == 409 and "请刷新" in text(response)
    assert status_of(held) == "cancelled"


def test_a_too_long_note_is_refused_and_nothing_changes(desk, held):
    response = desk.post(f"/admin/orders/{held.id}/hold", {"note": "长" * 501, "seen": "on_hold"})
    assert response.status_code == 400 and "说明最多 500 个字" in text(response)
    assert len(b.events_of(held.id)) == 1


def test_hold_and_start_picking(desk, world):
    order = b.order(world.orgs["dealer"], world.brand, [(factories.product(), 1)])
    db.session.commit()
    assert desk.post(f"/admin/orders/{order.id}/hold", {"note": "核对价格", "seen": "submitted"}).status_code == 303
    assert status_of(order) == "on_hold"
    assert approval.reasons_for([order.id])[order.id][0].message == "核对价格"
    desk.post(f"/admin/orders/{order.id}/approve", {"note": "", "seen": "on_hold"})
    assert desk.post(f"/admin/orders/{order.id}/picking", {"note": "", "seen": "approved"}).status_code == 303
    assert status_of(order) == "picking"


def test_recheck_approves_a_held_order_whose_cause_is_gone(desk, world):
    dealer = world.orgs["dealer"]
    profile = CreditProfile(customer_id=dealer.id, on_hold=True, hold_reason="对账中")
    db.session.add(profile)
    order = b.checkout(world.users["dealer"], dealer, [(factories.product(), 1)]).order
    db.session.commit()
    assert order.status == "on_hold"
    response = desk.post(f"/admin/orders/{order.id}/recheck")
    assert response.status_code == 303 and status_of(order) == "on_hold"
    assert "仍未通过：客户已暂停" in text(desk.get(response.headers["Location"]))
    db.session.get(CreditProfile, dealer.id).on_hold = False
    db.session.commit()
    desk.post(f"/admin/orders/{order.id}/recheck")
    assert status_of(order) == "approved"


def test_orders_the_brand_does_not_sell_are_not_found(desk, world):
    theirs = b.order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 1)], status="on_hold")
    db.session.commit()
    assert desk.get(f"/admin/orders/{theirs.id}").status_code == 404
    assert desk.post(f"/admin/orders/{theirs.id}/approve", {"seen": "on_hold"}).status_code == 404
    assert desk.post(f"/admin/orders/{theirs.id}/recheck").status_code == 404
    assert desk.get("/admin/orders/999999").status_code == 404
    assert status_of(theirs) == "on_hold"
    assert theirs.number not in text(desk.get("/admin/orders")) + text(desk.get("/admin/orders/review"))


def test_the_desk_needs_the_orders_permission(login_as, held):
    other = login_as("admin_b")
    for url in ("/admin/orders", "/admin/orders/review", f"/admin/orders/{held.id}", "/admin/orders/approval-rules"):
        assert other.get(url).status_code == 403
    assert other.post(f"/admin/orders/{held.id}/approve", {"seen": "on_hold"}).status_code == 403
    assert status_of(held) == "on_hold"


# --- the rules page -----------------------------------------------------------------------------

POLICY_FORM = {"auto_approve": "y", "check_hold": "y", "check_credit": "y", "check_prices": "y",
               "check_quantities": "y", "check_stock": "y", "quantity_factor": "2.5", "quantity_window_days": "60",
               "quantity_min_orders": "4"}


def test_rules_page_shows_the_defaults_and_saves_with_an_audit(desk, world):
    page = text(desk.get("/admin/orders/approval-rules"))
    assert 'value="3.0"' in page and 'value="90"' in page and "启用自动审核" in page
    response = desk.post("/admin/orders/approval-rules", dict(POLICY_FORM, check_stock=""))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/orders/approval-rules"
    policy = db.session.get(ApprovalPolicy, approval.POLICY_ID)
    assert (policy.quantity_factor_pct, policy.quantity_window_days, policy.quantity_min_orders) == (250, 60, 4)
    assert policy.check_stock is False
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "approval.policy")) == \
        world.users["admin"].id
    assert 'value="2.5"' in text(desk.get("/admin/orders/approval-rules"))


@pytest.mark.parametrize("field, value, message", [("quantity_factor", "0.5", "倍数必须在 1 到 100 之间"),
                                                   ("quantity_factor", "三", "请输入数字"),
                                                   ("quantity_window_days", "1000", "统计天数必须在 7 到 365 之间"),
                                                   ("quantity_min_orders", "", "请输入次数")])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_rules_are_refused_next_to_the_field(desk, field, value, message, htmx):
    response = desk.post("/admin/orders/approval-rules", dict(POLICY_FORM, **{field: value}), htmx=htmx)
    assert response.status_code == (422 if htmx else 400)
    assert re.search(rf'<p class="error" id="{field}-msg">[^<]*{message}', text(response))
    assert db.session.get(ApprovalPolicy, approval.POLICY_ID) is None
