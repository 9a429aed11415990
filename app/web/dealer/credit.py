"""A dealer's credit: its own account with the brand (limit, balance, statement), and the
accounts of its retailers, for whose invoices it records the payments it receives."""
from flask import current_app, request, url_for

from app.services.credit import limits as credit
from app.services.credit.queries import (customer_for_dealer, invoice_for_party, invoice_payments, open_invoices,
                                         receivables_query, recent_credit_notes, recent_payments,
                                         recent_prepayment_entries)
from app.services.core.paging import paginate
from app.web.common.access import current_org
from app.web.shared.credit.forms import INVOICES_SHOWN, ReceivableFilterForm, labels
from app.web.shared.credit.views import payment_page, statement_page, top_up_page
from app.web.dealer import bp
from app.web.common.htmx import render_page


def _retailer(retailer_id: int):
    return customer_for_dealer(current_org().id, retailer_id)


@bp.route("/credit/")
def credit_home():
    """The dealer's own credit with the brand."""
    dealer = current_org()
    return render_page("dealer/credit/index.html", summary=credit.summary(dealer), invoices=open_invoices(dealer.id, limit=INVOICES_SHOWN),
                       payments=recent_payments(dealer.id), credit_notes=recent_credit_notes(dealer.id),
                       entries=recent_prepayment_entries(dealer.id), **labels())


@bp.route("/credit/statement")
def credit_statement():
    dealer = current_org()
    return statement_page("dealer/credit/statement.html", customer=dealer, seller=None,
                          action=url_for("dealer.credit_statement"))


@bp.route("/credit/receivables")
def credit_receivables():
    """Open invoices the dealer issued to its retailers, earliest due first."""
    form = ReceivableFilterForm(formdata=request.args)
    search = (form.q.data or "") if form.validate() else ""
    results = paginate(receivables_query(current_org().id, search), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], scalars=False)
    return render_page("dealer/credit/receivables.html", "dealer/credit/_receivables.html", form=form,
                       results=results, search=search)


@bp.route("/credit/customers/<int:retailer_id>")
def credit_customer(retailer_id: int):
    dealer, retailer = current_org(), _retailer(retailer_id)
    return render_page("dealer/credit/customer.html", customer=retailer,
                       summary=credit.summary(retailer, seller_id=dealer.id),
                       invoices=open_invoices(retailer.id, dealer.id, limit=INVOICES_SHOWN),
                       payments=recent_payments(retailer.id, dealer.id),
                       credit_notes=recent_credit_notes(retailer.id, dealer.id),
                       entries=recent_prepayment_entries(retailer.id, dealer.id), **labels())


@bp.route("/credit/customers/<int:retailer_id>/payments/new", methods=["GET", "POST"])
def credit_payment_new(retailer_id: int):
    retailer = _retailer(retailer_id)
    return payment_page("dealer/credit/payment_new.html", seller=current_org(), customer=retailer,
                        action=url_for("dealer.credit_payment_new", retailer_id=retailer.id),
                        done_url=url_for("dealer.credit_customer", retailer_id=retailer.id))


@bp.route("/credit/customers/<int:retailer_id>/top-up", methods=["GET", "POST"])
def credit_top_up(retailer_id: int):
    retailer = _retailer(retailer_id)
    return top_up_page("dealer/credit/top_up.html", seller=current_org(), customer=retailer,
                       action=url_for("dealer.credit_top_up", retailer_id=retailer.id),
                       done_url=url_for("dealer.credit_customer", retailer_id=retailer.id))


@bp.route("/credit/customers/<int:retailer_id>/statement")
def credit_customer_statement(retailer_id: int):
    dealer, retailer = current_org(), _retailer(retailer_id)
    return statement_page("dealer/credit/customer_statement.html", customer=retailer, seller=dealer,
                          action=url_for("dealer.credit_customer_statement", retailer_id=retailer.id))


@bp.route("/credit/invoices/<int:invoice_id>")
def credit_invoice(invoice_id: int):
    """An invoice the dealer issued or received, with the payments that settled it."""
    invoice = invoice_for_party(current_org().id, invoice_id)
    return render_page("dealer/credit/invoice.html", invoice=invoice, allocations=invoice_payments(invoice.id),
                       **labels())
