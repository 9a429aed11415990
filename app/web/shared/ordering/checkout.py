"""Checkout at the counter, exactly once per idempotency key: the cart the caller saw (its
fingerprint) becomes one order through the counter's checkout service, then the browser goes to
the order with what happened, in the same words for every role: approved automatically or held
for review (with the reasons), the lines dropped because they could no longer be ordered, or a
repeated submit that made no second order. A refusal (prices changed, the cart changed, a
credit or stock rule, a broken form) shows the cart again with the reason and, unless the key
cannot be trusted, the same key."""
from __future__ import annotations

from flask import flash, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.models import OrderStatus
from app.services.approval import automatic as approval
from app.services.ordering import orders as ordering
from app.web.common.envelope import attempt, error_status
from app.web.common.htmx import redirect_to
from app.web.shared.ordering.counter import Counter
from app.web.shared.ordering.forms import CheckoutForm
from app.web.shared.ordering.pages import show_cart

S = OrderStatus


def checkout(counter: Counter, **path):
    buyer = counter.find_buyer(**path)
    form = CheckoutForm()
    if not form.validate_on_submit():
        broken = form.broken()
        return show_cart(counter, buyer, error_status(), checkout=form,
                         key=None if broken else form.idempotency_key.data,
                         notice=_("提交无效，请刷新页面后重试。") if broken else None)
    key = form.idempotency_key.data
    outcome = attempt(form, _place, counter, current_user, buyer, key, form.fingerprint.data or None,
                      accept_changes=form.accept_changes.data == "1", note=form.note.data or "", terms=form.terms(), **form.lanes())
    if not outcome.ok:
        error = outcome.error
        return show_cart(counter, buyer, 409, checkout=form, quote=getattr(error, "quote", None),
                         key=None if isinstance(error, ordering.KeyReused) else key, notice=error.message)
    order_id, messages = outcome.result
    for message, category in messages:
        flash(message, category)
    return redirect_to(url_for(f"{counter.blueprint}.{counter.order_detail}", order_id=order_id))


def _place(counter: Counter, *args, **kwargs) -> tuple[int, list[tuple[str, str]]]:
    """The counter's checkout, and what the buyer is told, worded before the commit (which
    expires the order: reading it afterwards would load it again)."""
    submission = counter.place(*args, **kwargs)
    return submission.order.id, result_messages(submission)


def result_messages(submission: ordering.Submission) -> list[tuple[str, str]]:
    """What the buyer is told after checkout, for every role alike: (message, flash category)."""
    order = submission.order
    if not submission.created:
        return [(_("订单 %(number)s 已提交过，没有重复下单。", number=order.number), "info")]
    if order.status == S.APPROVED.value:
        messages = [(_("订单 %(number)s 已提交，并已自动审核通过。", number=order.number), "success")]
    elif order.status == S.ON_HOLD.value:
        messages = [(_("订单 %(number)s 已提交，等待 %(seller)s 审核：%(reasons)s。", number=order.number,
                       seller=order.seller.name, reasons=hold_reasons(order.id)), "warning")]
    elif order.status == S.SUBMITTED.value:
        messages = [(_("订单 %(number)s 已提交，等待 %(seller)s 审核。", number=order.number,
                       seller=order.seller.name), "info")]
    else:
        messages = [(_("订单 %(number)s 已提交。", number=order.number), "success")]
    if submission.dropped:
        locale = str(get_locale())
        messages.append((_("已移除不可订购的商品：%(names)s", names=_("、").join(p.name(locale) for p in submission.dropped)),
                         "warning"))
    return messages


def hold_reasons(order_id: int) -> str:
    """The reasons an order waits for review, by name (e.g. 超出信用额度、库存不足)."""
    codes = dict.fromkeys(r.code for r in approval.reasons_for([order_id]).get(order_id, []))
    return _("、").join(str(approval.REASON_LABELS.get(code, code)) for code in codes)
