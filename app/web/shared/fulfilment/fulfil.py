"""Shipping an order (whole or in parts, the rest kept open or cancelled with a reason) and
signing for the buyer with the delivery code the driver was given: the same pages on the
dealer's and the brand's desk (see desk.py)."""
from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from app.services.fulfilment import delivery
from app.services.fulfilment import progress as fulfilment
from app.services.fulfilment import shipping
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import Outcome, attempt, error_status
from app.web.common.forms import show_error
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import STATUS_LABELS
from app.web.shared.fulfilment.desk import Desk, route, seller_order
from app.web.shared.fulfilment.forms import (CancelRestForm, CodeSignOffForm, ShipForm, discrepancies,
                                             line_quantities, with_line_fields)


def _can_ship(order, rows) -> bool:
    return (order.status in shipping.SHIPPABLE and any(r.open for r in rows)
            and fulfilment.remainder_cancellation(order.id) is None)


# ---- shipping -----------------------------------------------------------------------------------

def _ship_form_class(rows):
    return with_line_fields(ShipForm, rows, ("qty",), lambda row, kind: row.open)


def _ship_page(desk: Desk, order, form=None, cancel_form=None, status=200, fragment="fulfilment/_ship_form.html"):
    """The shipping page of the order as it is now; a form not given starts afresh (everything
    still open goes out by default, with the seller's usual carrier)."""
    rows = fulfilment.progress(order)
    if form is None:
        form = _ship_form_class(rows)(formdata=None)
        form.carrier.data = shipping.usual_carrier(current_user.org_id)
        for row in rows:
            getattr(form, f"qty_{row.line.id}").data = row.open
    if cancel_form is None:
        cancel_form = CancelRestForm(formdata=None)
    form.seen.data = cancel_form.seen.data = order.status
    return render_page("fulfilment/order_ship.html", fragment, status=status, order=order, rows=rows,
                       form=form, cancel_form=cancel_form, shipments=fulfilment.shipments_of(order.id),
                       can_ship=_can_ship(order, rows), status_labels=STATUS_LABELS, **desk.context())


@route("/orders/<int:order_id>/ship", "order_ship_form")
def order_ship_form(desk: Desk, order_id: int):
    return _ship_page(desk, seller_order(order_id))


@route("/orders/<int:order_id>/ship", "order_ship", methods=("POST",))
def order_ship(desk: Desk, order_id: int):
    order = seller_order(order_id)
    rows = fulfilment.progress(order)
    form = _ship_form_class(rows)()
    status = error_status()
    if form.validate_on_submit():
        cancel_reason = (form.cancel_rest_reason.data or "") if form.cancel_rest.data else ""
        outcome = attempt(form, shipping.ship, current_user.org_id, order.id, current_user.id,
                          carrier=form.carrier.data, tracking_no=form.tracking_no.data or "",
                          quantities=line_quantities(form, rows, "qty"), note=form.note.data or "",
                          cancel_rest_reason=cancel_reason, seen=form.seen.data or None)
        if outcome.ok:
            if outcome.result.complete:
                flash(_("发货单 %(n)s 已发出，订单已全部发货。", n=outcome.result.shipment.number), "success")
            else:
                flash(_("发货单 %(n)s 已发出（部分发货），剩余数量待发。", n=outcome.result.shipment.number), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
        status = outcome.status
    return _ship_page(desk, seller_order(order_id), form=form, status=status)


@route("/orders/<int:order_id>/cancel-rest", "order_cancel_rest", methods=("POST",))
def order_cancel_rest(desk: Desk, order_id: int):
    order = seller_order(order_id)
    cancel_form = CancelRestForm()
    status = error_status()
    if cancel_form.validate_on_submit() and (cancel_form.reason.data or "").strip() and not confirmed():
        return ask_confirmation(_("取消订单 %(n)s 剩余未发的数量？", n=order.number), detail=cancel_form.reason.data,
                                back_url=desk.url("order_ship", order_id=order.id))
    if cancel_form.validate_on_submit():
        outcome = attempt(cancel_form, shipping.cancel_rest, current_user.org_id, order.id, current_user.id,
                          cancel_form.reason.data, seen=cancel_form.seen.data or None)
        if outcome.ok:
            flash(_("订单 %(n)s 的剩余数量已取消，订单已发货完毕。", n=order.number), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
        status = outcome.status
    return _ship_page(desk, seller_order(order_id), cancel_form=cancel_form, status=status,
                      fragment="fulfilment/_cancel_rest_form.html")


# ---- sign-off with the delivery code ----------------------------------------------------------

def _sign_form_class(rows):
    return with_line_fields(CodeSignOffForm, rows, ("short", "damaged"), lambda row, kind: row.shipped)


def _sign_page(desk: Desk, order, form=None, status=200):
    rows = fulfilment.progress(order)
    form = form or _sign_form_class(rows)(formdata=None)
    form.seen.data = order.status
    form.code.data = ""  # never echo a code back
    return render_page("fulfilment/order_sign_off.html", "fulfilment/_sign_off_form.html", status=status,
                       order=order, rows=rows, form=form, code_state=delivery.code_state(order.id),
                       max_attempts=delivery.MAX_ATTEMPTS, sign_off=fulfilment.sign_off_of(order.id),
                       status_labels=STATUS_LABELS, **desk.context())


@route("/orders/<int:order_id>/sign-off", "order_sign_off_form")
def order_sign_off_form(desk: Desk, order_id: int):
    return _sign_page(desk, seller_order(order_id))


def _sign_off_counting_wrong_codes(*args, **kwargs):
    """sign_off_with_code, with a wrong code handed back instead of raised: the attempt it
    counted must be committed (the envelope rolls a raised error back)."""
    try:
        return delivery.sign_off_with_code(*args, **kwargs)
    except delivery.WrongDeliveryCode as wrong:
        return wrong


@route("/orders/<int:order_id>/sign-off", "order_sign_off", methods=("POST",))
def order_sign_off(desk: Desk, order_id: int):
    order = seller_order(order_id)
    rows = fulfilment.progress(order)
    form = _sign_form_class(rows)()
    status = error_status()
    if form.validate_on_submit():
        outcome = attempt(form, _sign_off_counting_wrong_codes, current_user.org_id, order.id, current_user.id,
                          form.code.data, discrepancies(form, rows), note=form.note.data or "",
                          seen=form.seen.data or None)
        if isinstance(outcome.result, delivery.WrongDeliveryCode):
            show_error(form, outcome.result)
            outcome = Outcome(error=outcome.result)
        if outcome.ok:
            flash(_("订单 %(n)s 已签收。", n=order.number), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
        status = outcome.status
    return _sign_page(desk, seller_order(order_id), form=form, status=status)
