"""The brand's credit desk under /admin/credit: settings, payments, top-ups, statements."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Invoice, Organisation
from app.models.credit import CreditProfile, Payment, PrepaymentAccount, PrepaymentEntry
from app.services.core.clock import today_local
from tests import builders_credit as build


def field_error(html: str, name: str) -> str:
    """The error text shown next to form field `name` ("" when there is none)."""
    match = re.search(r'<div class="field invalid" id="field-%s">(.*?)</div>' % name, html, re.S)
    return match.group(1) if match else ""


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def account(world):
    """The dealer owes the brand two invoices: ¥100.00 (older) and ¥200.00."""
    dealer, brand = world.orgs["dealer"], world.brand
    old = build.invoice(dealer, brand, 10_000, issued_at=build.days_ago(20))
    new = build.invoice(dealer, brand, 20_000, issued_at=build.days_ago(2))
    db.session.commit()
    return dealer, brand, old.id, new.id


# --- access ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, status", [("admin_b", 403), ("dealer", 403), ("retailer", 403), ("rep", 403)])
def test_credit_desk_needs_the_orders_permission(login_as, world, who, status):
    c = login_as(who)
    dealer_id = world.orgs["dealer"].id
    for url in ("/admin/credit/", f"/admin/credit/customers/{dealer_id}",
                f"/admin/credit/customers/{dealer_id}/statement", f"/admin/credit/customers/{dealer_id}/payments/new"):
        assert c.get(url).status_code == status, url
    assert c.post(f"/admin/credit/customers/{dealer_id}/top-up", {"amount": "1"}).status_code == status
    assert count(PrepaymentEntry) == 0


def test_anonymous_goes_to_login(client, world):
    response = client.get("/admin/credit/")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_the_brand_itself_or_a_missing_id_is_not_a_customer(login_as, world):
    c = login_as("admin")
    assert c.get(f"/admin/credit/customers/{world.brand.id}").status_code == 404
    assert c.get("/admin/credit/customers/999999").status_code == 404
    assert c.get("/admin/credit/invoices/999999").status_code == 404


# --- list and account page -----------------------------------------------------------------

def test_customer_list_full_page_and_fragment(login_as, account):
    dealer, brand, *_ = account
    c = login_as("admin")
    page = c.get("/admin/credit/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "信用与收款" in html
    assert dealer.name in html and "¥300.00" in html  # outstanding
    fragment = c.hx_get("/admin/credit/?flag=owing")
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and 'id="credit-customers"' in text
    assert dealer.name in text and "西湖小卖部" not in text  # the retailer owes nothing
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]


def test_account_page_shows_the_credit_position(login_as, account, world):
    dealer, brand, *_ = account
    build.order(dealer, brand, 5_000, status="approved")
    db.session.commit()
    html = login_as("admin").get(f"/admin/credit/customers/{dealer.id}").get_data(as_text=True)
    for figure in ("¥500,000.00", "¥300.00", "¥50.00", "¥499,650.00"):  # limit, owed, open order, available
        assert figure in html
    assert "INV" in html and "登记收款" in html
    # the limit applies only with 允许赊销 ticked, and the box says so next to it
    assert re.search(r'id="allow_credit-msg">不勾选时信用额度不生效', html)


def test_a_customer_not_on_credit_has_nothing_called_used_credit(login_as, world):
    """A retailer buying cash on delivery: no limit, no credit used; its approved, uninvoiced order
    is money still to collect."""
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    build.order(retailer, dealer, 4_200, status="approved")
    db.session.commit()
    html = login_as("dealer").get(f"/dealer/credit/customers/{retailer.id}").get_data(as_text=True)
    card = html[html.index('id="credit-summary"'):]
    assert "不赊销" in card and "已占用额度" not in card
    assert re.search(r"<dt>待收款合计</dt><dd class=\"num\">¥42.00</dd>", card)
    assert re.search(r"<dt>可用额度</dt><dd class=\"num\">—</dd>", card)


# --- settings -------------------------------------------------------------------------------

def test_settings_are_saved_and_audited(login_as, account, world):
    dealer, *_ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}")
    response = c.post(f"/admin/credit/customers/{dealer.id}/settings", {
        "credit_limit": "12,345.67", "payment_terms_days": "45", "allow_credit": "y", "on_hold": "y",
        "hold_reason": "账龄过长"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/credit/customers/{dealer.id}")
    db.session.expire_all()
    dealer = db.session.get(Organisation, dealer.id)
    assert (dealer.credit_limit_fen, dealer.payment_terms_days) == (1_234_567, 45)
    profile = db.session.get(CreditProfile, dealer.id)
    assert profile.on_hold and profile.hold_reason == "账龄过长"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.settings"))
    assert event.actor_id == world.users["admin"].id and event.after["credit_limit_fen"] == 1_234_567
    assert "已暂停赊销" in c.get(f"/admin/credit/customers/{dealer.id}").get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    ({"credit_limit": "-1"}, "credit_limit", "不能为负数"),
    ({"credit_limit": "abc"}, "credit_limit", "数字"),
    ({"credit_limit": "1.234"}, "credit_limit", "两位小数"),
    ({"credit_limit": ""}, "credit_limit", "请输入金额"),
    ({"payment_terms_days": "400"}, "payment_terms_days", "365"),
    ({"on_hold": "y", "hold_reason": ""}, "hold_reason", "原因"),
])
def test_bad_settings_show_the_error_next_to_the_field(login_as, account, data, field, message):
    dealer, *_ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}")
    form = {"credit_limit": "100", "payment_terms_days": "30", "allow_credit": "y", **data}
    response = c.post(f"/admin/credit/customers/{dealer.id}/settings", form)
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), field)
    db.session.expire_all()
    assert db.session.get(Organisation, dealer.id).credit_limit_fen == 50_000_000
    assert count(CreditProfile) == 0


# --- payments -------------------------------------------------------------------------------

def test_partial_payment_from_the_form(login_as, account):
    dealer, brand, old_id, new_id = account
    c = login_as("admin")
    page = c.get(f"/admin/credit/customers/{dealer.id}/payments/new")
    assert page.status_code == 200 and "按开票先后自动核销" in page.get_data(as_text=True)
    response = c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "bank_transfer", "amount": "150.00", "invoice": "0",
        "received_on": today_local().isoformat(), "reference": "BANK-77"})
    assert response.status_code == 303
    db.session.expire_all()
    old, new = db.session.get(Invoice, old_id), db.session.get(Invoice, new_id)
    assert (old.paid_fen, old.status, new.paid_fen, new.status) == (10_000, "paid", 5_000, "open")
    payment = db.session.scalar(select(Payment))
    assert (payment.amount_fen, payment.reference, payment.method) == (15_000, "BANK-77", "bank_transfer")
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert payment.number in html and "BANK-77" in html


def test_payment_by_htmx_redirects_with_hx_redirect(login_as, account):
    dealer, brand, old_id, new_id = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/payments/new")
    response = c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "cod", "amount": "200", "invoice": str(new_id), "received_on": today_local().isoformat()},
        htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(f"/admin/credit/customers/{dealer.id}")
    db.session.expire_all()
    assert db.session.get(Invoice, new_id).status == "paid"


@pytest.mark.parametrize("amount, invoice, field, message", [
    ("-5", "0", "amount", "不能为负数"),
    ("abc", "0", "amount", "数字"),
    ("1.005", "0", "amount", "两位小数"),
    ("0", "0", "amount", "大于 0"),
    ("", "0", "amount", "请输入金额"),
    ("100.01", "old", "amount", "¥100.00"),  # more than the chosen invoice owes
    ("300.01", "0", "amount", "¥300.00"),  # more than everything owed
])
def test_bad_payments_are_refused_next_to_the_field(login_as, account, amount, invoice, field, message):
    dealer, brand, old_id, new_id = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/payments/new")
    data = {"method": "bank_transfer", "amount": amount, "invoice": str(old_id) if invoice == "old" else invoice,
            "received_on": today_local().isoformat()}
    for htmx, status in ((False, 400), (True, 422)):
        response = c.post(f"/admin/credit/customers/{dealer.id}/payments/new", data, htmx=htmx)
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert message in field_error(html, field)
        assert ("<html" in html) is not htmx
    assert count(Payment) == 0
    assert db.session.scalar(select(func.sum(Invoice.paid_fen))) == 0


def test_future_date_and_prepayment_shortfall_are_refused(login_as, account):
    dealer, brand, old_id, _ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/payments/new")
    future = c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "cod", "amount": "1", "invoice": "0",
        "received_on": (today_local() + timedelta(days=2)).isoformat()})
    assert future.status_code == 400 and "晚于今天" in field_error(future.get_data(as_text=True), "received_on")
    short = c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "prepayment", "amount": "1", "invoice": str(old_id), "received_on": today_local().isoformat()})
    assert short.status_code == 400 and "预存款余额不足" in field_error(short.get_data(as_text=True), "amount")
    assert count(Payment) == 0


def test_another_sellers_invoice_cannot_be_chosen(login_as, account, world):
    dealer, *_ = account
    foreign = build.invoice(dealer, world.orgs["dealer_b"], 10_000)
    db.session.commit()
    c = login_as("admin")
    assert c.get(f"/admin/credit/customers/{dealer.id}/payments/new?invoice={foreign.id}").status_code == 404
    response = c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "cod", "amount": "1", "invoice": str(foreign.id), "received_on": today_local().isoformat()})
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "invoice")
    assert count(Payment) == 0


# --- prepayment -----------------------------------------------------------------------------

def test_top_up_then_pay_from_prepayment(login_as, account):
    dealer, brand, old_id, _ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/top-up")
    response = c.post(f"/admin/credit/customers/{dealer.id}/top-up", {
        "amount": "120.50", "received_on": today_local().isoformat(), "reference": "BANK-5"})
    assert response.status_code == 303
    assert db.session.scalar(select(PrepaymentAccount.balance_fen)) == 12_050
    c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "prepayment", "amount": "100", "invoice": str(old_id), "received_on": today_local().isoformat()})
    db.session.expire_all()
    assert db.session.scalar(select(PrepaymentAccount.balance_fen)) == 2_050
    assert db.session.get(Invoice, old_id).status == "paid"
    html = c.get(f"/admin/credit/customers/{dealer.id}").get_data(as_text=True)
    assert "¥20.50" in html and "BANK-5" in html
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "prepayment.topup")) == 1


@pytest.mark.parametrize("amount, message", [("-1", "不能为负数"), ("0", "大于 0"), ("1.001", "两位小数"),
                                             ("一百", "数字")])
def test_bad_top_up_is_refused(login_as, account, amount, message):
    dealer, *_ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/top-up")
    response = c.post(f"/admin/credit/customers/{dealer.id}/top-up", {
        "amount": amount, "received_on": today_local().isoformat()})
    assert response.status_code == 400 and message in field_error(response.get_data(as_text=True), "amount")
    assert count(PrepaymentEntry) == 0 and count(PrepaymentAccount) == 0


# --- statement ------------------------------------------------------------------------------

def test_statement_page_and_fragment(login_as, account):
    dealer, brand, *_ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/payments/new")
    c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "bank_transfer", "amount": "50", "invoice": "0", "received_on": today_local().isoformat()})
    start = (today_local() - timedelta(days=30)).isoformat()
    url = f"/admin/credit/customers/{dealer.id}/statement?start={start}&end={today_local().isoformat()}"
    page = c.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'media="print"' in html
    assert "对账单" in html and "期初余额" in html and "¥250.00" in html  # 100 + 200 − 50
    fragment = c.hx_get(url)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and 'id="statement"' in text and "¥250.00" in text


def test_statement_default_period_and_bad_dates(login_as, account):
    dealer, *_ = account
    c = login_as("admin")
    assert c.get(f"/admin/credit/customers/{dealer.id}/statement").status_code == 200
    reversed_period = c.get(f"/admin/credit/customers/{dealer.id}/statement?start=2025-03-01&end=2025-02-01")
    assert reversed_period.status_code == 400
    assert "结束日期" in field_error(reversed_period.get_data(as_text=True), "end")
    garbage = c.get(f"/admin/credit/customers/{dealer.id}/statement?start=yesterday")
    assert garbage.status_code == 400 and field_error(garbage.get_data(as_text=True), "start")


def test_invoice_page_lists_its_payments(login_as, account):
    dealer, brand, old_id, _ = account
    c = login_as("admin")
    c.get(f"/admin/credit/customers/{dealer.id}/payments/new")
    c.post(f"/admin/credit/customers/{dealer.id}/payments/new", {
        "method": "cod", "amount": "30", "invoice": str(old_id), "received_on": today_local().isoformat()})
    html = c.get(f"/admin/credit/invoices/{old_id}").get_data(as_text=True)
    assert "货到付款" in html and "¥30.00" in html and "¥70.00" in html
