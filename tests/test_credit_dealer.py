"""A dealer's credit pages: its own account with the brand, and payments from its retailers.
Another dealer's retailers and invoices are 404 everywhere."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice
from app.models.credit import Payment, PrepaymentAccount, PrepaymentEntry
from app.services.core.clock import today_local
from tests import builders_credit as build
from tests.test_credit_admin import field_error


@pytest.fixture
def books(world):
    """dealer owes the brand ¥800; its retailer owes it ¥120 and ¥80; dealer_b's retailer owes dealer_b ¥55."""
    dealer, brand, retailer = world.orgs["dealer"], world.brand, world.orgs["retailer"]
    own_debt = build.invoice(dealer, brand, 80_000, issued_at=build.days_ago(10))
    first = build.invoice(retailer, dealer, 12_000, issued_at=build.days_ago(6))
    second = build.invoice(retailer, dealer, 8_000, issued_at=build.days_ago(1))
    foreign = build.invoice(world.orgs["retailer_b"], world.orgs["dealer_b"], 5_500)
    db.session.commit()
    return {"own_debt": own_debt.id, "first": first.id, "second": second.id, "foreign": foreign.id,
            "retailer": retailer.id, "retailer_b": world.orgs["retailer_b"].id}


def test_dealer_sees_its_own_credit_with_the_brand(login_as, books):
    c = login_as("dealer")
    html = c.get("/dealer/credit/").get_data(as_text=True)
    assert "我的信用" in html and "¥500,000.00" in html and "¥800.00" in html and "¥499,200.00" in html
    assert "¥55.00" not in html
    statement = c.get(f"/dealer/credit/statement?start={(today_local() - timedelta(days=30)).isoformat()}")
    text = statement.get_data(as_text=True)
    assert statement.status_code == 200 and "对账单" in text and "¥800.00" in text
    assert "¥120.00" not in text  # what its retailers owe it is not its debt


def test_receivables_list_only_the_dealers_own_invoices(login_as, books):
    c = login_as("dealer")
    page = c.get("/dealer/credit/receivables")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "¥120.00" in html and "¥80.00" in html and "¥55.00" not in html and "¥800.00" not in html
    fragment = c.hx_get("/dealer/credit/receivables?q=西湖")
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'id="receivables"' in text and "¥120.00" in text
    assert "¥120.00" not in c.hx_get("/dealer/credit/receivables?q=nobody").get_data(as_text=True)


def test_dealer_records_a_retailers_partial_payment(login_as, books):
    c = login_as("dealer")
    url = f"/dealer/credit/customers/{books['retailer']}/payments/new"
    page = c.get(f"{url}?invoice={books['second']}")
    assert page.status_code == 200 and f'selected value="{books["second"]}"' in page.get_data(as_text=True)
    response = c.post(url, {"method": "cod", "amount": "150", "invoice": "0",
                            "received_on": today_local().isoformat()})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/dealer/credit/customers/{books['retailer']}")
    first, second = db.session.get(Invoice, books["first"]), db.session.get(Invoice, books["second"])
    assert (first.status, second.paid_fen) == ("paid", 3_000)
    payment = db.session.scalar(select(Payment))
    assert (payment.seller_id, payment.customer_id) == (first.seller_id, first.buyer_id)
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert payment.number in html and "¥50.00" in html  # still owed


def test_overpaying_a_retailers_invoice_is_refused(login_as, books):
    c = login_as("dealer")
    url = f"/dealer/credit/customers/{books['retailer']}/payments/new"
    c.get(url)
    response = c.post(url, {"method": "bank_transfer", "amount": "80.01", "invoice": str(books["second"]),
                            "received_on": today_local().isoformat()})
    assert response.status_code == 400
    assert "¥80.00" in field_error(response.get_data(as_text=True), "amount")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_dealer_tops_up_a_retailers_prepayment_and_sees_its_statement(login_as, books, world):
    c = login_as("dealer")
    top_up = f"/dealer/credit/customers/{books['retailer']}/top-up"
    c.get(top_up)
    assert c.post(top_up, {"amount": "30", "received_on": today_local().isoformat()}).status_code == 303
    account = db.session.scalar(select(PrepaymentAccount))
    assert (account.seller_id, account.balance_fen) == (world.orgs["dealer"].id, 3_000)
    url = f"/dealer/credit/customers/{books['retailer']}/statement?start={(today_local() - timedelta(days=30)).isoformat()}"
    html = c.get(url).get_data(as_text=True)
    assert "¥170.00" in html  # 120 + 80 − 30
    fragment = c.hx_get(url).get_data(as_text=True)
    assert "<html" not in fragment and "¥170.00" in fragment


def test_invoice_pages_for_both_sides_of_the_dealer(login_as, books):
    c = login_as("dealer")
    assert c.get(f"/dealer/credit/invoices/{books['first']}").status_code == 200
    assert c.get(f"/dealer/credit/invoices/{books['own_debt']}").status_code == 200
    assert c.get(f"/dealer/credit/invoices/{books['foreign']}").status_code == 404


def test_another_dealers_retailer_and_invoice_are_404(login_as, books):
    c = login_as("dealer")
    other = books["retailer_b"]
    for url in (f"/dealer/credit/customers/{other}", f"/dealer/credit/customers/{other}/payments/new",
                f"/dealer/credit/customers/{other}/top-up", f"/dealer/credit/customers/{other}/statement",
                f"/dealer/credit/invoices/{books['foreign']}",
                f"/dealer/credit/customers/{books['retailer']}/payments/new?invoice={books['foreign']}",
                f"/dealer/credit/customers/{books['retailer']}/payments/new?invoice={books['own_debt']}"):
        assert c.get(url).status_code == 404, url
    c.get("/dealer/credit/")
    payment = {"method": "cod", "amount": "1", "invoice": "0", "received_on": today_local().isoformat()}
    assert c.post(f"/dealer/credit/customers/{other}/payments/new", payment).status_code == 404
    assert c.post(f"/dealer/credit/customers/{other}/top-up", {"amount": "1"}).status_code == 404
    foreign_invoice = c.post(f"/dealer/credit/customers/{books['retailer']}/payments/new",
                             dict(payment, invoice=str(books["foreign"])))
    assert foreign_invoice.status_code == 400
    assert field_error(foreign_invoice.get_data(as_text=True), "invoice")
    # The dealer is not a retailer of itself, nor is the brand.
    assert c.get(f"/dealer/credit/customers/{db.session.get(Invoice, books['own_debt']).seller_id}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(func.count()).select_from(PrepaymentEntry)) == 0
    assert db.session.get(Invoice, books["foreign"]).paid_fen == 0


@pytest.mark.parametrize("who", ["retailer", "rep", "admin"])
def test_other_roles_cannot_open_dealer_credit_pages(login_as, books, who):
    c = login_as(who)
    for url in ("/dealer/credit/", "/dealer/credit/receivables", f"/dealer/credit/customers/{books['retailer']}"):
        assert c.get(url).status_code == 403


def test_nav_links_to_credit(login_as, books):
    assert "/dealer/credit/" in login_as("dealer").get("/dealer/").get_data(as_text=True)
    assert "/admin/credit/" in login_as("admin").get("/admin/").get_data(as_text=True)
    assert "/admin/credit/" not in login_as("admin_b").get("/admin/").get_data(as_text=True)
