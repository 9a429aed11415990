"""Group-buy services: the ladder at its exact boundaries, commitments (first, raise, withdraw),
and the close: re-pricing to the tier reached with credit notes that sum exactly to the
difference, a failed pool cancelled with a stored notice, and a second close doing nothing."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CreditNote, Notification, Order, OrderEvent
from app.models.groupbuy import GroupBuyCommitment
from app.services.campaigns import groupbuy
from app.services.campaigns.groupbuy_close import close_campaign
from app.services.core.errors import DomainError
from app.services.core.messages import Message
from jobs.groupbuy import close_due_job
from tests import builders_groupbuy as gb
from tests import factories


@pytest.fixture
def product():
    return factories.product(base_price_fen=5200)


def test_tier_unlocks_at_exactly_its_quantity(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product)
    assert [groupbuy.price_at(campaign, n) for n in (0, 199, 200, 201, 499, 500, 10_000)] == \
        [5000, 5000, 4800, 4800, 4800, 4500, 4500]


def test_a_commitment_is_a_groupbuy_order_to_the_serving_dealer_at_the_price_its_cases_reach(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product)
    user_a, shop_a = gb.shop_of(world)
    user_b, shop_b = gb.shop_of(world)
    first = groupbuy.commit_quantity(user_a, shop_a, campaign.id, 150)
    second = groupbuy.commit_quantity(user_b, shop_b, campaign.id, 50)  # pool 200: the first tier
    db.session.commit()
    assert (first.committed_price_fen, second.committed_price_fen) == (5000, 4800)
    order = db.session.get(Order, second.order_id)
    assert (order.kind, order.status, order.seller_id, order.total_fen) == ("groupbuy", "submitted",
                                                                            world.orgs["dealer"].id, 50 * 4800)
    assert order.lines[0].tax_fen == (240_000 * 13 * 2 + 113) // 226
    db.session.refresh(campaign)
    assert campaign.pool_qty == 200


def test_raise_keeps_one_order_at_the_lower_price_and_lowering_is_refused(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product)
    user, shop = gb.shop_of(world)
    commitment = groupbuy.commit_quantity(user, shop, campaign.id, 100)
    order_id = commitment.order_id
    raised = groupbuy.commit_quantity(user, shop, campaign.id, 250)
    db.session.commit()
    order = db.session.get(Order, order_id)
    assert (raised.order_id, raised.qty, raised.committed_price_fen) == (order_id, 250, 4800)
    assert (order.lines[0].qty, order.total_fen) == (250, 250 * 4800)
    assert groupbuy.commit_quantity(user, shop, campaign.id, 250).qty == 250  # a repeat changes nothing
    with pytest.raises(DomainError) as refused:
        groupbuy.commit_quantity(user, shop, campaign.id, 100)
    assert refused.value.field == "qty"
    db.session.rollback()
    db.session.refresh(campaign)
    assert campaign.pool_qty == 250


def test_lowering_says_only_raise_even_below_the_per_shop_minimum(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product, min_per=5)
    user, shop = gb.shop_of(world)
    groupbuy.commit_quantity(user, shop, campaign.id, 30)
    for qty in (3, 6):  # under the minimum, and above it: the same answer, about the direction
        with pytest.raises(DomainError) as refused:
            groupbuy.commit_quantity(user, shop, campaign.id, qty)
        assert "只能增加数量" in refused.value.message and refused.value.field == "qty"
    with pytest.raises(DomainError) as first:  # a first commitment under the minimum: the minimum
        groupbuy.commit_quantity(*gb.shop_of(world), campaign.id, 3)
    assert "每店至少认购 5 箱" in first.value.message
    db.session.rollback()


def test_per_shop_limits_and_the_cap_are_refused_next_to_the_quantity(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product, cap=600, min_per=5, max_per=400)
    user, shop = gb.shop_of(world)
    other_user, other = gb.shop_of(world)
    for qty in (4, 401):
        with pytest.raises(DomainError) as refused:
            groupbuy.commit_quantity(user, shop, campaign.id, qty)
        assert refused.value.field == "qty"
    groupbuy.commit_quantity(user, shop, campaign.id, 400)
    with pytest.raises(DomainError) as capped:
        groupbuy.commit_quantity(other_user, other, campaign.id, 201)
    assert "200" in capped.value.message
    db.session.rollback()


def test_withdraw_cancels_the_order_and_leaves_the_pool(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product)
    user, shop = gb.shop_of(world)
    first_order_id = groupbuy.commit_quantity(user, shop, campaign.id, 120).order_id
    groupbuy.withdraw(user, shop, campaign.id)
    db.session.commit()
    db.session.refresh(campaign)
    assert campaign.pool_qty == 0
    assert db.session.get(Order, first_order_id).status == "cancelled"
    again = groupbuy.commit_quantity(user, shop, campaign.id, 30)  # joining again makes a new order
    assert again.order_id != first_order_id and again.status == "active"


def test_success_reprices_to_the_tier_reached_with_credit_notes_summing_exactly(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product, min_pool=300)
    shops = [gb.shop_of(world) for _ in range(4)]
    quantities = [120, 70, 210, 103]  # pool 503: the ¥45 tier, reached by the last shop
    commitments = [groupbuy.commit_quantity(u, s, campaign.id, q) for (u, s), q in zip(shops, quantities)]
    billed = [c.committed_price_fen for c in commitments]
    assert billed == [5000, 5000, 4800, 4500]
    gb.end_window(campaign)
    db.session.commit()

    assert close_due_job().endswith("1 campaign(s) closed")
    db.session.expire_all()
    db.session.refresh(campaign)
    assert (campaign.status, campaign.result, campaign.pool_qty, campaign.final_price_fen) == ("closed", "succeeded", 503, 4500)
    notes = list(db.session.scalars(select(CreditNote).where(CreditNote.source_ref == f"groupbuy:{campaign.id}")))
    billed_total = sum(db.session.get(Order, c.order_id).total_fen for c in commitments)
    assert sum(n.amount_fen for n in notes) == billed_total - 503 * 4500 == 120 * 500 + 70 * 500 + 210 * 300
    assert sorted(n.amount_fen for n in notes) == sorted([60_000, 35_000, 63_000])  # the ¥45 shop owes nothing back
    assert all(n.reason == "adjustment" and n.seller_id == world.orgs["dealer"].id for n in notes)
    rows = {c.id: c for c in db.session.scalars(select(GroupBuyCommitment))}
    assert {r.final_price_fen for r in rows.values()} == {4500}
    titles = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.message == "groupbuy.succeeded"))
    assert titles == 3

    # Closing again (a retried job, the button after the schedule) adds nothing.
    assert close_campaign(campaign.id, early=True).closed_now is False
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CreditNote)) == 3
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.message == "groupbuy.succeeded")) == 3


def test_failed_pool_cancels_every_commitment_with_a_stored_notice(world, product):
    campaign = gb.campaign(world.orgs["dealer"], product, min_pool=500)
    shops = [gb.shop_of(world) for _ in range(2)]
    commitments = [groupbuy.commit_quantity(u, s, campaign.id, 200) for u, s in shops]
    gb.end_window(campaign)
    db.session.commit()

    result = close_campaign(campaign.id)
    db.session.commit()
    assert (result.campaign.result, result.cancelled, result.credit_notes) == ("failed", 2, 0)
    for commitment, (user, _shop) in zip(commitments, shops):
        assert db.session.get(Order, commitment.order_id).status == "cancelled"
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == commitment.order_id,
                                                           OrderEvent.to_status == "cancelled"))
        assert event.note_message == Message("groupbuy.failed", {"name": campaign.name, "pool": 400, "min": 500})
        notice = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
        assert notice.message == "order.status" and notice.params["note"]["code"] == "groupbuy.failed"
    assert close_campaign(campaign.id).closed_now is False
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_a_rejected_commitment_does_not_count_at_close(world, product):
    from app.services.ordering import lifecycle

    campaign = gb.campaign(world.orgs["dealer"], product, min_pool=300)
    (u1, s1), (u2, s2) = gb.shop_of(world), gb.shop_of(world)
    groupbuy.commit_quantity(u1, s1, campaign.id, 250)
    dropped = groupbuy.commit_quantity(u2, s2, campaign.id, 100)
    lifecycle.act_as_seller(world.orgs["dealer"].id, dropped.order_id, "rejected", world.users["dealer"].id, "缺货")
    db.session.commit()
    result = close_campaign(campaign.id, early=True)
    assert (result.campaign.result, result.campaign.pool_qty) == ("failed", 250)


def test_nothing_can_be_committed_before_publishing_or_after_the_close(world, product):
    from app.services.core.errors import NotFound

    user, shop = gb.shop_of(world)
    draft = gb.campaign(world.orgs["dealer"], product, status="draft")
    campaign = gb.campaign(world.orgs["dealer"], product)
    db.session.commit()
    with pytest.raises(NotFound):
        groupbuy.commit_quantity(user, shop, draft.id, 10)  # a draft is not even visible to shops
    close_campaign(campaign.id, early=True)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        groupbuy.commit_quantity(user, shop, campaign.id, 10)
    assert "不在进行中" in refused.value.message
