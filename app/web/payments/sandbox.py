"""The sandbox provider's checkout page (it plays the provider, so it needs no login: whoever has
the unguessable link may pay, as with a real provider's QR code), and the return address the
payer comes back to. Only while PAYMENTS_PROVIDER is "sandbox"; 404 otherwise."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.models.payments import PaymentIntent
from app.models.vocabulary import IntentStatus
from app.services.payments.providers import FAILED, PAID, ProviderError
from app.services.payments.sandbox import SandboxProvider
from app.web.common.forms import ActionForm
from app.web.common.htmx import hx_response, redirect_to
from app.web.payments.links import notify_url

bp = Blueprint("payments", __name__, url_prefix="/payments")
RETURN_ENDPOINTS = {"retailer": "retailer.payment_detail", "dealer": "dealer.payment_detail"}


def _sandbox_intent(reference: str) -> PaymentIntent:
    if current_app.config.get("PAYMENTS_PROVIDER") != "sandbox":
        abort(404)
    intent = db.session.scalar(db.select(PaymentIntent).where(PaymentIntent.reference == reference,
                                                              PaymentIntent.provider == "sandbox"))
    if intent is None:
        abort(404)
    return intent


def _page(intent: PaymentIntent, status: int = 200, problem: str = ""):
    return hx_response(render_template("payments/sandbox.html", intent=intent, form=ActionForm(), problem=problem),
                       status)


@bp.get("/sandbox/<reference>")
def sandbox_checkout(reference: str):
    return _page(_sandbox_intent(reference))


def _notify(reference: str, outcome: str):
    """Send the notification as the provider would (signed, over HTTP, to our notify endpoint),
    then send the payer back to the merchant, as a provider's checkout does. Like a real provider
    it refuses a payment that is no longer open (paid, failed, refunded): it tells the payer and
    sends nothing."""
    intent = _sandbox_intent(reference)
    if not ActionForm().validate_on_submit():
        return _page(intent, 400, _("页面已过期，请重试。"))
    if intent.status == "paid":
        return _page(intent, 409, _("该支付单已支付，不能重复付款。"))
    if intent.status != "created":
        return _page(intent, 409, _("该支付单已关闭（%(s)s），不能再付款或更改；如需付款，请回到订单重新发起在线支付。",
                                    s=IntentStatus.label_of(intent.status)))
    sandbox = SandboxProvider()
    headers, body = sandbox.signed_notification(intent, outcome, "" if outcome == PAID else _("付款人取消或余额不足"))
    target = notify_url("sandbox")
    db.session.rollback()  # hold no transaction while our own endpoint handles the notification
    try:
        answered = sandbox.send(target, headers, body)
    except ProviderError as error:  # the details are for the log, not for the payer
        current_app.logger.error("sandbox notification to %s not delivered: %s", target, error.message)
        return _page(intent, 502, _("支付通知未能送达商户，付款未完成。请稍后重试；若一直失败，请联系管理员检查 PUBLIC_URL 设置。"))
    if answered >= 300:
        current_app.logger.error("sandbox notification to %s refused: HTTP %s", target, answered)
        return _page(intent, 502, _("商户未接受支付通知（HTTP %(s)s），付款未完成。请稍后重试。", s=answered))
    return redirect_to(url_for("payments.payment_return", reference=reference))


@bp.post("/sandbox/<reference>/pay")
def sandbox_pay(reference: str):
    return _notify(reference, PAID)


@bp.post("/sandbox/<reference>/fail")
def sandbox_fail(reference: str):
    return _notify(reference, FAILED)


@bp.get("/return/<reference>")
@login_required
def payment_return(reference: str):
    """Where a provider sends the payer back: the payer's own payment page (404 for anyone else)."""
    endpoint = RETURN_ENDPOINTS.get(current_user.role)
    intent = db.session.scalar(db.select(PaymentIntent).where(PaymentIntent.reference == reference,
                                                              PaymentIntent.payer_id == current_user.org_id))
    if endpoint is None or intent is None:
        abort(404)
    flash(_("支付结果以支付渠道的通知为准。"), "info")
    return redirect_to(url_for(endpoint, reference=reference))
