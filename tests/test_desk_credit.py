"""A seller approving by hand runs the buyer's credit check (issue 8): with automatic approval off
or on a held order, an order over the buyer's available credit is approved only when the seller
ticks the confirmation and gives a reason (audited); otherwise it is refused next to the field and
nothing changes. The desk shows the buyer's limit, exposure and available credit next to the order.
And the one rule "no whole-order cancel after a shipment" hides the desk's button and refuses."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Order, OrderEvent
from app.models.approval import ApprovalPolicy
from app.models.credit import CreditProfile
from app.models.fulfilment import Shipment
from app.services.approval import automatic as approval
from app.services.core.errors import DomainError
from app.services.ordering import lifecycle
from tests import builders_lifecycle as b
from tests import factories


def text(response) -> str:
    return response.get_data(as_text=True)


def status_of(order) -> str:
    db.session.expire_all()
    return db.session.get(Order, order.id).status


def overrides(order) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.credit_override",
                                                            AuditEvent.entity_id == order.id)))


def events(order) -> int:
    return db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order.id))


@pytest.fixture
def over_limit(world):
    """The dealer (limit ¥100.00) submits a ¥960.00 replenishment order with automatic approval off."""
    dealer = world.orgs["dealer"]
    dealer.credit_limit_fen = 10_000
    db.session.add(ApprovalPolicy(id=approval.POLICY_ID, auto_approve=False, check_hold=True, check_credit=True,
                                  check_prices=True, check_quantities=True, check_stock=True))
    order = b.checkout(world.users["dealer"], dealer, [(factories.product(base_price_fen=4800), 20)]).order
    db.session.commit()
    assert order.status == "submitted" and order.seller_id == world.brand.id
    return order


def test_the_desk_shows_the_buyers_credit_and_the_confirmation(login_as, over_limit):
    page = text(login_as("admin").get(f"/admin/orders/{over_limit.id}"))
    assert "信用概况" in page and "信用额度" in page and "¥100.00" in page
    assert "已占用额度" in page and "可用额度" in page
    assert "超出信用额度" in page and 'name="credit_confirmed"' in page and 'name="credit_reason"' in page
    assert "本单 ¥960.00" in page


@pytest.mark.parametrize("htmx", [False, True])
def test_approving_over_the_limit_without_confirmation_is_refused_and_changes_nothing(login_as, over_limit, htmx):
    desk = login_as("admin")
    response = desk.post(f"/admin/orders/{over_limit.id}/approve", {"note": "", "seen": "submitted"}, htmx=htmx)
    assert response.status_code == (422 if htmx else 400)
    page = text(response)
    assert re.search(r'<p class="error" id="credit_confirmed-msg">信用检查未通过：[^<]*超出信用额度', page)
    assert ("<html" in page) is not htmx and 'id="decision"' in page
    assert status_of(over_limit) == "submitted" and events(over_limit) == 1 and overrides(over_limit) == []


def test_a_confirmation_needs_a_reason(login_as, over_limit):
    response = login_as("admin").post(f"/admin/orders/{over_limit.id}/approve",
                                      {"seen": "submitted", "credit_confirmed": "y", "credit_reason": "  "})
    assert response.status_code == 400
    assert re.search(r'<p class="error" id="credit_reason-msg">请填写超出信用仍审核的原因。</p>', text(response))
    assert status_of(over_limit) == "submitted" and overrides(over_limit) == []


def test_approving_over_the_limit_with_confirmation_and_reason_is_audited(login_as, over_limit, world):
    response = login_as("admin").post(f"/admin/orders/{over_limit.id}/approve",
                                      {"note": "", "seen": "submitted", "credit_confirmed": "y",
                                       "credit_reason": "老客户，月底回款"})
    assert response.status_code == 303 and status_of(over_limit) == "approved"
    [event] = overrides(over_limit)
    assert event.actor_id == world.users["admin"].id
    assert event.after["reason"] == "老客户，月底回款" and event.after["reasons"] == ["credit_limit"]
    assert event.after["total_fen"] == 96_000


def test_within_the_limit_no_confirmation_is_asked(login_as, over_limit, world):
    world.orgs["dealer"].credit_limit_fen = 50_000_000
    db.session.commit()
    desk = login_as("admin")
    assert 'name="credit_confirmed"' not in text(desk.get(f"/admin/orders/{over_limit.id}"))
    assert desk.post(f"/admin/orders/{over_limit.id}/approve", {"seen": "submitted"}).status_code == 303
    assert status_of(over_limit) == "approved" and overrides(over_limit) == []


def test_the_dealer_desk_runs_the_same_check_for_a_retailer_on_credit(login_as, world):
    shop = world.orgs["retailer"]
    shop.credit_limit_fen = 1_000
    db.session.add(CreditProfile(customer_id=shop.id, allow_credit=True))
    order = b.order(shop, world.orgs["dealer"], [(factories.product(base_price_fen=4800), 2)])
    db.session.commit()
    desk = login_as("dealer")
    page = text(desk.get(f"/dealer/orders/{order.id}"))
    assert "信用概况" in page and "¥10.00" in page and 'name="credit_confirmed"' in page
    response = desk.post(f"/dealer/orders/{order.id}/approve", {"seen": "submitted"})
    assert response.status_code == 400 and 'id="credit_confirmed-msg"' in text(response)
    assert status_of(order) == "submitted"
    response = desk.post(f"/dealer/orders/{order.id}/approve",
                         {"seen": "submitted", "credit_confirmed": "y", "credit_reason": "现款现货"}, htmx=True)
    assert response.status_code == 204 and status_of(order) == "approved"
    assert overrides(order)[0].after["reason"] == "现款现货"


def test_the_service_refuses_without_confirmation(over_limit, world):
    actor = world.users["admin"].id
    with pytest.raises(DomainError) as refused:
        lifecycle.act_as_seller(world.brand.id, over_limit.id, "approved", actor)
    assert refused.value.field == "credit_confirmed"
    db.session.rollback()
    lifecycle.act_as_seller(world.brand.id, over_limit.id, "approved", actor, credit_override="已担保")
    assert status_of(over_limit) == "approved"


# --- no whole-order cancel after a shipment ---------------------------------------------------

def test_after_a_shipment_the_desk_offers_no_cancel_and_refuses_it(login_as, world):
    seller = world.orgs["dealer"]
    order = b.order(world.orgs["retailer"], seller, [(factories.product(), 4)], status="picking")
    db.session.add(Shipment(order_id=order.id, seller_id=seller.id, carrier="自送"))
    db.session.commit()
    assert lifecycle.may_cancel_whole(order.id) is False
    assert lifecycle.seller_actions("picking", order.id) == [] and lifecycle.seller_actions("picking") == [
        "cancelled"]
    desk = login_as("dealer")
    page = text(desk.get(f"/dealer/orders/{order.id}"))
    assert f"/dealer/orders/{order.id}/cancel\"" not in page and "取消订单" not in page
    response = desk.post(f"/dealer/orders/{order.id}/cancel", {"note": "不送了", "seen": "picking", "confirmed": "1"})
    assert response.status_code == 409 and "部分发货" in text(response)
    assert status_of(order) == "picking"


def test_a_recheck_in_a_persons_name_runs_the_credit_check_even_with_the_credit_rule_off(over_limit, world):
    policy = db.session.get(ApprovalPolicy, approval.POLICY_ID)
    policy.check_credit = policy.check_prices = policy.check_quantities = policy.check_stock = False
    lifecycle.act_as_seller(world.brand.id, over_limit.id, "on_hold", world.users["admin"].id, "核对")
    review = approval.recheck(world.brand.id, over_limit.id, world.users["admin"])
    assert review.outcome == "held" and [r.code for r in review.reasons] == ["credit_limit"]
    assert status_of(over_limit) == "on_hold"
