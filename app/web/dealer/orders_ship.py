"""Shipping an order (whole or in parts, the rest kept open or cancelled with a reason) and
signing for the buyer with the delivery code the driver was given."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services import delivery, fulfilment, ordering, shipping
from app.services.errors import DomainError, NotFound
from app.web.dealer import bp
from app.web.fulfilment_forms import (CancelRestForm, CodeSignOffForm, ShipForm, discrepancies, line_quantities,
                                      with_line_fields)
from app.web.forms import show_error
from app.web.htmx import is_htmx, redirect_to, render_page
from app.web.listing import STATUS_LABELS


def _order_or_404(order_id: int):
    try:
        return ordering.order_detail(ordering.orders_sold_by(current_user.org_id), order_id)
    except NotFound:
        abort(404)


def _error_status(form, error: DomainError | None = None) -> int:
    if error is not None and not error.field:
        return 409
    return 422 if is_htmx() else 400


# ---- shipping -----------------------------------------------------------------------------------

def _ship_form_class(rows):
    return with_line_fields(ShipForm, rows, ("qty",), lambda row, kind: row.open)


def _ship_page(order, rows, form, cancel_form, status=200):
    return render_page("dealer/order_ship.html", "dealer/_ship_form.html", status=status, order=order, rows=rows,
                       form=form, cancel_form=cancel_form, shipments=fulfilment.shipments_of(order.id),
                       can_ship=order.status in shipping.SHIPPABLE and any(r.open for r in rows)
                       and fulfilment.remainder_cancellation(order.id) is None,
                       status_labels=STATUS_LABELS)


@bp.get("/orders/<int:order_id>/ship")
def order_ship_form(order_id: int):
    order = _order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _ship_form_class(rows)(formdata=None)
    for row in rows:  # by default everything still open goes out
        getattr(form, f"qty_{row.line.id}").data = row.open
    form.seen.data = order.status
    cancel_form = CancelRestForm(formdata=None)
    cancel_form.seen.data = order.status
    return _ship_page(order, rows, form, cancel_form)


@bp.post("/orders/<int:order_id>/ship")
def order_ship(order_id: int):
    order = _order_or_404(order_id)
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
            return redirect_to(url_for("dealer.order_detail", order_id=order.id))
    order = _order_or_404(order_id)
    cancel_form = CancelRestForm(formdata=None)
    cancel_form.seen.data = order.status
    return _ship_page(order, fulfilment.progress(order), form, cancel_form, status=_error_status(form, error))


@bp.post("/orders/<int:order_id>/cancel-rest")
def order_cancel_rest(order_id: int):
    order = _order_or_404(order_id)
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
            return redirect_to(url_for("dealer.order_detail", order_id=order.id))
    order = _order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _ship_form_class(rows)(formdata=None)
    form.seen.data = order.status
    status = _error_status(cancel_form, error)
    return render_page("dealer/order_ship.html", "dealer/_cancel_rest_form.html", status=status, order=order,
                       rows=rows, form=form, cancel_form=cancel_form, shipments=fulfilment.shipments_of(order.id),
                       can_ship=order.status in shipping.SHIPPABLE and any(r.open for r in rows)
                       and fulfilment.remainder_cancellation(order.id) is None, status_labels=STATUS_LABELS)


# ---- sign-off with the delivery code ----------------------------------------------------------

def _sign_form_class(rows):
    return with_line_fields(CodeSignOffForm, rows, ("short", "damaged"), lambda row, kind: row.shipped)


def _sign_page(order, rows, form, status=200):
    return render_page("dealer/order_sign_off.html", "dealer/_sign_off_form.html", status=status, order=order,
                       rows=rows, form=form, code_state=delivery.code_state(order.id),
                       max_attempts=delivery.MAX_ATTEMPTS, sign_off=fulfilment.sign_off_of(order.id),
                       status_labels=STATUS_LABELS)


@bp.get("/orders/<int:order_id>/sign-off")
def order_sign_off_form(order_id: int):
    order = _order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _sign_form_class(rows)(formdata=None)
    form.seen.data = order.status
    return _sign_page(order, rows, form)


@bp.post("/orders/<int:order_id>/sign-off")
def order_sign_off(order_id: int):
    order = _order_or_404(order_id)
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
            return redirect_to(url_for("dealer.order_detail", order_id=order.id))
    form.code.data = ""  # never echo a code back
    order = _order_or_404(order_id)
    return _sign_page(order, fulfilment.progress(order), form, status=_error_status(form, error))
