"""Payment pages every buyer role mounts (retailer, dealer), written once:

    register_payment_pages(bp, "retailer/layout.html", orders_query)

- POST <role>/payments/orders/<id>: pay the order's invoice online → the provider's checkout;
- GET/POST <role>/payments/top-up: top up the prepayment wallet online;
- GET <role>/payments/<reference>: one payment of the caller's organisation, with its status;
- POST <role>/payments/<reference>/refresh: ask the provider (a notification may be lost).
`order_payment_panel(order)` is what an order page shows: the amount due, the payments, the button.
Everything is scoped to the caller's organisation (another one's order or payment is a 404)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import InputRequired

from app.extensions import db
from app.models import Order
from app.models.payments import PaymentIntent
from app.models.vocabulary import IntentStatus
from app.services.core.errors import DomainError, NotFound
from app.services.ordering import orders as ordering
from app.services.payments import intents
from app.services.payments.providers import configured_name
from app.web.common.envelope import attempt
from app.web.common.fields import YuanField, form_status
from app.web.common.forms import ActionForm, Form, show_error
from app.web.common.htmx import redirect_to, render_page
from app.web.payments.links import notify_url


class TopUpOnlineForm(Form):
    amount = YuanField(_l("充值金额（元）"), validators=[InputRequired(message=_l("请输入金额。"))])


@dataclass
class PaymentPanel:
    order: Order
    due_fen: int
    intents: list[PaymentIntent]
    online: bool
    form: ActionForm


def order_payment_panel(order: Order) -> PaymentPanel:
    return PaymentPanel(order, intents.amount_due_fen(order), intents.order_intents(order.id),
                        bool(configured_name()), ActionForm())


def _go_to_checkout(intent: PaymentIntent, endpoint: str):
    if intent.checkout_url.startswith(("/", "http://", "https://")):
        return redirect_to(intent.checkout_url)
    return redirect_to(url_for(endpoint, reference=intent.reference))  # a QR payload: shown on our page


def register_payment_pages(bp, layout: str, orders_query: Callable[[], object]) -> None:
    role = bp.name
    detail_endpoint = f"{role}.payment_detail"

    def _own_intent(reference: str) -> PaymentIntent:
        intent = db.session.scalar(db.select(PaymentIntent).where(PaymentIntent.reference == reference,
                                                                  PaymentIntent.payer_id == current_user.org_id))
        if intent is None:
            abort(404)
        return intent

    @bp.post("/payments/orders/<int:order_id>", endpoint="payment_for_order")
    def payment_for_order(order_id: int):
        try:
            order = ordering.order_detail(orders_query(), order_id)
        except NotFound:
            abort(404)
        if not ActionForm().validate_on_submit():
            abort(400)
        outcome = attempt(None, intents.create_order_intent, current_user, order, notify_url())
        if not outcome.ok:
            flash(outcome.error.message, "error")
            return redirect_to(_order_url(role, order.id))
        return _go_to_checkout(outcome.result, detail_endpoint)

    @bp.route("/payments/top-up", methods=["GET", "POST"], endpoint="payment_top_up")
    def payment_top_up():
        form = TopUpOnlineForm()
        if form.validate_on_submit():
            outcome = attempt(form, intents.create_topup_intent, current_user, form.amount.data, notify_url())
            if outcome.ok:
                return _go_to_checkout(outcome.result, detail_endpoint)
        seller = None
        try:
            seller = intents.top_up_seller(current_user.org)
        except DomainError as error:
            show_error(form, error)
        return render_page("payments/top_up.html", "payments/_top_up_form.html", status=form_status(form),
                           form=form, seller=seller, layout=layout, online=bool(configured_name()), role=role)

    @bp.get("/payments/<reference>", endpoint="payment_detail")
    def payment_detail(reference: str):
        intent = _own_intent(reference)
        return render_page("payments/detail.html", "payments/_status.html", intent=intent, layout=layout,
                           form=ActionForm(), role=role, order_url=_order_url(role, intent.order_id),
                           status_labels=IntentStatus.labels())

    @bp.post("/payments/<reference>/refresh", endpoint="payment_refresh")
    def payment_refresh(reference: str):
        intent = _own_intent(reference)
        if not ActionForm().validate_on_submit():
            abort(400)
        outcome = attempt(None, intents.refresh_from_provider, intent)
        if not outcome.ok:
            flash(outcome.error.message, "error")
        elif intent.status == "created":
            flash(_("支付渠道尚未给出结果，当前状态：%(s)s。付款完成后请稍候再查询。",
                    s=IntentStatus.label_of(intent.status)), "info")
        else:
            flash(_("当前支付状态：%(s)s。", s=IntentStatus.label_of(intent.status)), "info")
        return redirect_to(url_for(detail_endpoint, reference=reference))


def _order_url(role: str, order_id: int | None) -> str | None:
    if order_id is None:
        return None
    if role == "dealer":
        return url_for("dealer.replenishment_detail", order_id=order_id)
    return url_for(f"{role}.order_detail", order_id=order_id)



