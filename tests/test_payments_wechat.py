"""Issue 14: WeChat Pay API v3 behind the provider interface, against a local double that speaks
the real protocol (tests/wechatpay_double.py): signed requests, signed answers, notifications
verified with the platform key and decrypted with the APIv3 key, query and refund."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invoice, Payment
from app.models.payments import PaymentIntent
from app.services.payments.providers import ProviderError
from app.services.payments.refunds import refund_intent
from app.services.payments.wechat import WeChatPayProvider, request_message, rsa_verify
from tests import wechatpay_double as wx
from tests.builders_payments import invoiced_order

pytestmark = pytest.mark.xdist_group("serial")  # a local HTTP server
NOTIFY = "/api/v1/payments/notify/wechat"


@pytest.fixture
def merchant_key():
    return wx.new_key()


@pytest.fixture
def double(merchant_key):
    return wx.WeChatPayDouble(merchant_key.public_key())


@pytest.fixture
def wechat(app, tmp_path, merchant_key, double):
    (tmp_path / "apiclient_key.pem").write_bytes(wx.pem_private(merchant_key))
    (tmp_path / "pub_key.pem").write_bytes(wx.pem_public(double.platform_key))
    settings = {"PAYMENTS_PROVIDER": "wechat", "WECHATPAY_MCHID": wx.MCHID, "WECHATPAY_APPID": wx.APPID,
                "WECHATPAY_SERIAL_NO": wx.SERIAL, "WECHATPAY_APIV3_KEY": wx.APIV3_KEY,
                "WECHATPAY_PRIVATE_KEY_PATH": str(tmp_path / "apiclient_key.pem"),
                "WECHATPAY_PLATFORM_PUBLIC_KEY_PATH": str(tmp_path / "pub_key.pem"),
                "WECHATPAY_PLATFORM_SERIAL": wx.PLATFORM_SERIAL}
    previous = {key: app.config.get(key) for key in [*settings, "WECHATPAY_API_BASE"]}
    with wx.Served(double) as served:
        app.config.update(settings, WECHATPAY_API_BASE=served.url)
        yield double
    app.config.update(previous)


def test_the_authorization_header_is_signed_as_wechat_pay_documents(app, merchant_key, double):
    provider = WeChatPayProvider(mchid=wx.MCHID, appid=wx.APPID, serial_no=wx.SERIAL,
                                 private_key_pem=wx.pem_private(merchant_key), apiv3_key=wx.APIV3_KEY,
                                 platform_public_key_pem=wx.pem_public(double.platform_key))
    body = '{"mchid":"1900000109"}'
    header = provider.authorization("POST", "/v3/pay/transactions/native", body, "1554208460",
                                    "593BEC0C930BF1AFEB40B4A08C8FB242")
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
                             'signature="')
    assert header.endswith(f'",timestamp="1554208460",serial_no="{wx.SERIAL}"')
    signature = re.search(r'signature="([^"]+)"', header).group(1)
    expected = b'POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"mchid":"1900000109"}\n'
    assert request_message("POST", "/v3/pay/transactions/native", "1554208460",
                           "593BEC0C930BF1AFEB40B4A08C8FB242", body) == expected
    assert rsa_verify(merchant_key.public_key(), expected, signature)


def test_an_order_paid_by_wechat_pay_end_to_end(wechat, world, retailer):
    order, invoice = invoiced_order(world, 25_800)
    started = retailer.post(f"/retailer/payments/orders/{order.id}")
    # a QR payload cannot be a redirect: our page shows it
    assert started.status_code == 303 and started.headers["Location"].startswith("/retailer/payments/PI")
    page = retailer.get(started.headers["Location"]).get_data(as_text=True)
    assert "weixin://wxpay/bizpayurl?pr=" in page
    intent = db.session.scalar(select(PaymentIntent))
    trade = wechat.trades[intent.reference]
    assert trade["total"] == 25_800 and trade["notify_url"] == f"http://localhost:5000{NOTIFY}"
    wechat.pay(intent.reference)
    headers, body = wechat.notification(intent.reference)
    for _ in range(2):  # WeChat repeats a notification until it sees our 2xx; the second is harmless
        answer = retailer.http.post(NOTIFY, data=body, headers=headers)
        assert answer.status_code == 204 and answer.get_data() == b""
    db.session.expire_all()
    intent = db.session.get(PaymentIntent, intent.id)
    assert intent.status == "paid" and intent.provider_txn_id == wechat.trades[intent.reference]["transaction_id"]
    assert db.session.get(Invoice, invoice.id).status == "paid"
    assert len(db.session.scalars(select(Payment)).all()) == 1
    assert not wechat.refused


@pytest.mark.parametrize("forgery", ["wrong_platform_key", "wrong_apiv3_key", "tampered_body"])
def test_a_forged_wechat_notification_is_refused(wechat, world, retailer, forgery):
    order, _invoice = invoiced_order(world, 25_800)
    retailer.post(f"/retailer/payments/orders/{order.id}")
    intent = db.session.scalar(select(PaymentIntent))
    wechat.pay(intent.reference)
    if forgery == "wrong_platform_key":
        headers, body = wechat.notification(intent.reference, key=wx.new_key())
    elif forgery == "wrong_apiv3_key":
        headers, body = wechat.notification(intent.reference, apiv3_key="b" * 32)
    else:
        headers, body = wechat.notification(intent.reference)
        body = body.replace(b'"summary"', b'"Summary"')
    assert retailer.http.post(NOTIFY, data=body, headers=headers).status_code == 401
    db.session.expire_all()
    assert db.session.get(PaymentIntent, intent.id).status == "created"


def test_a_lost_notification_is_made_good_by_querying(wechat, world, retailer):
    order, invoice = invoiced_order(world, 1_000)
    location = retailer.post(f"/retailer/payments/orders/{order.id}").headers["Location"]
    reference = location.rsplit("/", 1)[1]
    wechat.pay(reference)
    assert retailer.post(f"/retailer/payments/{reference}/refresh").status_code == 303
    assert "已支付" in retailer.get(location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"


def test_a_refund_is_asked_of_wechat_pay_and_posted(wechat, world, retailer):
    order, _invoice = invoiced_order(world, 1_000)
    reference = retailer.post(f"/retailer/payments/orders/{order.id}").headers["Location"].rsplit("/", 1)[1]
    wechat.pay(reference)
    headers, body = wechat.notification(reference)
    assert retailer.http.post(NOTIFY, data=body, headers=headers).status_code == 204
    db.session.expire_all()
    intent = db.session.scalar(select(PaymentIntent))
    refund = refund_intent(world.users["dealer"], intent, 400, "少发一箱")
    db.session.commit()
    [asked] = wechat.refunds
    assert asked == {"out_trade_no": reference, "out_refund_no": refund.reference, "reason": "少发一箱",
                     "amount": {"refund": 400, "total": 1_000, "currency": "CNY"}}
    assert refund.provider_refund_id == "50000000382019052709732678859"


def test_an_answer_not_signed_by_wechat_pay_is_not_trusted(wechat, world, retailer):
    wechat.platform_key = wx.new_key()  # the double now signs with a key we do not know
    order, _invoice = invoiced_order(world, 1_000)
    refused = retailer.post(f"/retailer/payments/orders/{order.id}")
    assert refused.status_code == 303 and refused.headers["Location"] == f"/retailer/orders/{order.id}"
    assert db.session.scalar(select(PaymentIntent)) is None


def test_missing_configuration_is_a_clear_error(app):
    with pytest.raises(ProviderError, match="WECHATPAY_MCHID"):
        WeChatPayProvider.from_config({"WECHATPAY_MCHID": ""})
