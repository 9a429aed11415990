"""Approving what is available (ordering.shortage): per-line availability, the rest backordered
(a linked order held until a receipt releases it) or cancelled with a reason, quantities reduced
with the buyer told; totals, discounts, credit and reservations follow; nothing changes on a
refusal."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Order, OrderStatus, StockBalance
from app.models.approval import OrderReviewReason
from app.services.core.errors import DomainError, NotFound
from app.services.ordering import lifecycle, shortage
from app.services.ordering.cart import tax_included
from tests import builders_lifecycle as b
from tests import builders_stock
from tests import factories


@pytest.fixture
def short(world):
    """retailer → dealer; the dealer's warehouse holds 6 of `cola` and 10 of `tea`; the order
    asks 10 of each (cola is 4 short)."""
    cola, tea = factories.product(), factories.product()
    warehouse = b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {cola: 6, tea: 10})
    order = b.order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 10), (tea, 10)])
    db.session.commit()
    return order, cola, tea, warehouse


def _reserved(warehouse, product) -> int:
    return db.session.scalar(select(StockBalance.reserved).where(StockBalance.warehouse_id == warehouse.id,
                                                                 StockBalance.product_id == product.id))


def _lines(order) -> dict:
    return {line.product_id: line.qty for line in order.lines}


def test_availability_shows_what_each_line_can_get(short):
    order, cola, tea, _wh = short
    rows = {r.line.product_id: r for r in shortage.availability(order)}
    assert (rows[cola.id].available, rows[cola.id].suppliable, rows[cola.id].short) == (6, 6, 4)
    assert (rows[tea.id].available, rows[tea.id].suppliable, rows[tea.id].short) == (10, 10, 0)


def test_approve_available_backorders_the_rest_and_a_receipt_releases_it(short, world):
    order, cola, tea, warehouse = short
    line = {l.product_id: l for l in order.lines}
    dealer = world.users["dealer"]

    approved = shortage.approve_available(world.orgs["dealer"].id, order.id, dealer.id,
                                          {line[cola.id].id: 6}, shortage.BACKORDER)
    db.session.commit()

    assert approved.status == "approved" and _lines(approved) == {cola.id: 6, tea.id: 10}
    assert approved.total_fen == 6 * cola.base_price_fen + 10 * tea.base_price_fen
    assert approved.tax_fen == (tax_included(6 * cola.base_price_fen, cola.tax_rate)
                                + tax_included(10 * tea.base_price_fen, tea.tax_rate))
    assert _reserved(warehouse, cola) == 6 and _reserved(warehouse, tea) == 10
    backorder = shortage.backorder_for(order.id)
    assert backorder.status == "on_hold" and backorder.buyer_id == order.buyer_id
    assert _lines(backorder) == {cola.id: 4} and backorder.total_fen == 4 * cola.base_price_fen
    assert [r.code for r in db.session.scalars(select(OrderReviewReason).where(
        OrderReviewReason.order_id == backorder.id))] == ["stock_short"]
    notices = b.notices_for(world.users["retailer"])
    assert any("数量已调整" in b.shown(n).title and "10 → 6" in b.shown(n).body and backorder.number in b.shown(n).body
               for n in notices)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "order.reduce",
                                                         AuditEvent.entity_id == order.id)) is not None

    builders_stock.stock(warehouse, cola, 3)  # not enough yet: the backorder stays held
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "on_hold"
    builders_stock.stock(warehouse, cola, 5)
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "approved"
    assert _reserved(warehouse, cola) == 10


def test_cancelling_the_rest_needs_a_reason_and_drops_an_empty_line(short, world):
    order, cola, tea, warehouse = short
    line = {l.product_id: l for l in order.lines}
    seller, actor = world.orgs["dealer"].id, world.users["dealer"].id
    with pytest.raises(DomainError) as refused:
        shortage.approve_available(seller, order.id, actor, {line[cola.id].id: 0}, shortage.CANCEL, "")
    assert refused.value.field == "reason"
    db.session.rollback()

    shortage.approve_available(seller, order.id, actor, {line[cola.id].id: 0}, shortage.CANCEL, "本周断货")
    db.session.commit()
    order = db.session.get(Order, order.id)
    assert _lines(order) == {tea.id: 10} and order.line_count == 1 and order.total_fen == 10 * tea.base_price_fen
    assert shortage.backorder_for(order.id) is None and _reserved(warehouse, cola) == 0


def test_a_discount_shrinks_with_the_line_and_the_backorder_keeps_the_rest(short, world):
    order, cola, _tea, _wh = short
    line = next(l for l in order.lines if l.product_id == cola.id)
    line.discount_fen = 101  # 10 cases, 1.01 yuan off
    line.line_total_fen -= 101
    order.total_fen -= 101
    db.session.commit()

    shortage.approve_available(world.orgs["dealer"].id, order.id, world.users["dealer"].id, {line.id: 6},
                               shortage.BACKORDER)
    db.session.commit()
    kept = next(l for l in db.session.get(Order, order.id).lines if l.product_id == cola.id)
    rest = shortage.backorder_for(order.id).lines[0]
    assert (kept.discount_fen, rest.discount_fen) == (61, 40)  # 60.6 rounded half up; the remainder
    assert kept.line_total_fen == 6 * cola.base_price_fen - 61 and rest.line_total_fen == 4 * cola.base_price_fen - 40


@pytest.mark.parametrize("keep", [-1, 11, None])
def test_a_bad_quantity_is_refused_next_to_its_line_and_nothing_changes(short, world, keep):
    order, cola, _tea, warehouse = short
    line = next(l for l in order.lines if l.product_id == cola.id)
    with pytest.raises(DomainError) as refused:
        shortage.approve_available(world.orgs["dealer"].id, order.id, world.users["dealer"].id, {line.id: keep},
                                   shortage.BACKORDER)
    assert refused.value.field == f"keep_{line.id}"
    db.session.rollback()
    assert db.session.get(Order, order.id).status == "submitted" and _reserved(warehouse, cola) == 0


def test_keeping_nothing_at_all_is_refused(short, world):
    order, *_ = short
    with pytest.raises(DomainError):
        shortage.approve_available(world.orgs["dealer"].id, order.id, world.users["dealer"].id,
                                   {line.id: 0 for line in order.lines}, shortage.CANCEL, "x")


def test_a_stale_page_or_another_sellers_order_changes_nothing(short, world):
    order, cola, _tea, _wh = short
    line = next(l for l in order.lines if l.product_id == cola.id)
    with pytest.raises(lifecycle.TransitionRefused):
        shortage.approve_available(world.orgs["dealer"].id, order.id, world.users["dealer"].id, {line.id: 6},
                                   shortage.BACKORDER, seen="on_hold")
    with pytest.raises(NotFound):
        shortage.approve_available(world.orgs["retailer"].id, order.id, world.users["dealer"].id, {line.id: 6},
                                   shortage.BACKORDER)
    db.session.rollback()
    assert _lines(db.session.get(Order, order.id))[cola.id] == 10


def test_approving_more_than_is_available_is_a_shortage_and_rolls_back(short, world):
    from app.services.inventory import StockShortage

    order, cola, _tea, warehouse = short
    line = next(l for l in order.lines if l.product_id == cola.id)
    with pytest.raises(StockShortage):
        shortage.approve_available(world.orgs["dealer"].id, order.id, world.users["dealer"].id, {line.id: 8},
                                   shortage.BACKORDER)
    db.session.rollback()
    assert db.session.get(Order, order.id).status == OrderStatus.SUBMITTED.value
    assert shortage.backorder_for(order.id) is None and _reserved(warehouse, cola) == 0


def test_the_credit_check_runs_on_the_reduced_total(world):
    from app.models.credit import CreditProfile

    shop = world.orgs["retailer"]
    shop.credit_limit_fen = 30_000
    db.session.add(CreditProfile(customer_id=shop.id, allow_credit=True))
    cola = factories.product(base_price_fen=4800)
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {cola: 6})
    order = b.order(shop, world.orgs["dealer"], [(cola, 10)])  # ¥480 over a ¥300 limit; 6 cases are ¥288
    db.session.commit()
    line = order.lines[0].id
    seller, actor = world.orgs["dealer"].id, world.users["dealer"].id
    with pytest.raises(DomainError) as refused:  # the whole order would need the override
        lifecycle.act_as_seller(seller, order.id, "approved", actor)
    assert refused.value.field == "credit_confirmed"
    db.session.rollback()

    approved = shortage.approve_available(seller, order.id, actor, {line: 6}, shortage.CANCEL, "缺货")
    db.session.commit()
    assert approved.status == "approved" and approved.total_fen == 28_800


def _backordered(short, world):
    """The order approved with 6 cola and 10 tea reserved, 4 cola backordered and held."""
    order, cola, _tea, _warehouse = short
    line = {l.product_id: l for l in order.lines}
    shortage.approve_available(world.orgs["dealer"].id, order.id, world.users["dealer"].id,
                               {line[cola.id].id: 6}, shortage.BACKORDER)
    db.session.commit()
    backorder = shortage.backorder_for(order.id)
    assert backorder.status == "on_hold"
    return backorder


def test_a_cancelled_orders_released_reservation_releases_a_backorder(short, world):
    """Issue 10: backorders waited for a receipt even when stock became available otherwise."""
    order, cola, _tea, warehouse = short
    backorder = _backordered(short, world)
    other = b.order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 1)])  # submitted, not a backorder
    db.session.commit()
    lifecycle.act_as_seller(world.orgs["dealer"].id, order.id, OrderStatus.CANCELLED.value, world.users["dealer"].id,
                            "客户不要了")
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "approved"
    assert _reserved(warehouse, cola) == 4  # the backorder holds 4 of the 6 released
    assert db.session.get(Order, other.id).status == "submitted"  # only held backorders are released
    assert db.session.scalars(select(OrderReviewReason).where(OrderReviewReason.order_id == backorder.id)).all() == []


def test_a_count_or_adjustment_up_releases_a_backorder_a_write_down_does_not(short, world):
    from app.models import StockLot
    from app.services.inventory import counts, operations

    _order, cola, _tea, warehouse = short
    backorder = _backordered(short, world)
    lot = db.session.scalar(select(StockLot).where(StockLot.warehouse_id == warehouse.id,
                                                   StockLot.product_id == cola.id))
    operations.adjust_lot(lot, 2, "找到两箱", actor_id=world.users["dealer"].id)
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "on_hold"  # 2 free, 4 wanted

    count = counts.open_count(warehouse.id, actor_id=world.users["dealer"].id, product_id=cola.id)
    counts.record_counted(count, {line.id: line.lot.on_hand + 2 for line in count.lines})
    counts.post_count(count, actor_id=world.users["dealer"].id)
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "approved" and _reserved(warehouse, cola) == 10


def test_a_transfer_received_releases_a_backorder(short, world):
    from app.services.inventory import transfers

    _order, cola, _tea, warehouse = short
    backorder = _backordered(short, world)
    second = builders_stock.warehouse(world.orgs["dealer"], world.regions["hz"], code="DW2", name="二仓")
    builders_stock.stock(second, cola, 4)
    transfer = transfers.create_transfer(second, warehouse, {cola.id: 4}, actor_id=world.users["dealer"].id)
    transfers.ship_transfer(transfer, actor_id=world.users["dealer"].id)
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "on_hold"  # on the road
    transfers.receive_transfer(transfer, actor_id=world.users["dealer"].id)
    db.session.commit()
    assert db.session.get(Order, backorder.id).status == "approved" and _reserved(warehouse, cola) == 10
