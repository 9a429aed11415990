"""View steps shared by the brand's and the dealers' credit pages. The role modules load the
customer scoped to the caller (404 otherwise) and hand it here with the seller they act for."""
from __future__ import annotations

from flask import abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Organisation
from app.services.credit import limits as credit
from app.services.credit import payments as credit_payments
from app.services.credit.queries import open_invoices
from app.services.credit.statements import default_period, statement
from app.services.core.clock import today_local
from app.web.common.fields import form_status
from app.web.shared.credit.forms import (OLDEST_FIRST, PaymentForm, StatementPeriodForm, TopUpForm, invoice_choices,
                                  labels)
from app.web.common.envelope import attempt
from app.web.common.htmx import redirect_to, render_page


def payment_page(page: str, *, seller: Organisation, customer: Organisation, action: str, done_url: str, **extra):
    """GET: the form (?invoice=<id> preselects one of the customer's open invoices, 404 for any
    other id). POST: record the payment and go back to the account, or the form with errors."""
    invoices = open_invoices(customer.id, seller.id)
    form = PaymentForm()
    form.invoice.choices = invoice_choices(invoices)
    if request.method == "GET":
        chosen = request.args.get("invoice", type=int)
        if chosen is not None:
            if chosen not in {i.id for i in invoices}:
                abort(404)
            form.invoice.data = chosen
    elif form.validate_on_submit():
        invoice = next((i for i in invoices if i.id == form.invoice.data), None) \
            if form.invoice.data != OLDEST_FIRST else None
        outcome = attempt(form, credit_payments.record_payment, current_user, seller=seller, customer=customer,
                          method=form.method.data, amount_fen=form.amount.data, received_on=form.received_on.data,
                          invoice=invoice, reference=form.reference.data or "", note=form.note.data or "")
        if outcome.ok:
            flash(_("已登记收款 %(number)s。", number=outcome.result.number), "success")
            return redirect_to(done_url)
    balances = {"owed": credit.outstanding_fen(customer.id, seller.id),
                "prepayment": credit.prepayment_fen(customer.id, seller.id),
                "credit": credit.unused_credit_fen(customer.id, seller.id)}
    return render_page(page, "credit/_payment_form.html", status=form_status(form), form=form, customer=customer,
                       action=action, back_url=done_url, has_invoices=bool(invoices), balances=balances,
                       **labels(), **extra)


def top_up_page(page: str, *, seller: Organisation, customer: Organisation, action: str, done_url: str, **extra):
    form = TopUpForm()
    if form.validate_on_submit() and attempt(
            form, credit_payments.top_up_prepayment, current_user, seller=seller, customer=customer,
            amount_fen=form.amount.data, received_on=form.received_on.data, reference=form.reference.data or "",
            note=form.note.data or "").ok:
        flash(_("预存款已充值。"), "success")
        return redirect_to(done_url)
    return render_page(page, "credit/_top_up_form.html", status=form_status(form), form=form, customer=customer,
                       action=action, back_url=done_url, **extra)


def statement_page(page: str, *, customer: Organisation, seller: Organisation | None, action: str, **extra):
    """The statement for ?start=&end= (this month by default); bad dates → 400 with the message."""
    form = StatementPeriodForm(formdata=request.args)
    result = None
    if form.validate():
        default_start, default_end = default_period(today_local())
        form.start.data = form.start.data or default_start
        form.end.data = form.end.data or default_end
        result = attempt(form, statement, customer, form.start.data, form.end.data, seller).result
    return render_page(page, "credit/_statement.html", status=form_status(form), form=form, statement=result,
                       customer=customer, seller=seller, action=action, **labels(), **extra)
