"""The order lifecycle: every allowed transition and every refused one, what a transition
records (event, audit, buyer notice), stock reserved at approval and released on cancel or
reject, and the parties' actions (seller's desk, buyer's cancel)."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderStatus, StockBalance, StockReservation
from app.models.approval import OrderReviewReason
from app.services.ordering import lifecycle
from app.services.core.errors import DomainError, NotFound
from app.services.inventory import StockShortage
from tests import builders_lifecycle as b
from tests import factories

STATUSES = [s.value for s in OrderStatus]
ALLOWED_PAIRS = [(a, b_) for a in STATUSES for b_ in STATUSES if b_ in lifecycle.ALLOWED[a]]
REFUSED_PAIRS = [(a, b_) for a in STATUSES for b_ in STATUSES if b_ not in lifecycle.ALLOWED[a]]


def test_the_table_covers_every_status_and_the_main_path():
    assert set(lifecycle.ALLOWED) == set(STATUSES)
    path = ["submitted", "approved", "picking", "shipped", "delivered", "completed"]
    assert all(lifecycle.can_move(a, b_) for a, b_ in zip(path, path[1:]))
    assert len(ALLOWED_PAIRS) + len(REFUSED_PAIRS) == len(STATUSES) ** 2
    assert {"completed", "rejected", "cancelled"} == {s for s in STATUSES if not lifecycle.ALLOWED[s]}


@pytest.fixture
def sale(world):
    """retailer → dealer, one product; the dealer keeps no stock in the system."""
    product = factories.product()
    return world.orgs["retailer"], world.orgs["dealer"], product


@pytest.mark.parametrize("current, to", ALLOWED_PAIRS, ids=[f"{a}->{t}" for a, t in ALLOWED_PAIRS])
def test_allowed_transition_moves_records_audits_and_notifies(sale, world, current, to):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 2)], status=current)
    actor = world.users["dealer"]
    db.session.commit()

    moved = lifecycle.transition(order.id, to, actor.id, "说明")
    db.session.commit()

    assert moved.status == to and db.session.get(Order, order.id).status == to
    assert b.events_of(order.id)[-1] == (current, to, actor.id, "说明")
    assert b.status_audits(order.id) == 1
    [notice] = b.notices_for(world.users["retailer"], "order_status")
    assert b.shown(notice).link == f"/retailer/orders/{order.id}" and order.number in b.shown(notice).title


@pytest.mark.parametrize("current, to", REFUSED_PAIRS, ids=[f"{a}->{t}" for a, t in REFUSED_PAIRS])
def test_refused_transition_changes_nothing(sale, world, current, to):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 2)], status=current)
    db.session.commit()
    events = b.events_of(order.id)

    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.transition(order.id, to, world.users["dealer"].id, "说明")
    db.session.rollback()

    assert db.session.get(Order, order.id).status == current
    assert b.events_of(order.id) == events
    assert b.status_audits(order.id) == 0
    assert b.notices_for(world.users["retailer"]) == []


def test_unknown_order_and_unknown_status_are_refused(sale, world):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 1)])
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.transition(order.id + 999, "approved", None)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.transition(order.id, "teleported", None)


def test_expected_status_refuses_an_order_that_moved_on(sale):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 1)], status="approved")
    with pytest.raises(lifecycle.TransitionRefused, match="刷新"):
        lifecycle.transition(order.id, "cancelled", None, "x", expected={"submitted"})
    assert order.status == "approved"


# --- stock side effects ------------------------------------------------------------------------

@pytest.fixture
def stocked(world):
    """retailer → dealer with a dealer warehouse holding 10 of the product."""
    product = factories.product()
    warehouse = b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 10})
    return world.orgs["retailer"], world.orgs["dealer"], product, warehouse


def _reserved(warehouse, product) -> int:
    return db.session.scalar(select(StockBalance.reserved).where(StockBalance.warehouse_id == warehouse.id,
                                                                 StockBalance.product_id == product.id))


@pytest.mark.parametrize("held_in", ["approved", "picking"])
def test_approval_reserves_and_cancelling_releases(stocked, held_in):
    buyer, seller, product, warehouse = stocked
    order = b.order(buyer, seller, [(product, 4)])
    lifecycle.transition(order.id, "approved", None)
    assert _reserved(warehouse, product) == 4
    if held_in == "picking":
        lifecycle.transition(order.id, "picking", None)
        assert _reserved(warehouse, product) == 4
    lifecycle.transition(order.id, "cancelled", None, "客户取消")
    assert _reserved(warehouse, product) == 0


def test_approval_from_hold_reserves_and_rejecting_a_held_order_holds_nothing(stocked):
    buyer, seller, product, warehouse = stocked
    approved = b.order(buyer, seller, [(product, 3)], status="on_hold")
    rejected = b.order(buyer, seller, [(product, 5)], status="on_hold")
    lifecycle.transition(approved.id, "approved", None)
    lifecycle.transition(rejected.id, "rejected", None, "超出配送范围")
    assert _reserved(warehouse, product) == 3


def test_a_shortage_refuses_approval_and_the_caller_rolls_back(stocked):
    buyer, seller, product, warehouse = stocked
    order = b.order(buyer, seller, [(product, 11)])
    db.session.commit()
    with pytest.raises(StockShortage):
        lifecycle.transition(order.id, "approved", None)
    db.session.rollback()
    assert db.session.get(Order, order.id).status == "submitted"
    assert _reserved(warehouse, product) == 0


def test_a_seller_without_warehouse_approves_without_reservation(sale):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 500)])
    assert not lifecycle.tracks_stock(seller.id)
    lifecycle.transition(order.id, "approved", None)
    assert db.session.scalar(select(func.count()).select_from(StockReservation)) == 0
    lifecycle.transition(order.id, "cancelled", None, "改期")
    assert order.status == "cancelled"


def test_a_replenishment_notice_links_to_the_dealers_replenishment_page(world):
    order = b.order(world.orgs["dealer"], world.brand, [(factories.product(), 5)])
    lifecycle.transition(order.id, "approved", None)
    [notice] = b.notices_for(world.users["dealer"], "order_status")
    assert b.shown(notice).link == f"/dealer/replenishment/orders/{order.id}"


# --- the parties' actions ----------------------------------------------------------------------

def test_seller_actions_follow_the_table():
    assert lifecycle.seller_actions("submitted") == ["approved", "on_hold", "rejected", "cancelled"]
    assert lifecycle.seller_actions("on_hold") == ["approved", "rejected", "cancelled"]
    assert lifecycle.seller_actions("approved") == ["picking", "cancelled"]
    assert lifecycle.seller_actions("shipped") == []


def test_seller_needs_a_note_to_say_no_and_cannot_touch_another_sellers_order(sale, world):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 1)])
    actor = world.users["dealer"].id
    for to in ("on_hold", "rejected", "cancelled"):
        with pytest.raises(DomainError) as refused:
            lifecycle.act_as_seller(seller.id, order.id, to, actor, "  ")
        assert refused.value.field == "note"
    with pytest.raises(DomainError) as too_long:
        lifecycle.act_as_seller(seller.id, order.id, "approved", actor, "长" * 501)
    assert too_long.value.field == "note"
    with pytest.raises(NotFound):
        lifecycle.act_as_seller(world.orgs["dealer_b"].id, order.id, "approved", actor)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.act_as_seller(seller.id, order.id, "shipped", actor)
    assert order.status == "submitted" and len(b.events_of(order.id)) == 1


def test_a_manual_hold_keeps_the_note_as_the_review_reason(sale, world):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 1)])
    lifecycle.act_as_seller(seller.id, order.id, "on_hold", world.users["dealer"].id, "请先确认地址")
    [reason] = db.session.scalars(select(OrderReviewReason).where(OrderReviewReason.order_id == order.id)).all()
    assert (reason.code, reason.message) == ("manual", "请先确认地址")


def test_seller_acting_on_a_stale_page_changes_nothing(sale, world):
    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 1)], status="approved")
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.act_as_seller(seller.id, order.id, "cancelled", world.users["dealer"].id, "不要了", seen="submitted")
    assert order.status == "approved"


def test_buyer_may_cancel_only_before_the_seller_accepts(sale, world):
    buyer, seller, product = sale
    user = world.users["retailer"]
    waiting = b.order(buyer, seller, [(product, 1)], status="on_hold")
    lifecycle.cancel_as_buyer(buyer.id, waiting.id, user.id, "买错了")
    assert waiting.status == "cancelled"

    accepted = b.order(buyer, seller, [(product, 1)], status="approved")
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.cancel_as_buyer(buyer.id, accepted.id, user.id, "买错了")
    with pytest.raises(DomainError) as no_note:
        lifecycle.cancel_as_buyer(buyer.id, b.order(buyer, seller, [(product, 1)]).id, user.id, "")
    assert no_note.value.field == "note"
    with pytest.raises(NotFound):
        lifecycle.cancel_as_buyer(world.orgs["retailer_b"].id, accepted.id, user.id, "x")
    assert accepted.status == "approved"


def test_a_partly_shipped_order_cannot_be_cancelled_as_a_whole(sale, world):
    from app.models.fulfilment import Shipment

    buyer, seller, product = sale
    order = b.order(buyer, seller, [(product, 4)], status="picking")
    db.session.add(Shipment(order_id=order.id, seller_id=seller.id, carrier="自送"))
    db.session.flush()
    with pytest.raises(lifecycle.TransitionRefused, match="部分发货"):
        lifecycle.act_as_seller(seller.id, order.id, "cancelled", world.users["dealer"].id, "不送了")
    assert order.status == "picking"
