"""Issue 14, payments as a buyer sees them: "在线支付" on an unpaid order and the online top-up
lead to the provider (here the local sandbox, which POSTs its signed notification to our notify
endpoint over real HTTP), and the payment's status shows on our pages. Scoped to the caller."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invoice, Payment
from app.models.credit import PrepaymentAccount
from app.models.payments import PaymentIntent
from tests.builders_credit import invoice as make_invoice
from tests.builders_payments import LiveServer, invoiced_order

pytestmark = pytest.mark.xdist_group("serial")  # a live HTTP server


@pytest.fixture
def live(app):
    with LiveServer(app) as server:
        yield server


def _sandbox_reference(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = re.fullmatch(r"/payments/sandbox/(PI[0-9A-F]{24})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def test_a_retailer_pays_an_invoiced_order_through_the_sandbox(world, retailer, live):
    order, invoice = invoiced_order(world, 12_345)
    page = retailer.get(f"/retailer/orders/{order.id}")
    text = page.get_data(as_text=True)
    assert "在线支付" in text and "123.45" in text
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    checkout = retailer.get(f"/payments/sandbox/{reference}")
    assert checkout.status_code == 200 and "123.45" in checkout.get_data(as_text=True)
    paid = retailer.post(f"/payments/sandbox/{reference}/pay")
    assert paid.status_code == 303 and paid.headers["Location"] == f"/payments/return/{reference}"
    back = retailer.get(paid.headers["Location"])
    assert back.headers["Location"] == f"/retailer/payments/{reference}"
    status = retailer.get(back.headers["Location"])
    assert "已支付" in status.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"
    assert db.session.scalar(select(Payment)).method == "online"
    again = retailer.get(f"/retailer/orders/{order.id}").get_data(as_text=True)
    assert "发票已结清" in again and reference in again
    # the sandbox, like a real provider, refuses to take the money of a paid order twice
    again = retailer.post(f"/payments/sandbox/{reference}/pay")
    assert again.status_code == 409 and "该支付单已支付，不能重复付款" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(Payment)).all()) == 1


def test_the_fail_button_marks_the_payment_failed(world, retailer, live):
    order, invoice = invoiced_order(world, 5_000)
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    retailer.post(f"/payments/sandbox/{reference}/fail")
    page = retailer.get(f"/retailer/payments/{reference}")
    assert "支付失败" in page.get_data(as_text=True)
    assert db.session.get(Invoice, invoice.id).paid_fen == 0


def test_the_status_fragment_for_htmx_and_the_full_page_otherwise(world, retailer):
    order, _invoice = invoiced_order(world, 5_000)
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    full = retailer.get(f"/retailer/payments/{reference}")
    fragment = retailer.hx_get(f"/retailer/payments/{reference}")
    assert "<html" in full.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert 'id="payment-status"' in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_another_shop_neither_sees_nor_pays_the_order(world, login_as):
    order, _invoice = invoiced_order(world, 5_000)
    owner = login_as("retailer")
    reference = _sandbox_reference(owner.post(f"/retailer/payments/orders/{order.id}"))
    other = login_as("retailer_b")
    assert other.post(f"/retailer/payments/orders/{order.id}").status_code == 404
    assert other.get(f"/retailer/payments/{reference}").status_code == 404
    assert other.get(f"/payments/return/{reference}").status_code == 404
    assert db.session.scalar(select(PaymentIntent.id).where(PaymentIntent.payer_id == world.orgs["retailer_b"].id)) is None


def test_an_order_not_yet_invoiced_offers_a_top_up_instead(world, retailer):
    from tests.builders_credit import order as make_order

    approved = make_order(world.orgs["retailer"], world.orgs["dealer"], 5_000)
    db.session.commit()
    text = retailer.get(f"/retailer/orders/{approved.id}").get_data(as_text=True)
    assert "发货开票后可在线支付" in text and "/retailer/payments/top-up" in text
    refused = retailer.post(f"/retailer/payments/orders/{approved.id}")
    assert refused.status_code == 303 and db.session.scalar(select(PaymentIntent)) is None


def test_a_top_up_online(world, retailer, live):
    form = retailer.get("/retailer/payments/top-up")
    assert form.status_code == 200 and "杭州经销商" in form.get_data(as_text=True)
    bad = retailer.post("/retailer/payments/top-up", {"amount": "-5"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert retailer.post("/retailer/payments/top-up", {"amount": "x"}, htmx=True).status_code == 422
    reference = _sandbox_reference(retailer.post("/retailer/payments/top-up", {"amount": "300.50"}))
    retailer.post(f"/payments/sandbox/{reference}/pay")
    account = db.session.scalar(select(PrepaymentAccount).where(
        PrepaymentAccount.customer_id == world.orgs["retailer"].id))
    assert account.balance_fen == 30_050 and account.seller_id == world.orgs["dealer"].id


def test_a_dealer_pays_its_replenishment_order(world, login_as, live):
    invoice = make_invoice(world.orgs["dealer"], world.brand, 80_000)
    db.session.commit()
    dealer = login_as("dealer")
    assert "在线支付" in dealer.get(f"/dealer/replenishment/orders/{invoice.order_id}").get_data(as_text=True)
    reference = _sandbox_reference(dealer.post(f"/dealer/payments/orders/{invoice.order_id}"))
    dealer.post(f"/payments/sandbox/{reference}/pay")
    assert "已支付" in dealer.get(f"/dealer/payments/{reference}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"
    # the other dealer: 404 for the order and the payment
    other = login_as("dealer_b")
    assert other.post(f"/dealer/payments/orders/{invoice.order_id}").status_code == 404
    assert other.get(f"/dealer/payments/{reference}").status_code == 404


def test_the_sandbox_is_off_unless_configured(app, world, retailer):
    order, _invoice = invoiced_order(world, 5_000)
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    app.config["PAYMENTS_PROVIDER"] = ""
    try:
        assert retailer.get(f"/payments/sandbox/{reference}").status_code == 404
        assert "在线支付" not in retailer.get(f"/retailer/orders/{order.id}").get_data(as_text=True).split("付款")[-1]
    finally:
        app.config["PAYMENTS_PROVIDER"] = "sandbox"


def _svg_modules(svg: str) -> list[list[bool]]:
    """The dark modules of a QR code drawn by our inline SVG (one path of relative `m` moves and
    `h` runs, in module units, as segno draws it), as a matrix with the quiet zone."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    [path] = [e for e in root.iter() if e.tag.endswith("path")]
    scale = int(re.fullmatch(r"scale\((\d+)\)", path.get("transform")).group(1))
    size = int(root.get("width")) // scale
    assert int(root.get("height")) == size * scale
    matrix = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, args in re.findall(r"([MmHh])([-\d. ]+)", path.get("d")):
        numbers = [float(n) for n in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            for column in range(int(x), int(x + numbers[0])):
                matrix[int(y)][column] = True
            x += numbers[0]
    return matrix


def test_a_wechat_code_url_shows_as_a_qr_image_that_decodes_to_it(world, retailer):
    import segno

    order, _invoice = invoiced_order(world, 5_000)
    reference = _sandbox_reference(retailer.post(f"/retailer/payments/orders/{order.id}"))
    code_url = "weixin://wxpay/bizpayurl?pr=Yh2kz3qZ1"  # what WeChat's Native API answers
    db.session.execute(PaymentIntent.__table__.update().values(checkout_url=code_url))
    db.session.commit()
    text = retailer.get(f"/retailer/payments/{reference}").get_data(as_text=True)  # no JS: the server draws it
    svg = re.search(r"<svg .*?</svg>", text, re.S).group(0)
    assert 'class="qr"' in svg and "<title>付款码</title>" in svg and code_url in text
    modules = _svg_modules(svg)
    expected = segno.make(code_url, error="m", micro=False)
    assert len(modules) == expected.symbol_size(scale=1, border=4)[0]
    assert modules == [[bool(v) for v in row] for row in expected.matrix_iter(scale=1, border=4)]
    zxingcpp = pytest.importorskip("zxingcpp")
    numpy = pytest.importorskip("numpy")
    image = numpy.array([[0 if dark else 255 for dark in row for _ in range(4)] for row in modules for _ in range(4)],
                        dtype=numpy.uint8)
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [code_url]
