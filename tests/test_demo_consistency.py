"""The demo data tells one story: every seeded order has the events and documents its status
implies, the credit figures agree on every page and in the approval rule, and a seeded report
matches a computation by hand. Built once for this module at the "tiny" scale (the same code as
small and full)."""
import re
import statistics
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import Invoice, Order, OrderEvent, OrderLine, Organisation, User
from app.models.credit import CreditNote, CreditProfile, Payment, PaymentAllocation
from app.models.fulfilment import (DeliverySignOff, ReturnLine, ReturnRequest, Shipment, ShipmentLine,
                                   ShipmentLot)
from app.services.approval.reports import approval_report
from app.services.core.clock import LOCAL, today_local
from app.services.credit import limits as credit
from app.services.credit.statements import statement
from app.services.fulfilment.progress import progress
from app.services.inventory.daysql import start_of_local_day
from app.services.ordering import delivery_terms as terms
from app.web.common.filters import yuan
from tests.demo_build import demo_fixtures

pytestmark = pytest.mark.xdist_group("demo-seed")  # one worker builds the demo data, one module at a time

SHIPPED = {"shipped", "delivered", "completed"}
SIGNED = {"delivered", "completed"}
TRAIL = {"submitted": ["submitted"], "approved": ["submitted", "approved"],
         "shipped": ["submitted", "approved", "shipped"], "delivered": ["submitted", "approved", "shipped", "delivered"],
         "completed": ["submitted", "approved", "shipped", "delivered", "completed"],
         "cancelled": ["submitted", "cancelled"], "rejected": ["submitted", "rejected"]}
# Presale orders wait for their campaign's release, then join the flow (or are cancelled unpaid).
PRESALE_TRAIL = {"presale_held": ["presale_held"], "approved": ["presale_held", "approved"],
                 "submitted": ["presale_held", "submitted"], "cancelled": ["presale_held", "approved", "cancelled"]}
PRESALE_SHORT = ["presale_held", "submitted", "cancelled"]  # released short of stock, then cancelled unpaid


built, db = demo_fixtures("tiny")


def statuses() -> dict[int, str]:
    return dict(_db.session.execute(select(Order.id, Order.status)).all())


def test_every_order_has_the_documents_its_status_implies():
    status_of = statuses()
    assert SHIPPED <= set(status_of.values())
    shipments = defaultdict(int)
    for order_id, in _db.session.execute(select(Shipment.order_id)):
        shipments[order_id] += 1
    invoiced = dict(_db.session.execute(select(Invoice.order_id, Invoice.total_fen)).all())
    signed = set(_db.session.scalars(select(DeliverySignOff.order_id)))
    totals = dict(_db.session.execute(select(Order.id, Order.total_fen)).all())
    for order_id, status in status_of.items():
        assert shipments[order_id] == (1 if status in SHIPPED else 0), (order_id, status)
        assert (order_id in invoiced) == (status in SHIPPED), (order_id, status)
        assert (order_id in signed) == (status in SIGNED), (order_id, status)
        if order_id in invoiced:
            assert invoiced[order_id] == totals[order_id]


def test_shipments_carry_every_ordered_case_with_its_lots():
    shipped = dict(_db.session.execute(select(ShipmentLine.order_line_id, func.sum(ShipmentLine.qty))
                                       .group_by(ShipmentLine.order_line_id)).all())
    ordered = _db.session.execute(select(OrderLine.id, OrderLine.qty, Order.status).join(Order)).all()
    for line_id, qty, status in ordered:
        assert shipped.get(line_id, 0) == (qty if status in SHIPPED else 0)
    by_lines = dict(_db.session.execute(select(Shipment.id, func.sum(ShipmentLine.qty)).join(ShipmentLine)
                                        .group_by(Shipment.id)).all())
    by_lots = dict(_db.session.execute(select(ShipmentLot.shipment_id, func.sum(ShipmentLot.qty))
                                       .group_by(ShipmentLot.shipment_id)).all())
    assert by_lines == by_lots
    for batch_no, expiry, shipped_at in _db.session.execute(
            select(ShipmentLot.batch_no, ShipmentLot.expiry_date, Shipment.shipped_at).join(Shipment)):
        assert re.fullmatch(r"\d{6}-\d{3}-1", batch_no)
        assert expiry > shipped_at.astimezone(LOCAL).date()  # nothing ships expired


def test_events_follow_the_lifecycle_and_the_documents():
    status_of = statuses()
    trails = defaultdict(list)
    for order_id, at, from_status, to_status in _db.session.execute(
            select(OrderEvent.order_id, OrderEvent.at, OrderEvent.from_status, OrderEvent.to_status)
            .order_by(OrderEvent.order_id, OrderEvent.at, OrderEvent.id)):
        trails[order_id].append((at, from_status, to_status))
    updated = dict(_db.session.execute(select(Order.id, Order.updated_at)).all())
    presale = set(_db.session.scalars(select(Order.id).where(Order.kind == "presale")))
    assert presale, "the presale step made no order"
    for order_id, status in status_of.items():
        trail = trails[order_id]
        expected = (PRESALE_TRAIL if order_id in presale else TRAIL)[status]
        if order_id in presale and [to for _at, _from, to in trail] == PRESALE_SHORT:
            expected = PRESALE_SHORT
        assert [to for _at, _from, to in trail] == expected, order_id
        assert [f for _at, f, _to in trail] == [None] + expected[:-1]
        assert updated[order_id] == trail[-1][0], (order_id, status, trail)
    shipped_at = dict(_db.session.execute(select(Shipment.order_id, Shipment.shipped_at)).all())
    signed_at = dict(_db.session.execute(select(DeliverySignOff.order_id, DeliverySignOff.signed_at)).all())
    for order_id, at in shipped_at.items():
        assert next(a for a, _f, to in trails[order_id] if to == "shipped") == at
    for order_id, at in signed_at.items():
        assert next(a for a, _f, to in trails[order_id] if to == "delivered") == at


def test_invoices_payments_and_credit_notes_add_up():
    allocated = dict(_db.session.execute(select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_fen))
                                         .group_by(PaymentAllocation.invoice_id)).all())
    for invoice in _db.session.scalars(select(Invoice)):
        assert invoice.paid_fen == allocated.get(invoice.id, 0)
        assert (invoice.status == "paid") == (invoice.paid_fen == invoice.total_fen)
    payments = dict(_db.session.execute(select(Payment.id, Payment.amount_fen)).all())
    per_payment = dict(_db.session.execute(select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_fen))
                                           .group_by(PaymentAllocation.payment_id)).all())
    assert payments == per_payment
    spent = dict(_db.session.execute(select(Payment.reference, func.sum(Payment.amount_fen))
                                     .where(Payment.method == "credit").group_by(Payment.reference)).all())
    notes = _db.session.scalars(select(CreditNote)).all()
    assert {n.reason for n in notes} >= {"damaged", "return"}
    for note in notes:
        assert note.amount_fen - note.remaining_fen == spent.get(note.number, 0)
    # Shops pay on delivery: what they owe is for orders still on the road.
    open_shop_orders = _db.session.execute(
        select(Order.status).join(Invoice, Invoice.order_id == Order.id)
        .join(Organisation, Organisation.id == Order.buyer_id)
        .where(Organisation.kind == "retailer", Invoice.status == "open")).scalars().all()
    assert set(open_shop_orders) <= {"shipped"}


def test_every_order_is_paid_as_its_buyer_may_pay_and_cash_on_delivery_is_paid_at_delivery():
    """No shop the brand gave no credit buys on account (赊账): each order's payment method is one
    checkout offers its buyer (ordering.delivery_terms.payment_options), and a cash-on-delivery
    order's invoice is settled the day it was signed for, by the driver's cash (and credit notes)."""
    by_buyer = _db.session.execute(
        select(Organisation.kind, CreditProfile.allow_credit, Order.payment_method, func.count())
        .join(Organisation, Organisation.id == Order.buyer_id)
        .outerjoin(CreditProfile, CreditProfile.customer_id == Order.buyer_id)
        .group_by(Organisation.kind, CreditProfile.allow_credit, Order.payment_method)).all()
    methods = {(kind, method) for kind, _allow, method, _n in by_buyer}
    assert {("retailer", "cod"), ("dealer", "credit")} <= methods
    for kind, allow, method, n in by_buyer:
        assert method in terms.payment_options(credit.on_credit(kind, allow)).methods, (kind, allow, method, n)
    cash = _db.session.execute(
        select(Payment.method, Payment.received_on, DeliverySignOff.signed_at)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(Order, Order.id == Invoice.order_id)
        .outerjoin(DeliverySignOff, DeliverySignOff.order_id == Order.id)
        .where(Order.payment_method == "cod")).all()
    assert cash
    for method, received_on, signed_at in cash:
        assert method in {"cod", "credit"} and signed_at is not None
        if method == "cod":
            assert received_on == signed_at.astimezone(LOCAL).date()


def test_returns_belong_to_delivered_orders_and_accepted_ones_are_credited():
    requests = _db.session.scalars(select(ReturnRequest)).all()
    assert "accepted" in {r.status for r in requests}
    status_of = statuses()
    notes = {n.id: n for n in _db.session.scalars(select(CreditNote))}
    for request in requests:
        assert status_of[request.order_id] in SIGNED
        order = _db.session.get(Order, request.order_id)
        rows = {row.line.id: row for row in progress(order)}
        for line in _db.session.scalars(select(ReturnLine).where(ReturnLine.return_id == request.id)):
            assert 0 < line.qty <= rows[line.order_line_id].delivered
        if request.status == "accepted":
            assert notes[request.credit_note_id].amount_fen == request.amount_fen
        else:
            assert request.credit_note_id is None


def _username(org_id: int) -> str:
    return _db.session.scalar(select(User.username).where(User.org_id == org_id).order_by(User.id))


def _shop_order(status: str) -> Order:
    """A shop's order in that status, the demo shop's (retailer000001) when it has one."""
    shop = _db.session.scalar(select(Organisation.id).where(Organisation.code == "R000001"))
    return _db.session.scalar(select(Order).join(Organisation, Organisation.id == Order.buyer_id)
                              .where(Order.status == status, Organisation.kind == "retailer")
                              .order_by((Order.buyer_id == shop).desc(), Order.id.desc()).limit(1))


def test_a_shipped_order_shows_its_shipment_and_a_delivered_one_takes_a_return(app, client):
    shipped = _shop_order("shipped")
    shipment = _db.session.scalar(select(Shipment).where(Shipment.order_id == shipped.id))
    assert all(row.open == 0 for row in progress(shipped))
    client.login(_username(shipped.buyer_id), app.config["DEMO_PASSWORD"])
    page = client.get(f"/retailer/orders/{shipped.id}/delivery")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "尚未发货" not in html and shipment.number in html

    delivered = _db.session.scalar(
        select(Order).join(Organisation, Organisation.id == Order.buyer_id)
        .where(Order.status == "delivered", Organisation.kind == "retailer",
               ~select(ReturnRequest.id).where(ReturnRequest.order_id == Order.id).exists())
        .order_by(Order.id.desc()).limit(1))
    line = max(progress(delivered), key=lambda row: row.returnable)
    assert line.returnable > 0
    shop = type(client)(app)
    shop.login(_username(delivered.buyer_id), app.config["DEMO_PASSWORD"])
    form = shop.get(f"/retailer/orders/{delivered.id}/return")
    assert form.status_code == 200 and f"qty_{line.line.id}" in form.get_data(as_text=True)
    response = shop.post(f"/retailer/orders/{delivered.id}/return",
                         {f"qty_{line.line.id}": "1", "reason": "包装破损"})
    assert response.status_code == 303, response.get_data(as_text=True)[-600:]
    _db.session.remove()
    request = _db.session.scalar(select(ReturnRequest).where(ReturnRequest.order_id == delivered.id))
    assert request.status == "requested" and request.lines[0].qty == 1


def dealers() -> list[Organisation]:
    return _db.session.scalars(select(Organisation).where(Organisation.kind == "dealer")
                               .order_by(Organisation.code)).all()


def test_credit_figures_agree_on_the_dealer_page_the_brand_list_and_the_approval_rule(app, client):
    brand = _db.session.scalar(select(Organisation).where(Organisation.kind == "brand"))
    rows = {row.customer.id: row for row in credit.customer_rows(dealers())}
    admin = client
    admin.login("admin", app.config["DEMO_PASSWORD"])
    brand_list = admin.get("/admin/credit/?kind=dealer").get_data(as_text=True)
    for dealer in dealers():
        summary = credit.summary(dealer)
        assert summary.open_orders_fen < summary.limit_fen // 4  # history is invoiced: only recent orders are open
        assert 0 < summary.available_fen <= summary.limit_fen
        assert rows[dealer.id].available_fen == summary.available_fen
        assert yuan(summary.available_fen) in brand_list
        own = type(client)(app)
        own.login(_username(dealer.id), app.config["DEMO_PASSWORD"])
        assert yuan(summary.available_fen) in own.get("/dealer/credit/").get_data(as_text=True)
        assert yuan(summary.available_fen) in admin.get(f"/admin/credit/customers/{dealer.id}").get_data(as_text=True)

        # The approval rule passes an order up to available credit plus the money held with the seller.
        held = credit.prepayment_fen(dealer.id, brand.id) + credit.unused_credit_fen(dealer.id, brand.id)
        fits = Order(buyer_id=dealer.id, seller_id=brand.id, total_fen=summary.available_fen + held)
        over = Order(buyer_id=dealer.id, seller_id=brand.id, total_fen=summary.available_fen + held + 1)
        assert "credit_limit" not in {r.code for r in credit.check_credit(fits, lock=False)}
        assert "credit_limit" in {r.code for r in credit.check_credit(over, lock=False)}

        # The statement's closing balance is what the dealer owes net of the money it holds.
        today = today_local()
        closing = statement(dealer, today - timedelta(days=90), today, brand).closing_fen
        assert closing == (credit.outstanding_fen(dealer.id, brand.id) - credit.prepayment_fen(dealer.id, brand.id)
                           - credit.unused_credit_fen(dealer.id, brand.id))


def test_dealer001_replenishes_without_a_credit_hold():
    dealer = _db.session.scalar(select(Organisation).where(Organisation.code == "D001"))
    brand = _db.session.scalar(select(Organisation).where(Organisation.kind == "brand"))
    assert credit.check_credit(Order(buyer_id=dealer.id, seller_id=brand.id, total_fen=2_000_000), lock=False) == []


def test_the_order_cycle_report_matches_a_computation_by_hand(built):
    end = built.history_end
    start = end - timedelta(days=59)
    report = approval_report(start, end)
    begins, ends = start_of_local_day(start), start_of_local_day(end + timedelta(days=1))
    orders = dict(_db.session.execute(select(Order.id, Order.status).where(Order.created_at >= begins,
                                                                            Order.created_at < ends)).all())
    approvals = _db.session.execute(select(OrderEvent.order_id, OrderEvent.actor_id)
                                    .where(OrderEvent.to_status == "approved",
                                           OrderEvent.order_id.in_(orders))).all()
    assert report.submitted == len(orders) > 100
    assert report.auto_approved == sum(1 for _o, actor in approvals if actor is None)
    assert report.approved_by_person == sum(1 for _o, actor in approvals if actor is not None)
    assert report.rejected == sum(1 for s in orders.values() if s == "rejected")
    assert report.cancelled == sum(1 for s in orders.values() if s == "cancelled")
    assert 0.6 < report.auto_rate < 0.9

    created = dict(_db.session.execute(select(Order.id, Order.created_at)).all())
    hours = [(at - created[order_id]).total_seconds() / 3600 for order_id, at in _db.session.execute(
        select(OrderEvent.order_id, OrderEvent.at).where(OrderEvent.to_status == "delivered", OrderEvent.at >= begins,
                                                         OrderEvent.at < ends))]
    assert report.delivered == len(hours) > 100
    assert report.median_hours == pytest.approx(statistics.median(hours), abs=1e-6)
    assert report.within_target == sum(1 for h in hours if h <= 48)


def test_the_channel_report_counts_stock_out_days_over_its_default_90_days(app, client):
    """The demo backfills the stock snapshots of the channel report's default range from the
    ledger, so a dealer's stock-out rate is a figure, not "—"."""
    from app.models.analytics import StockSnapshotOwner

    dealer001 = _db.session.scalar(select(Organisation).where(Organisation.code == "D001"))
    days = _db.session.scalar(select(func.count(func.distinct(StockSnapshotOwner.day)))
                              .where(StockSnapshotOwner.owner_id == dealer001.id))
    assert days >= 60  # the ledger of the tiny demo starts within the last 90 days at the latest
    client.login("dealer001", app.config["DEMO_PASSWORD"])
    page = client.get("/dealer/reports/channel").get_data(as_text=True)
    rate = re.search(r"缺货率</dt>\s*<dd[^>]*>([^<]+)<", page)
    assert rate and rate.group(1).strip().endswith("%"), rate


def test_presale_deposits_name_their_orders_by_the_number_shown_on_the_same_day():
    """The finished campaign's orders were moved back a week: their deposits in the shops'
    prepayment ledgers carry the orders' numbers and dates as the order pages show them."""
    from app.models.credit import PrepaymentAccount, PrepaymentEntry
    from app.models.presale import PresaleOrder

    orders = _db.session.execute(select(Order.number, Order.buyer_id, Order.created_at)
                                 .join(PresaleOrder, PresaleOrder.order_id == Order.id)).all()
    deposits = _db.session.execute(select(PrepaymentEntry.reference, PrepaymentAccount.customer_id,
                                          PrepaymentEntry.entered_on)
                                   .join(PrepaymentAccount, PrepaymentAccount.id == PrepaymentEntry.account_id)
                                   .where(PrepaymentEntry.note == "预售定金")).all()
    assert len(deposits) == len(orders) >= 20
    assert {(r, c, d) for r, c, d in deposits} == {(n, b, at.astimezone(LOCAL).date()) for n, b, at in orders}
    assert len({at.astimezone(LOCAL).date() for _n, _b, at in orders}) >= 2  # the moved-back ones and today's
