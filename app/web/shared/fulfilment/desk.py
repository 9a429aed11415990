"""The seller's fulfilment pages, shared by the dealer's desk and the brand's order desk: shipping
an order (whole or in parts, the rest kept open or cancelled with a reason), signing for the buyer
with the delivery code the driver was given, and deciding a return (accept: back to stock or
written off, with a credit note; refuse: with a reason the customer reads).

The seller is always the caller's organisation (`current_user.org_id`); another seller's order or
return is not found (404). A `Desk` names the layout and the endpoints the templates link to, so
each blueprint registers its own routes and calls these handlers."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services.fulfilment import delivery
from app.services.fulfilment import progress as fulfilment
from app.services.ordering import orders as ordering
from app.services.fulfilment import returns
from app.services.fulfilment import shipping
from app.services.core.errors import DomainError, NotFound
from app.web.shared.fulfilment.forms import (AcceptReturnForm, CancelRestForm, CodeSignOffForm, RefuseReturnForm, ShipForm,
                                      discrepancies, line_quantities, with_line_fields)
from app.web.common.forms import show_error
from app.web.common.htmx import is_htmx, redirect_to, render_page
from app.web.common.listing import STATUS_LABELS


@dataclass(frozen=True)
class Desk:
    """layout: the page layout template; endpoints: {order_detail, order_ship, order_cancel_rest,
    order_sign_off, returns_list (None: the return page links back to its order), return_detail,
    return_accept, return_refuse: endpoint name}."""
    layout: str
    endpoints: dict[str, str | None] = field(default_factory=dict)

    def context(self) -> dict:
        return {"layout": self.layout, "endpoints": self.endpoints}

    def url(self, name: str, **values) -> str:
        return url_for(self.endpoints[name], **values)


def order_or_404(order_id: int):
    try:
        return ordering.order_detail(ordering.orders_sold_by(current_user.org_id), order_id)
    except NotFound:
        abort(404)


def _error_status(error: DomainError | None = None) -> int:
    if error is not None and not error.field:
        return 409
    return 422 if is_htmx() else 400


def _can_ship(order, rows) -> bool:
    return (order.status in shipping.SHIPPABLE and any(r.open for r in rows)
            and fulfilment.remainder_cancellation(order.id) is None)


def order_fulfilment(order) -> dict:
    """What an order page shows of fulfilment: lines with what was shipped, cancelled, short and
    returned; shipments with lots; the cancelled rest; the sign-off; the seller's returns."""
    rows = fulfilment.progress(order)
    return dict(rows=rows, shipments=fulfilment.shipments_of(order.id), can_ship=_can_ship(order, rows),
                cancellation=fulfilment.remainder_cancellation(order.id), sign_off=fulfilment.sign_off_of(order.id),
                code_state=delivery.code_state(order.id),
                order_returns=list(db.session.scalars(returns.returns_sold_by(current_user.org_id,
                                                                              order_id=order.id))),
                return_labels=returns.STATUS_LABELS)


# ---- shipping -----------------------------------------------------------------------------------

def _ship_form_class(rows):
    return with_line_fields(ShipForm, rows, ("qty",), lambda row, kind: row.open)


def _ship_page(desk: Desk, order, rows, form, cancel_form, status=200, fragment="dealer/_ship_form.html"):
    return render_page("dealer/order_ship.html", fragment, status=status, order=order, rows=rows,
                       form=form, cancel_form=cancel_form, shipments=fulfilment.shipments_of(order.id),
                       can_ship=_can_ship(order, rows), status_labels=STATUS_LABELS, **desk.context())


def ship_form(desk: Desk, order_id: int):
    order = order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _ship_form_class(rows)(formdata=None)
    for row in rows:  # by default everything still open goes out
        getattr(form, f"qty_{row.line.id}").data = row.open
    form.seen.data = order.status
    cancel_form = CancelRestForm(formdata=None)
    cancel_form.seen.data = order.status
    return _ship_page(desk, order, rows, form, cancel_form)


def ship(desk: Desk, order_id: int):
    order = order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _ship_form_class(rows)()
    error = None
    if form.validate_on_submit():
        cancel_reason = (form.cancel_rest_reason.data or "") if form.cancel_rest.data else ""
        try:
            result = shipping.ship(current_user.org_id, order.id, current_user.id, carrier=form.carrier.data,
                                   tracking_no=form.tracking_no.data or "",
                                   quantities=line_quantities(form, rows, "qty"), note=form.note.data or "",
                                   cancel_rest_reason=cancel_reason, seen=form.seen.data or None)
        except NotFound:
            abort(404)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(form, caught)
        else:
            db.session.commit()
            if result.complete:
                flash(_("发货单 %(n)s 已发出，订单已全部发货。", n=result.shipment.number), "success")
            else:
                flash(_("发货单 %(n)s 已发出（部分发货），剩余数量待发。", n=result.shipment.number), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
    order = order_or_404(order_id)
    cancel_form = CancelRestForm(formdata=None)
    cancel_form.seen.data = order.status
    return _ship_page(desk, order, fulfilment.progress(order), form, cancel_form, status=_error_status(error))


def cancel_rest(desk: Desk, order_id: int):
    order = order_or_404(order_id)
    cancel_form = CancelRestForm()
    error = None
    if cancel_form.validate_on_submit():
        try:
            shipping.cancel_rest(current_user.org_id, order.id, current_user.id, cancel_form.reason.data,
                                 seen=cancel_form.seen.data or None)
        except NotFound:
            abort(404)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(cancel_form, caught)
        else:
            db.session.commit()
            flash(_("订单 %(n)s 的剩余数量已取消，订单已发货完毕。", n=order.number), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
    order = order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _ship_form_class(rows)(formdata=None)
    form.seen.data = order.status
    return _ship_page(desk, order, rows, form, cancel_form, status=_error_status(error),
                      fragment="dealer/_cancel_rest_form.html")


# ---- sign-off with the delivery code ----------------------------------------------------------

def _sign_form_class(rows):
    return with_line_fields(CodeSignOffForm, rows, ("short", "damaged"), lambda row, kind: row.shipped)


def _sign_page(desk: Desk, order, rows, form, status=200):
    return render_page("dealer/order_sign_off.html", "dealer/_sign_off_form.html", status=status, order=order,
                       rows=rows, form=form, code_state=delivery.code_state(order.id),
                       max_attempts=delivery.MAX_ATTEMPTS, sign_off=fulfilment.sign_off_of(order.id),
                       status_labels=STATUS_LABELS, **desk.context())


def sign_off_form(desk: Desk, order_id: int):
    order = order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _sign_form_class(rows)(formdata=None)
    form.seen.data = order.status
    return _sign_page(desk, order, rows, form)


def sign_off(desk: Desk, order_id: int):
    order = order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _sign_form_class(rows)()
    error = None
    if form.validate_on_submit():
        try:
            delivery.sign_off_with_code(current_user.org_id, order.id, current_user.id, form.code.data,
                                        discrepancies(form, rows), note=form.note.data or "",
                                        seen=form.seen.data or None)
        except NotFound:
            abort(404)
        except delivery.WrongDeliveryCode as caught:
            db.session.commit()  # the wrong attempt counts, whatever else happens
            error = caught
            show_error(form, caught)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(form, caught)
        else:
            db.session.commit()
            flash(_("订单 %(n)s 已签收。", n=order.number), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
    form.code.data = ""  # never echo a code back
    order = order_or_404(order_id)
    return _sign_page(desk, order, fulfilment.progress(order), form, status=_error_status(error))


# ---- returns ------------------------------------------------------------------------------------

def return_labels() -> dict:
    return {"return_labels": returns.STATUS_LABELS, "disposition_labels": returns.DISPOSITION_LABELS,
            "status_labels": STATUS_LABELS}


def _return_or_404(return_id: int):
    try:
        return returns.return_for_seller(current_user.org_id, return_id)
    except NotFound:
        abort(404)


def _return_page(desk: Desk, request_row, accept_form=None, refuse_form=None, status: int = 200,
                 fragment: str | None = None):
    return render_page("dealer/return_detail.html", fragment, status=status, ret=request_row,
                       accept_form=accept_form or AcceptReturnForm(formdata=None),
                       refuse_form=refuse_form or RefuseReturnForm(formdata=None), **return_labels(),
                       **desk.context())


def return_detail(desk: Desk, return_id: int):
    return _return_page(desk, _return_or_404(return_id))


def return_accept(desk: Desk, return_id: int):
    form = AcceptReturnForm()
    return _decide_return(desk, return_id, form, "accept_form",
                          lambda found: returns.accept_return(current_user.org_id, found.id, current_user.id,
                                                              form.disposition.data, form.note.data or ""),
                          lambda done: _("退货 %(n)s 已接受，已为客户开具红字单。", n=done.number))


def return_refuse(desk: Desk, return_id: int):
    form = RefuseReturnForm()
    return _decide_return(desk, return_id, form, "refuse_form",
                          lambda found: returns.refuse_return(current_user.org_id, found.id, current_user.id,
                                                              form.note.data),
                          lambda done: _("退货 %(n)s 已拒绝。", n=done.number))


def _decide_return(desk: Desk, return_id: int, form, form_name: str, decide, success_message):
    """Accept or refuse a return: one service call, commit and redirect, or the decision
    fragment again with the error next to its field."""
    found = _return_or_404(return_id)
    error = None
    if form.validate_on_submit():
        try:
            done = decide(found)
        except NotFound:
            abort(404)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(form, caught)
        else:
            db.session.commit()
            flash(success_message(done), "success")
            return redirect_to(desk.url("return_detail", return_id=found.id))
    return _return_page(desk, _return_or_404(return_id), status=_error_status(error),
                        fragment="dealer/_return_decision.html", **{form_name: form})
