"""The sandbox checkout as a new user meets it: it works on a fresh `flask run` on any port
without PUBLIC_URL, says in plain words (no exception text) when the notification cannot be
delivered, refuses to pay a payment that is closed, and "查询支付结果" always answers."""
import logging
import socket

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Payment
from app.models.credit import PrepaymentAccount
from app.models.payments import PaymentIntent
from tests.builders_payments import LiveServer, invoiced_order
from tests.test_payments_web import _sandbox_reference

pytestmark = pytest.mark.xdist_group("serial")  # a live HTTP server


@pytest.fixture
def dead_url():
    """An address where nothing listens: a port kept bound without listening for the whole test,
    so connecting is refused at once. (A port released before use can be picked as a connection's
    own source port, and Linux then connects the socket to itself.)"""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{holder.getsockname()[1]}"


@pytest.fixture
def unconfigured(app, dead_url):
    """PUBLIC_URL left at its default, which is not where this server listens."""
    previous = app.config["PUBLIC_URL"], app.config.get("PUBLIC_URL_SET")
    app.config["PUBLIC_URL"], app.config["PUBLIC_URL_SET"] = dead_url, False
    yield
    app.config["PUBLIC_URL"], app.config["PUBLIC_URL_SET"] = previous


def test_without_public_url_the_sandbox_notifies_the_server_the_payer_is_on(app, world, retailer, unconfigured):
    order, invoice = invoiced_order(world, 4_200)
    server = LiveServer(app)
    server.thread.start()  # served on a random port; PUBLIC_URL stays unset and wrong
    try:
        site = f"http://localhost:{server.server.server_port}"
        reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}", base_url=site))
        paid = retailer.post(f"/payments/sandbox/{reference}/pay", base_url=site)
    finally:
        server.server.shutdown()
        server.thread.join()
    assert paid.status_code == 303, paid.get_data(as_text=True)[-800:]
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"
    assert db.session.scalar(select(PaymentIntent.status)) == "paid"


def test_an_unreachable_notify_address_gives_a_plain_message_and_logs_the_details(app, world, retailer, dead_url,
                                                                                  caplog):
    order, invoice = invoiced_order(world, 4_200)
    previous = app.config["PUBLIC_URL"], app.config.get("PUBLIC_URL_SET")
    app.config["PUBLIC_URL"], app.config["PUBLIC_URL_SET"] = dead_url, True  # configured, but wrong
    try:
        reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
        with caplog.at_level(logging.ERROR):
            answer = retailer.post(f"/payments/sandbox/{reference}/pay")
    finally:
        app.config["PUBLIC_URL"], app.config["PUBLIC_URL_SET"] = previous
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "支付通知未能送达商户，付款未完成" in text
    assert "HTTPConnectionPool" not in text and "Connection" not in text and "Errno" not in text
    assert "确认支付" in text  # the payer may try again
    assert dead_url in caplog.text
    db.session.expire_all()
    assert db.session.scalar(select(PaymentIntent.status)) == "created"
    assert db.session.get(Invoice, invoice.id).paid_fen == 0


def test_a_failed_payment_cannot_be_paid_afterwards_on_the_sandbox(world, retailer, unconfigured):
    order, invoice = invoiced_order(world, 5_000)
    with LiveServer(retailer.app):
        reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
        assert retailer.post(f"/payments/sandbox/{reference}/fail").status_code == 303
        page = retailer.get(f"/payments/sandbox/{reference}").get_data(as_text=True)
        assert "确认支付" not in page and "该笔支付已处理" in page
        late = retailer.post(f"/payments/sandbox/{reference}/pay")  # a tab opened before the failure
        again = retailer.post(f"/payments/sandbox/{reference}/fail")
    text = late.get_data(as_text=True)
    assert late.status_code == 409 and "该支付单已关闭（支付失败），不能再付款" in text and "确认支付" not in text
    assert again.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(PaymentIntent.status)) == "failed"
    assert db.session.get(Invoice, invoice.id).paid_fen == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(func.count()).select_from(PrepaymentAccount)) == 0
    # the order still offers to pay, with a new payment
    retry = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    assert retry != reference


def test_asking_for_the_result_always_answers_with_the_status(world, retailer):
    order, _ = invoiced_order(world, 5_000)
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    asked = retailer.post(f"/retailer/payments/{reference}/refresh")
    assert asked.status_code == 303
    page = retailer.get(asked.headers["Location"]).get_data(as_text=True)
    assert "支付渠道尚未给出结果，当前状态：待支付" in page


def test_the_payments_table_scrolls_inside_the_order_page(world, retailer):
    order, _ = invoiced_order(world, 5_000)
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    page = retailer.get(f"/retailer/orders/{order.id}").get_data(as_text=True)
    panel = page[page.index('id="order-payment"'):]
    panel = panel[:panel.index("</section>")]
    assert reference in panel
    # the long payment reference sits in a scroll container (.table-wrap), so at 360 px the
    # table scrolls inside the card instead of widening the page
    assert panel.index('<div class="table-wrap">') < panel.index("<table") < panel.index("</table>") \
        < panel.index("</div>", panel.index("</table>"))
