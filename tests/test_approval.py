"""Automatic approval: an order passing every rule is approved by the system at once; any failed
rule puts it on hold with the reasons stored and the seller notified. Each rule, its switch,
the defaults, checkout hooks (web, rep, replenishment) and a re-check."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Order, StockBalance
from app.models.approval import ApprovalPolicy, OrderReviewReason
from app.models.credit import CreditProfile
from app.services.approval import automatic as approval
from app.services.ordering import cart
from app.services.ordering import lifecycle
from app.services.field_sales import portal as rep_portal
from app.services.core.errors import DomainError, NotFound
from app.services.core.clock import today_local
from tests import builders_credit, builders_lifecycle as b, builders_ordering
from tests import factories


def reasons(order) -> list[str]:
    return [r.code for r in db.session.scalars(select(OrderReviewReason).where(OrderReviewReason.order_id == order.id)
                                               .order_by(OrderReviewReason.id))]


def set_policy(**changes) -> ApprovalPolicy:
    policy = approval.default_policy()
    policy.id = approval.POLICY_ID
    for name, value in changes.items():
        setattr(policy, name, value)
    db.session.add(policy)
    db.session.flush()
    return policy


def test_an_order_passing_every_rule_is_approved_by_the_system(shop, world):
    user, retailer = shop
    order = b.checkout(user, retailer, [(factories.product(), 2)]).order
    assert order.status == "approved"
    assert b.events_of(order.id) == [(None, "submitted", user.id, ""), ("submitted", "approved", None, "自动审核")]
    assert reasons(order) == []
    assert [b.shown(n).title for n in b.notices_for(user)] == [f"订单 {order.number}：已审核"]
    assert b.notices_for(world.users["dealer"], "order_review") == []


def test_a_customer_on_hold_waits_with_the_reason_and_the_seller_is_told(shop, world):
    user, retailer = shop
    db.session.add(CreditProfile(customer_id=retailer.id, on_hold=True, hold_reason="账款争议"))
    order = b.checkout(user, retailer, [(factories.product(), 1)]).order
    assert order.status == "on_hold" and reasons(order) == ["on_hold"]
    assert b.events_of(order.id)[-1] == ("submitted", "on_hold", None, "待人工审核：客户已暂停")
    [notice] = b.notices_for(world.users["dealer"], "order_review")
    shown = b.shown(notice)
    assert shown.link == f"/dealer/orders/{order.id}" and order.number in shown.title and "账款争议" in shown.body
    assert b.notices_for(world.users["dealer_b"]) == []


def test_a_dealer_over_its_credit_limit_waits_and_the_brands_order_desk_is_told(world):
    dealer, user = world.orgs["dealer"], world.users["dealer"]
    dealer.credit_limit_fen = 5_000
    order = b.checkout(user, dealer, [(factories.product(base_price_fen=4_800), 2)]).order
    assert order.seller_id == world.brand.id and order.status == "on_hold"
    assert reasons(order) == ["credit_limit"]
    [notice] = b.notices_for(world.users["admin"], "order_review")
    assert b.shown(notice).link == f"/admin/orders/{order.id}" and "超出信用额度" in b.shown(notice).title
    assert b.notices_for(world.users["admin_b"]) == []  # no "orders" permission


def test_an_overdue_invoice_holds_the_order(shop, world):
    user, retailer = shop
    builders_credit.invoice(retailer, world.orgs["dealer"], 10_000, due_on=today_local() - timedelta(days=3))
    order = b.checkout(user, retailer, [(factories.product(), 1)]).order
    assert order.status == "on_hold" and reasons(order) == ["overdue"]


def test_a_price_changed_since_submit_holds_the_order(shop, world):
    user, retailer = shop
    product = factories.product(base_price_fen=5_000)
    order = b.order(retailer, world.orgs["dealer"], [(product, 3)])  # ordered at 5,000
    builders_ordering.price_list({product: 4_500}, channel="kiosk")
    review = approval.auto_review(order.id)
    assert review.outcome == "held" and reasons(order) == ["price_changed"]
    assert "¥50.00" in str(review.reasons[0].message) and "¥45.00" in str(review.reasons[0].message)


@pytest.mark.parametrize("qty, expected", [(6, "approved"), (7, "on_hold")])
def test_a_line_above_three_times_the_usual_quantity_holds_the_order(shop, world, qty, expected):
    user, retailer = shop
    product = factories.product()
    b.history(retailer, world.orgs["dealer"], product, [1, 2, 3])  # average 2
    order = b.checkout(user, retailer, [(product, qty)]).order
    assert order.status == expected
    assert reasons(order) == ([] if expected == "approved" else ["unusual_quantity"])


def test_quantities_are_not_judged_without_enough_recent_history(shop, world):
    user, retailer = shop
    product, other = factories.product(), factories.product()
    b.history(retailer, world.orgs["dealer"], product, [1, 1])  # two orders: fewer than the minimum of three
    b.history(retailer, world.orgs["dealer"], other, [1, 1, 1], days_ago=120)  # outside the 90 days
    b.history(retailer, world.orgs["dealer"], other, [1, 1, 1], status="cancelled")  # cancelled orders do not count
    order = b.checkout(user, retailer, [(product, 50), (other, 50)]).order
    assert order.status == "approved"


def test_the_factor_window_and_minimum_come_from_the_policy(shop, world):
    user, retailer = shop
    product = factories.product()
    b.history(retailer, world.orgs["dealer"], product, [2, 2])
    set_policy(quantity_factor_pct=150, quantity_min_orders=2)
    order = b.checkout(user, retailer, [(product, 4)]).order
    assert order.status == "on_hold" and "1.5" in str(approval.reasons_for([order.id])[order.id][0].detail)


def test_stock_short_in_the_sellers_warehouse_holds_the_order(shop, world):
    user, retailer = shop
    product = factories.product(code="P-SHORT")
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 3})
    order = b.checkout(user, retailer, [(product, 5)]).order
    assert order.status == "on_hold" and reasons(order) == ["stock_short"]
    assert "P-SHORT" in str(approval.reasons_for([order.id])[order.id][0].detail)
    assert db.session.scalar(select(StockBalance.reserved)) == 0


def test_stock_available_is_reserved_by_the_automatic_approval(shop, world):
    user, retailer = shop
    product = factories.product()
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 10})
    order = b.checkout(user, retailer, [(product, 5)]).order
    assert order.status == "approved" and db.session.scalar(select(StockBalance.reserved)) == 5


def test_with_the_stock_rule_off_a_shortage_found_at_reservation_still_holds(shop, world):
    user, retailer = shop
    product = factories.product()
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 3})
    set_policy(check_stock=False)
    order = b.checkout(user, retailer, [(product, 5)]).order
    assert order.status == "on_hold" and reasons(order) == ["stock_short"]
    assert [e[1] for e in b.events_of(order.id)] == ["submitted", "on_hold"]


def test_switched_off_rules_are_not_checked(shop, world):
    user, retailer = shop
    db.session.add(CreditProfile(customer_id=retailer.id, on_hold=True, hold_reason="x"))
    product = factories.product()
    b.history(retailer, world.orgs["dealer"], product, [1, 1, 1])
    set_policy(check_hold=False, check_quantities=False)
    assert b.checkout(user, retailer, [(product, 30)]).order.status == "approved"


def test_with_automatic_approval_off_orders_wait_and_the_seller_is_told(shop, world):
    user, retailer = shop
    set_policy(auto_approve=False)
    order = b.checkout(user, retailer, [(factories.product(), 1)]).order
    assert order.status == "submitted" and reasons(order) == []
    [notice] = b.notices_for(world.users["dealer"], "order_review")
    assert b.shown(notice).title == f"新订单 {order.number} 待审核"


def test_several_failed_rules_are_all_listed(shop, world):
    user, retailer = shop
    db.session.add(CreditProfile(customer_id=retailer.id, on_hold=True, hold_reason="x"))
    product = factories.product()
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 1})
    b.history(retailer, world.orgs["dealer"], product, [1, 1, 1])
    order = b.checkout(user, retailer, [(product, 9)]).order
    assert reasons(order) == ["on_hold", "unusual_quantity", "stock_short"]
    assert "客户已暂停、数量超出常规、库存不足" in b.events_of(order.id)[-1][3]


def test_a_repeated_submit_is_not_reviewed_again(shop, world):
    user, retailer = shop
    first = b.checkout(user, retailer, [(factories.product(), 1)], key="same-key-123456")
    again = approval.place_order(user, retailer, "same-key-123456", first.order.cart_fingerprint)
    assert not again.created and again.order.id == first.order.id
    assert len(b.events_of(first.order.id)) == 2


def test_an_order_placed_by_a_rep_is_reviewed_too(world):
    rep, retailer = world.users["rep"], world.orgs["retailer"]
    cart.add_to_cart(rep, retailer, factories.product().id, 2)
    quote = cart.quote_cart(rep, retailer)
    submission = rep_portal.place_order_for_retailer(rep, retailer.id, "rep-key-0000001", quote.fingerprint)
    assert submission.order.status == "approved" and submission.order.channel == "rep"


def test_the_review_runs_a_fixed_number_of_queries_whatever_the_lines(shop, world):
    user, retailer = shop
    counts = []
    for size in (2, 12):
        products = [factories.product() for _ in range(size)]
        order = b.order(retailer, world.orgs["dealer"], [(p, 1) for p in products])
        db.session.commit()
        db.session.expire_all()
        with builders_ordering.count_queries() as counter:
            assert approval.auto_review(order.id).outcome == "approved"
        counts.append(len(counter))
    assert counts[0] == counts[1], counts


# --- re-check and the queue ---------------------------------------------------------------------

def test_recheck_approves_once_the_cause_is_gone_in_the_persons_name(shop, world):
    user, retailer = shop
    profile = CreditProfile(customer_id=retailer.id, on_hold=True, hold_reason="x")
    db.session.add(profile)
    order = b.checkout(user, retailer, [(factories.product(), 1)]).order
    dealer_user = world.users["dealer"]

    still = approval.recheck(world.orgs["dealer"].id, order.id, dealer_user)
    assert still.outcome == "held" and order.status == "on_hold" and reasons(order) == ["on_hold"]

    profile.on_hold = False
    passed = approval.recheck(world.orgs["dealer"].id, order.id, dealer_user)
    assert passed.outcome == "approved" and order.status == "approved"
    assert b.events_of(order.id)[-1] == ("on_hold", "approved", dealer_user.id, "重新检查通过")
    assert reasons(order) == ["on_hold"]  # why it was held stays for the report

    with pytest.raises(lifecycle.TransitionRefused):
        approval.recheck(world.orgs["dealer"].id, order.id, dealer_user)
    with pytest.raises(NotFound):
        approval.recheck(world.orgs["dealer_b"].id, order.id, dealer_user)


def test_review_queue_lists_the_sellers_waiting_orders_oldest_first(world):
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    product = factories.product()
    newer = b.order(retailer, dealer, [(product, 1)], status="on_hold", days_ago=1)
    older = b.order(retailer, dealer, [(product, 1)], status="submitted", days_ago=2)
    b.order(retailer, dealer, [(product, 1)], status="approved", days_ago=3)
    b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 1)], status="on_hold")
    db.session.add(OrderReviewReason(order_id=newer.id, code="stock_short", message="缺货"))
    db.session.flush()
    assert [o.id for o in approval.review_queue(dealer.id).items] == [older.id, newer.id]
    assert [o.id for o in approval.review_queue(dealer.id, reason="stock_short").items] == [newer.id]
    assert approval.waiting_count(dealer.id) == 2


# --- the policy ---------------------------------------------------------------------------------

def test_defaults_apply_until_the_brand_saves_its_rules(world):
    policy = approval.current_policy()
    assert policy.id is None and policy.auto_approve and policy.quantity_factor_pct == 300
    assert (policy.quantity_window_days, policy.quantity_min_orders) == (90, 3)


def test_saving_the_rules_is_audited_with_what_changed(world):
    admin = world.users["admin"]
    values = {name: getattr(approval.default_policy(), name) for name in approval.POLICY_FIELDS}
    approval.update_policy(admin, **dict(values, check_stock=False, quantity_factor_pct=250))
    db.session.commit()
    stored = db.session.get(ApprovalPolicy, approval.POLICY_ID)
    assert stored.check_stock is False and stored.quantity_factor_pct == 250 and stored.updated_by_id == admin.id
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "approval.policy")).all()
    assert event.before == {"check_stock": True, "quantity_factor_pct": 300}
    assert event.after == {"check_stock": False, "quantity_factor_pct": 250}


@pytest.mark.parametrize("change, field", [({"quantity_factor_pct": 90}, "quantity_factor"),
                                           ({"quantity_window_days": 400}, "quantity_window_days"),
                                           ({"quantity_min_orders": 0}, "quantity_min_orders")])
def test_out_of_range_rules_are_refused(world, change, field):
    values = {name: getattr(approval.default_policy(), name) for name in approval.POLICY_FIELDS}
    with pytest.raises(DomainError) as refused:
        approval.update_policy(world.users["admin"], **dict(values, **change))
    assert refused.value.field == field
    assert db.session.get(ApprovalPolicy, approval.POLICY_ID) is None


def test_the_order_row_is_consistent_after_review(shop, world):
    user, retailer = shop
    order = b.checkout(user, retailer, [(factories.product(), 1)]).order
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "approved"


def history_of(order_id: int) -> tuple[list, list, list]:
    """The order's status history, audit trail and outbox stream, oldest first."""
    from app.models import OutboxEvent

    audits = [(a.action, a.actor_id, (a.after or {}).get("status"))
              for a in db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "order",
                                                                    AuditEvent.entity_id == order_id)
                                          .order_by(AuditEvent.id))]
    stream = [(e.type, e.sequence, e.data["status"], e.data["from_status"])
              for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_type == "order",
                                                                     OutboxEvent.aggregate_id == order_id)
                                          .order_by(OutboxEvent.id))]
    return [e[:3] for e in b.events_of(order_id)], audits, stream


@pytest.mark.parametrize("outcome", ["approved", "held for stock", "held by a rule", "left to the seller"])
def test_checkout_writes_the_whole_history_of_each_outcome_once(shop, world, outcome):
    """Checkout writes the order's "submitted" history with the review's status change (one
    INSERT of both rows per table): every outcome still has each row once, in order."""
    user, retailer = shop
    product = factories.product()
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 3 if outcome == "held for stock" else 10})
    if outcome == "held by a rule":
        db.session.add(CreditProfile(customer_id=retailer.id, on_hold=True, hold_reason="x"))
    if outcome == "left to the seller":
        set_policy(auto_approve=False)
    order = b.checkout(user, retailer, [(product, 5)]).order
    db.session.commit()
    to = {"approved": "approved", "left to the seller": None}.get(outcome, "on_hold")
    events, audits, stream = history_of(order.id)
    assert order.status == (to or "submitted")
    assert events == [(None, "submitted", user.id)] + ([("submitted", to, None)] if to else [])
    assert audits == [("order.submit", user.id, "submitted")] + ([("order.status", None, to)] if to else [])
    assert stream == [("order.placed", 1, "submitted", None)] + (
        [(f"order.{'approved' if to == 'approved' else 'held'}", 2, to, "submitted")] if to else [])
    assert db.session.scalar(select(StockBalance.reserved)) == (5 if to == "approved" else 0)
