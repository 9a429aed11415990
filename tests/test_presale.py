"""Presale: deposit maths, allocation and per-customer limits, release (FEFO reservation into the
normal flow), the balance window (refund or forfeit with exact credit notes), invoices settled by
the money paid ahead, and the pages of the three roles."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CreditNote, Order, StockReservation
from app.models.credit import PrepaymentAccount
from app.models.presale import PresaleBuyerQty, PresaleItem, PresaleOrder
from app.services.campaigns import presale, presale_release
from app.services.core.clock import today_local
from app.services.core.errors import DomainError
from app.services.credit.invoicing import ensure_invoice
from app.services.ordering import lifecycle
from tests import builders_presale as bp
from tests import builders_stock as s


def _place(world, item, qty, method="prepayment", key=None, who="retailer"):
    user = world.users[who]
    return presale.place_order(user, user.org, item.id, qty, method, key or f"key-{item.id}-{qty}-{who}-{method}")


def _wallet(world, customer="retailer", seller="dealer"):
    return db.session.scalar(select(PrepaymentAccount.balance_fen).where(
        PrepaymentAccount.customer_id == world.orgs[customer].id,
        PrepaymentAccount.seller_id == world.orgs[seller].id))


@pytest.mark.parametrize("price, qty, pct, deposit", [
    (10_001, 1, 30, 3_000),     # 3000.3 → 3000
    (10_005, 1, 30, 3_002),     # 3001.5 → 3002 (half up)
    (333, 3, 50, 500),          # 999 × 50% = 499.5 → 500, once on the total
    (1, 1, 1, 1),               # never a zero deposit
    (4_800, 7, 100, 33_600),    # full prepayment
])
def test_deposit_is_rounded_once_on_the_order_total(price, qty, pct, deposit):
    money = presale.split(price, qty, pct)
    assert (money.total_fen, money.deposit_fen, money.balance_fen) == (price * qty, deposit, price * qty - deposit)


def test_an_order_takes_the_deposit_from_prepayment_and_waits_unreserved(world):
    item = bp.campaign(deposit_pct=30, price_fen=10_001)
    bp.top_up(world, amount_fen=50_000)
    row = _place(world, item, 3)
    db.session.commit()
    order = db.session.get(Order, row.order_id)
    assert (order.kind, order.status, order.seller_id) == ("presale", "presale_held", world.orgs["dealer"].id)
    assert (row.total_fen, row.deposit_fen, row.balance_fen) == (30_003, 9_001, 21_002)
    assert _wallet(world) == 50_000 - 9_001
    assert db.session.get(PresaleItem, item.id).committed_qty == 3
    assert db.session.scalars(select(StockReservation)).all() == []
    assert lifecycle.seller_actions(order.status, order.id) == []
    with pytest.raises(DomainError):
        lifecycle.act_as_seller(world.orgs["dealer"].id, order.id, "approved", world.users["dealer"].id)
    # the same submit again: the same order, nothing taken twice
    again = _place(world, item, 3)
    assert again.id == row.id and _wallet(world) == 50_000 - 9_001


def test_a_short_prepayment_refuses_the_order_and_keeps_the_allocation(world):
    item = bp.campaign(deposit_pct=50, price_fen=10_000)
    bp.top_up(world, amount_fen=4_999)
    db.session.commit()
    with pytest.raises(DomainError, match="预存款余额不足"):
        _place(world, item, 1)
    db.session.rollback()
    assert db.session.get(PresaleItem, item.id).committed_qty == 0
    assert db.session.scalar(select(Order.id)) is None


def test_allocation_cap_and_per_customer_limit(world):
    item = bp.campaign(planned=5, limit=3, price_fen=1_000)
    bp.top_up(world)
    bp.top_up(world, "retailer_b", "dealer_b")
    db.session.commit()
    _place(world, item, 2)
    db.session.commit()
    with pytest.raises(DomainError, match="每店限购 3"):
        _place(world, item, 2, key="second-try-1")
    db.session.rollback()
    _place(world, item, 1, key="third-try-1")
    db.session.commit()
    with pytest.raises(DomainError, match="只剩 2"):
        _place(world, item, 3, who="retailer_b")
    db.session.rollback()
    _place(world, item, 2, who="retailer_b")
    db.session.commit()
    assert db.session.get(PresaleItem, item.id).committed_qty == 5
    assert {q.buyer_id: q.qty for q in db.session.scalars(select(PresaleBuyerQty))} == {
        world.orgs["retailer"].id: 3, world.orgs["retailer_b"].id: 2}


def test_release_reserves_first_expiry_first_out_and_takes_the_balance(world):
    product = bp.factories.product()
    item = bp.campaign(product, deposit_pct=30, price_fen=10_000)
    warehouse = s.warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    late = s.stock(warehouse, product, 10, batch="LATE", expires_in_days=300)
    early = s.stock(warehouse, product, 4, batch="EARLY", expires_in_days=120)
    bp.top_up(world, amount_fen=100_000)
    row = _place(world, item, 6)
    db.session.commit()
    assert presale_release.release_campaign(item.campaign_id) == 1
    assert presale_release.release_campaign(item.campaign_id) == 0  # idempotent
    db.session.commit()
    order = db.session.get(Order, row.order_id)
    assert order.status == "approved"
    [reservation] = db.session.scalars(select(StockReservation)).all()
    assert reservation.qty == 6
    from app.services.inventory import allocation
    plan = allocation.plan_fefo(allocation.reservation_queue(warehouse.id, product.id, up_to_id=reservation.id),
                                allocation.fefo_lots(warehouse.id, product.id, today_local() + timedelta(days=1)),
                                today_local())[reservation.id]
    assert [(p.lot.batch_no, p.qty) for p in plan] == [("EARLY", 4), ("LATE", 2)]
    assert early.id != late.id
    row = db.session.get(PresaleOrder, row.id)
    assert (row.balance, row.balance_paid_fen) == ("paid", 42_000)
    assert _wallet(world) == 100_000 - 60_000
    # shipped: the invoice is settled by what was paid ahead, exactly
    order.status = "shipped"
    invoice = ensure_invoice(order.id)
    db.session.commit()
    assert (invoice.total_fen, invoice.paid_fen, invoice.status) == (60_000, 60_000, "paid")
    assert _wallet(world) == 40_000


def _released_with_balance_due(world, non_payment):
    item = bp.campaign(deposit_pct=30, price_fen=10_001, non_payment=non_payment, planned=10)
    bp.top_up(world, amount_fen=9_001)  # the deposit only: the balance stays due at release
    row = _place(world, item, 3)
    db.session.commit()
    presale_release.release_campaign(item.campaign_id)
    db.session.commit()
    row = db.session.get(PresaleOrder, row.id)
    assert row.balance == "due"
    return item, row


def test_unpaid_balance_is_cancelled_with_the_deposit_refunded_by_credit_note(world):
    item, row = _released_with_balance_due(world, "refund")
    closes = item.campaign.balance_closes_on
    assert presale_release.cancel_unpaid(closes) == 0  # the last day still counts
    assert presale_release.cancel_unpaid(closes + timedelta(days=1)) == 1
    assert presale_release.cancel_unpaid(closes + timedelta(days=1)) == 0  # twice: one credit note
    db.session.commit()
    row = db.session.get(PresaleOrder, row.id)
    [note] = db.session.scalars(select(CreditNote)).all()
    assert (note.amount_fen, note.remaining_fen, note.customer_id) == (9_001, 9_001, world.orgs["retailer"].id)
    assert (row.balance, row.deposit_outcome, row.credit_note_id) == ("cancelled", "refund", note.id)
    assert db.session.get(Order, row.order_id).status == "cancelled"
    assert db.session.get(PresaleItem, item.id).committed_qty == 0
    assert item.campaign.status == "finished"


def test_unpaid_balance_is_cancelled_with_the_deposit_forfeited(world):
    item, row = _released_with_balance_due(world, "forfeit")
    assert presale_release.cancel_unpaid(item.campaign.balance_closes_on + timedelta(days=1)) == 1
    db.session.commit()
    row = db.session.get(PresaleOrder, row.id)
    assert (row.balance, row.deposit_outcome, row.credit_note_id) == ("cancelled", "forfeit", None)
    assert db.session.scalars(select(CreditNote)).all() == []
    assert db.session.get(PresaleItem, item.id).committed_qty == 0


def test_a_due_balance_paid_from_prepayment_in_the_window_is_not_cancelled(world, app):
    item, row = _released_with_balance_due(world, "forfeit")
    bp.top_up(world, amount_fen=21_002)
    item.campaign.balance_opens_on = today_local()
    presale.pay_balance(world.users["retailer"], world.orgs["retailer"], row.id)
    db.session.commit()
    assert presale_release.cancel_unpaid(item.campaign.balance_closes_on + timedelta(days=1)) == 0
    assert db.session.get(PresaleOrder, row.id).balance == "paid"
    assert _wallet(world) == 0


def test_a_seller_cancelling_after_release_refunds_everything_paid(world):
    item, row = _released_with_balance_due(world, "forfeit")
    lifecycle.act_as_seller(world.orgs["dealer"].id, row.order_id, "cancelled", world.users["dealer"].id, "缺货")
    db.session.commit()
    [note] = db.session.scalars(select(CreditNote)).all()
    assert note.amount_fen == 9_001
    assert db.session.get(PresaleItem, item.id).committed_qty == 0


# --- pages --------------------------------------------------------------------------------------

def test_retailer_orders_on_the_phone_page_without_js(world, retailer):
    item = bp.campaign(deposit_pct=30, price_fen=10_001)
    bp.top_up(world, amount_fen=50_000)
    db.session.commit()
    page = retailer.get("/retailer/presale").get_data(as_text=True)
    assert "定金 ¥30.00 现付，尾款 ¥70.01 于" in page
    form = retailer.get(f"/retailer/presale/{item.id}")
    key = form.get_data(as_text=True).split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    bad = retailer.post(f"/retailer/presale/{item.id}", {"qty": "0", "payment_method": "prepayment",
                                                         "idempotency_key": key})
    assert bad.status_code == 400 and "aria-invalid=\"true\"" in bad.get_data(as_text=True)
    done = retailer.post(f"/retailer/presale/{item.id}", {"qty": "2", "payment_method": "prepayment",
                                                          "idempotency_key": key})
    assert done.status_code == 303 and done.headers["Location"].endswith("/retailer/presale/orders")
    mine = retailer.get("/retailer/presale/orders")
    assert "合计 ¥200.02；定金 ¥60.01" in mine.get_data(as_text=True) and mine.headers["Vary"].count("HX-Request")
    fragment = retailer.hx_get("/retailer/presale/orders").get_data(as_text=True)
    assert "<html" not in fragment and "¥200.02" in fragment


def test_no_retailer_sees_another_ones_presale_orders(world, login_as):
    item = bp.campaign()
    bp.top_up(world)
    row = _place(world, item, 1)
    db.session.commit()
    other = login_as("retailer_b")
    assert row.order.number not in other.get("/retailer/presale/orders").get_data(as_text=True)
    assert other.post(f"/retailer/presale/orders/{row.id}/pay").status_code == 404


def test_dealer_pipeline_shows_only_its_own_shops(world, login_as):
    item = bp.campaign()
    bp.top_up(world)
    bp.top_up(world, "retailer_b", "dealer_b")
    _place(world, item, 4)
    _place(world, item, 7, who="retailer_b")
    db.session.commit()
    mine = login_as("dealer").get("/dealer/presale").get_data(as_text=True)
    assert '<td class="num">4</td>' in mine and '<td class="num">7</td>' not in mine


def test_admin_campaign_form_errors_and_lifecycle(world, login_as):
    admin = login_as("admin")
    today = today_local()
    data = {"code": "NY27", "name": "新年礼盒", "deposit_pct": "30", "non_payment": "refund",
            "deposit_opens_on": today.isoformat(), "deposit_closes_on": (today + timedelta(days=5)).isoformat(),
            "release_on": (today + timedelta(days=3)).isoformat(),
            "balance_opens_on": today.isoformat(), "balance_closes_on": (today + timedelta(days=9)).isoformat()}
    bad = admin.post("/admin/presale/new", data)
    assert bad.status_code == 400 and "发布日须晚于定金截止日" in bad.get_data(as_text=True)
    data["release_on"] = (today + timedelta(days=6)).isoformat()
    done = admin.post("/admin/presale/new", data)
    assert done.status_code == 303
    detail_url = done.headers["Location"]
    campaign_id = int(detail_url.rstrip("/").split("/")[-1])
    edit = admin.get(f"/admin/presale/{campaign_id}/edit")
    assert edit.status_code == 200 and 'value="NY27"' in edit.get_data(as_text=True)
    assert admin.post(f"/admin/presale/{campaign_id}/open").status_code == 303  # refused: no product yet
    db.session.expire_all()
    assert presale.campaign(campaign_id).status == "draft"
    product = bp.factories.product(code="NEWBOX")
    db.session.commit()
    bad = admin.post(f"/admin/presale/{campaign_id}/items", {"product_code": "NOPE", "price": "48", "planned_qty": "10"})
    assert bad.status_code == 400 and "没有这个商品编码" in bad.get_data(as_text=True)
    assert admin.post(f"/admin/presale/{campaign_id}/items", {"product_code": product.code, "price": "48.50",
                                                               "planned_qty": "500"}).status_code == 303
    assert admin.post(f"/admin/presale/{campaign_id}/open").status_code == 303
    page = admin.get(detail_url).get_data(as_text=True)
    assert "已预订 0 / 计划生产 500" in page and "接受定金" in page
    assert admin.post(f"/admin/presale/{campaign_id}/release").status_code == 303
    from jobs.presale import release_job

    release_job(campaign_id)  # what the enqueued job runs (inline without REDIS_URL)
    db.session.expire_all()
    assert presale.campaign(campaign_id).status == "released"
    assert login_as("admin_b").get("/admin/presale").status_code == 403


# --- bounded queries ----------------------------------------------------------------------------

@pytest.mark.parametrize("orders", [1, 6])
def test_presale_lists_read_a_fixed_number_of_statements(world, login_as, orders):
    from tests.builders_ordering import count_queries

    bp.top_up(world)
    for n in range(orders):
        item = bp.campaign()
        _place(world, item, 1, key=f"budget-key-{n:03d}")
    db.session.commit()
    counts = {}
    for role, url in (("retailer", "/retailer/presale"), ("retailer", "/retailer/presale/orders"),
                      ("dealer", "/dealer/presale"), ("admin", "/admin/presale")):
        client = login_as(role)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts[url] = len(counter)
    # the same for 1 and 6 orders (session and user reads included)
    assert counts == {"/retailer/presale": 3, "/retailer/presale/orders": 3, "/dealer/presale": 2,
                      "/admin/presale": 4}, counts
