"""The seller's side of online payments, mounted on the dealer (its retailers' payments) and the
brand's admin (its dealers' payments), written once:

    register_refund_pages(bp, "dealer/layout.html")

- GET <role>/payments/received/<reference>: a payment made to the caller's organisation, its
  refunds, and the refund form while something is refundable;
- POST <role>/payments/received/<reference>/refund: refund all or part of it through the
  payment provider (app.services.payments.refunds posts the credit note or wallet entry).
The form carries its own key (`refund_key`): submitting the same form twice refunds once.
Another organisation's payment is a 404."""
from __future__ import annotations

import re
import secrets
from typing import Callable

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from app.extensions import db
from app.models.payments import PaymentIntent
from app.models.vocabulary import IntentStatus
from app.services.payments.refunds import MAX_REASON, refund_intent, refunds_of
from app.web.common.envelope import attempt
from app.web.common.filters import yuan
from app.web.common.fields import YuanField, form_status
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page

KEY = re.compile(r"RF[0-9A-F]{24}")


class RefundForm(Form):
    amount = YuanField(_l("退款金额（元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    reason = StringField(_l("退款原因"), validators=[Length(max=MAX_REASON)])
    refund_key = HiddenField(validators=[InputRequired(), Regexp(KEY.pattern + "$")])


def new_refund_form(intent: PaymentIntent) -> RefundForm:
    form = RefundForm(formdata=None)
    form.refund_key.data = "RF" + secrets.token_hex(12).upper()
    form.amount.data = intent.refundable_fen
    form.amount.raw_data = [f"{intent.refundable_fen / 100:.2f}"]
    return form


def received_intents(seller_id: int):
    return select(PaymentIntent).where(PaymentIntent.seller_id == seller_id)


def register_refund_pages(bp, layout: str, guard: Callable | None = None) -> None:
    role = bp.name
    guarded = guard or (lambda view: view)

    def _received(reference: str, *, lock: bool = False) -> PaymentIntent:
        query = received_intents(current_user.org_id).where(PaymentIntent.reference == reference)
        intent = db.session.scalar(query.with_for_update() if lock else query)
        if intent is None:
            abort(404)
        return intent

    def _page(intent: PaymentIntent, form: RefundForm | None):
        return render_page("payments/received.html", "payments/_received.html", status=form_status(form) if form
                           else 200, intent=intent, form=form if intent.refundable_fen else None,
                           refunds=refunds_of(intent.id), layout=layout, role=role,
                           status_labels=IntentStatus.labels())

    @bp.get("/payments/received/<reference>", endpoint="payment_received")
    @guarded
    def payment_received(reference: str):
        intent = _received(reference)
        return _page(intent, new_refund_form(intent))

    @bp.post("/payments/received/<reference>/refund", endpoint="payment_refund")
    @guarded
    def payment_refund(reference: str):
        intent = _received(reference, lock=True)  # a repeat of the same form waits for the first here
        form = RefundForm()
        if form.validate_on_submit():
            outcome = attempt(form, refund_intent, current_user, intent, form.amount.data, form.reason.data or "",
                              reference=form.refund_key.data)
            if outcome.ok:
                flash(_("已退款 %(a)s。", a=yuan(outcome.result.amount_fen)), "success")
                return redirect_to(url_for(f"{role}.payment_received", reference=reference))
            intent = _received(reference)
        elif form.refund_key.errors:  # a hidden field: say it above the form
            form.form_errors.append(_("表单已过期，请重新打开页面后再退款。"))
        return _page(intent, form)
