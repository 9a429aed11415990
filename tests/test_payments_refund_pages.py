"""Issue 14, refunds on the seller's pages: the dealer (its retailers' online payments) and the
brand (its dealers') refund a paid payment fully or in parts from the order page's payment link,
through the payment provider (the sandbox), posting the credit note through the credit services;
an amount above what is refundable is an error next to the field with nothing written; the same
form submitted twice (even at once, on PostgreSQL) refunds once; another organisation's payment
is a 404."""
import re
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.credit import CreditNote
from app.models.payments import PaymentIntent, PaymentRefund
from app.services.payments.intents import accept_notification, create_order_intent
from tests import builders_credit
from tests.builders_payments import invoiced_order, sandbox_notification

NOTIFY = "http://localhost/api/v1/payments/notify/sandbox"


def paid(user, order) -> PaymentIntent:
    """An online payment of the order's invoice, paid through the sandbox's signed notification."""
    intent = create_order_intent(user, order, NOTIFY)
    db.session.commit()
    headers, body = sandbox_notification(intent, "paid")
    assert accept_notification("sandbox", headers, body).status == "paid"
    db.session.commit()
    return intent


def refund_key(page) -> str:
    return re.search(r'name="refund_key" type="hidden" value="(RF[0-9A-F]{24})"', page.get_data(as_text=True)).group(1)


def state(intent_id):
    db.session.expire_all()
    intent = db.session.get(PaymentIntent, intent_id)
    notes = db.session.scalars(select(CreditNote.amount_fen).where(CreditNote.source_ref == f"refund:{intent.reference}")
                               .order_by(CreditNote.id)).all()
    return intent.status, intent.refunded_fen, notes


def test_a_dealer_refunds_part_then_the_rest_from_the_order_page(world, login_as):
    order, _invoice = invoiced_order(world, 10_000)
    intent = paid(world.users["retailer"], order)
    dealer = login_as("dealer")
    order_page = dealer.get(f"/dealer/orders/{order.id}").get_data(as_text=True)
    assert "在线收款" in order_page and f"/dealer/payments/received/{intent.reference}" in order_page

    page = dealer.get(f"/dealer/payments/received/{intent.reference}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "可退金额 ¥100.00" in text and 'value="100.00"' in text
    done = dealer.post(f"/dealer/payments/received/{intent.reference}/refund",
                       {"amount": "30.00", "reason": "少送一箱", "refund_key": refund_key(page)})
    assert done.status_code == 303 and done.headers["Location"] == f"/dealer/payments/received/{intent.reference}"
    assert state(intent.id) == ("paid", 3_000, [3_000])
    after = dealer.get(done.headers["Location"]).get_data(as_text=True)
    assert "已退款 ¥30.00" in after and "少送一箱" in after and "可退金额 ¥70.00" in after

    too_much = dealer.post(f"/dealer/payments/received/{intent.reference}/refund",
                           {"amount": "70.01", "refund_key": refund_key(dealer.get(done.headers["Location"]))})
    assert too_much.status_code == 400
    field = re.search(r'<div class="field invalid" id="field-amount">.*?</div>', too_much.get_data(as_text=True), re.S)
    assert field and "退款金额超过可退金额" in field.group(0)
    assert state(intent.id) == ("paid", 3_000, [3_000])
    not_money = dealer.post(f"/dealer/payments/received/{intent.reference}/refund",
                            {"amount": "abc", "refund_key": refund_key(dealer.get(done.headers["Location"]))})
    assert not_money.status_code == 400 and 'id="field-amount"' in not_money.get_data(as_text=True)

    rest = dealer.post(f"/dealer/payments/received/{intent.reference}/refund",
                       {"amount": "70.00", "refund_key": refund_key(dealer.get(done.headers["Location"]))})
    assert rest.status_code == 303
    assert state(intent.id) == ("refunded", 10_000, [3_000, 7_000])
    final = dealer.get(rest.headers["Location"]).get_data(as_text=True)
    assert "确认退款" not in final and "已退款" in final


def test_the_same_form_submitted_twice_refunds_once(world, login_as):
    order, _invoice = invoiced_order(world, 10_000)
    intent = paid(world.users["retailer"], order)
    dealer = login_as("dealer")
    key = refund_key(dealer.get(f"/dealer/payments/received/{intent.reference}"))
    form = {"amount": "40.00", "refund_key": key}
    for _ in range(2):
        assert dealer.post(f"/dealer/payments/received/{intent.reference}/refund", form).status_code == 303
    assert state(intent.id) == ("paid", 4_000, [4_000])
    reused = dealer.post(f"/dealer/payments/received/{intent.reference}/refund", {"amount": "10.00", "refund_key": key})
    assert reused.status_code == 400 and state(intent.id) == ("paid", 4_000, [4_000])
    assert "该退款表单已提交过另一笔退款" in reused.get_data(as_text=True)
    forged = dealer.post(f"/dealer/payments/received/{intent.reference}/refund", {"amount": "10.00", "refund_key": "x"})
    assert forged.status_code == 400 and "表单已过期" in forged.get_data(as_text=True)
    assert state(intent.id) == ("paid", 4_000, [4_000])


def test_a_double_submit_at_the_same_moment_refunds_once(app, world, login_as):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrency needs PostgreSQL")
    order, _invoice = invoiced_order(world, 10_000)
    intent = paid(world.users["retailer"], order)
    clients = [login_as("dealer") for _ in range(4)]
    key = refund_key(clients[0].get(f"/dealer/payments/received/{intent.reference}"))
    for c in clients[1:]:
        c.get(f"/dealer/payments/received/{intent.reference}")  # each its own CSRF token
    start = threading.Barrier(len(clients))
    answers = []

    def submit(c):
        start.wait()
        answers.append(c.post(f"/dealer/payments/received/{intent.reference}/refund",
                              {"amount": "25.00", "refund_key": key}).status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [303] * len(clients)
    assert state(intent.id) == ("paid", 2_500, [2_500])
    assert db.session.scalar(select(func.count()).select_from(PaymentRefund)) == 1


def test_the_brand_refunds_a_dealer_s_payment_and_nobody_else_reaches_it(world, login_as):
    invoice = builders_credit.invoice(world.orgs["dealer"], world.brand, 80_000)
    db.session.commit()
    intent = paid(world.users["dealer"], invoice.order)
    admin = login_as("admin")
    assert f"/admin/payments/received/{intent.reference}" in admin.get(f"/admin/orders/{invoice.order_id}").get_data(
        as_text=True)
    page = admin.get(f"/admin/payments/received/{intent.reference}")
    done = admin.post(f"/admin/payments/received/{intent.reference}/refund",
                      {"amount": "800.00", "refund_key": refund_key(page)})
    assert done.status_code == 303 and state(intent.id) == ("refunded", 80_000, [80_000])

    retailer_order, _ = invoiced_order(world, 5_000)
    shop_payment = paid(world.users["retailer"], retailer_order)
    # the payer (dealer) cannot refund what it paid the brand; another dealer sees neither
    dealer, dealer_b = login_as("dealer"), login_as("dealer_b")
    assert dealer.get(f"/dealer/payments/received/{intent.reference}").status_code == 404
    for url in (f"/dealer/payments/received/{shop_payment.reference}",
                f"/dealer/payments/received/{shop_payment.reference}/refund"):
        answer = dealer_b.get(url) if url.endswith(shop_payment.reference) else dealer_b.post(
            url, {"amount": "1.00", "refund_key": "RF" + "0" * 24})
        assert answer.status_code == 404
    # the brand's desk lists what was paid to the brand, not to its dealers
    assert admin.get(f"/admin/payments/received/{shop_payment.reference}").status_code == 404
    assert login_as("admin_b").get(f"/admin/payments/received/{intent.reference}").status_code == 403
    assert login_as("retailer").get(f"/dealer/payments/received/{shop_payment.reference}").status_code == 403
    assert state(shop_payment.id) == ("paid", 0, [])
