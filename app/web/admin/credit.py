"""The brand's credit desk: customers' credit settings, payments received by the brand,
prepayment top-ups and statements. Every view needs the "orders" permission."""
from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Invoice
from app.services.credit import limits as credit
from app.services.credit.queries import (customer_for_brand, invoice_payments, open_invoices, recent_credit_notes,
                                         recent_payments, recent_prepayment_entries)
from app.services.core.paging import paginate
from app.services.core.records import require
from app.web.common.access import current_org, permission_required
from app.web.admin import bp
from app.web.common.fields import form_status
from app.web.shared.credit.forms import INVOICES_SHOWN, CreditSettingsForm, CustomerFilterForm, labels
from app.web.shared.credit.views import payment_page, statement_page, top_up_page
from app.web.common.envelope import attempt
from app.web.common.htmx import redirect_to, render_page


@bp.route("/credit/")
@permission_required("orders")
def credit_customers():
    form = CustomerFilterForm(formdata=request.args)
    valid = form.validate()
    search = (form.q.data or "") if valid else ""
    kind = (form.kind.data or "") if valid else ""
    flag = (form.flag.data or "") if valid else ""
    results = paginate(credit.customers_query(search, kind, flag), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"])
    return render_page("admin/credit/customers.html", "admin/credit/_customers.html", form=form, results=results,
                       rows=credit.customer_rows(results.items), search=search, kind=kind, flag=flag, **labels())


def _account_page(customer, settings_form=None, status=200):
    brand = current_org()
    if settings_form is None:
        profile = credit.profile_of(customer.id)
        settings_form = CreditSettingsForm(formdata=None, data={
            "credit_limit": customer.credit_limit_fen, "payment_terms_days": customer.payment_terms_days,
            "allow_credit": credit.credit_allowed(customer, profile), "on_hold": bool(profile and profile.on_hold),
            "hold_reason": profile.hold_reason if profile else ""})
    return render_page(
        "admin/credit/customer.html", status=status, customer=customer, summary=credit.summary(customer),
        settings_form=settings_form, invoices=open_invoices(customer.id, limit=INVOICES_SHOWN), payments=recent_payments(customer.id),
        credit_notes=recent_credit_notes(customer.id), entries=recent_prepayment_entries(customer.id),
        brand=brand, **labels())


@bp.route("/credit/customers/<int:customer_id>")
@permission_required("orders")
def credit_customer(customer_id: int):
    return _account_page(customer_for_brand(customer_id))


@bp.route("/credit/customers/<int:customer_id>/settings", methods=["POST"])
@permission_required("orders")
def credit_settings(customer_id: int):
    customer = customer_for_brand(customer_id)
    form = CreditSettingsForm()
    if form.validate_on_submit() and attempt(
            form, credit.update_settings, current_user, customer, credit_limit_fen=form.credit_limit.data,
            payment_terms_days=form.payment_terms_days.data, allow_credit=form.allow_credit.data,
            on_hold=form.on_hold.data, hold_reason=form.hold_reason.data or "").ok:
        flash(_("已保存 %(name)s 的信用设置。", name=customer.name), "success")
        return redirect_to(url_for("admin.credit_customer", customer_id=customer.id))
    return _account_page(customer, settings_form=form, status=form_status(form))


@bp.route("/credit/customers/<int:customer_id>/payments/new", methods=["GET", "POST"])
@permission_required("orders")
def credit_payment_new(customer_id: int):
    customer = customer_for_brand(customer_id)
    return payment_page("admin/credit/payment_new.html", seller=current_org(), customer=customer,
                        action=url_for("admin.credit_payment_new", customer_id=customer.id),
                        done_url=url_for("admin.credit_customer", customer_id=customer.id))


@bp.route("/credit/customers/<int:customer_id>/top-up", methods=["GET", "POST"])
@permission_required("orders")
def credit_top_up(customer_id: int):
    customer = customer_for_brand(customer_id)
    return top_up_page("admin/credit/top_up.html", seller=current_org(), customer=customer,
                       action=url_for("admin.credit_top_up", customer_id=customer.id),
                       done_url=url_for("admin.credit_customer", customer_id=customer.id))


@bp.route("/credit/customers/<int:customer_id>/statement")
@permission_required("orders")
def credit_statement(customer_id: int):
    customer = customer_for_brand(customer_id)
    return statement_page("admin/credit/statement.html", customer=customer, seller=None,
                          action=url_for("admin.credit_statement", customer_id=customer.id))


@bp.route("/credit/invoices/<int:invoice_id>")
@permission_required("orders")
def credit_invoice(invoice_id: int):
    # The brand oversees every account: a dealer's invoice to its retailer is visible too.
    invoice = require(Invoice, invoice_id, _("发票不存在。"))
    return render_page("admin/credit/invoice.html", invoice=invoice, allocations=invoice_payments(invoice.id),
                       **labels())
