"""The retailer's side of a delivery: what was shipped (carrier, tracking number, quantities),
the order's delivery code to give the driver, and confirming receipt, with what arrived short
or damaged (credited by the seller)."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services.fulfilment import delivery
from app.services.fulfilment import progress as fulfilment
from app.services.ordering import orders as ordering
from app.services.fulfilment import returns
from app.services.core.errors import DomainError, NotFound
from app.web.shared.fulfilment.forms import ConfirmReceiptForm, discrepancies, with_line_fields
from app.web.common.forms import show_error
from app.web.common.htmx import is_htmx, redirect_to
from app.web.common.listing import STATUS_LABELS
from app.web.retailer import bp
from app.web.retailer.common import retailer_page

# While goods are on the road the page shows the code for the driver.
CODE_SHOWN = frozenset({"picking", "shipped"})


def _order_or_404(order_id: int):
    try:
        return ordering.order_detail(ordering.orders_bought_by(current_user.org_id), order_id)
    except NotFound:
        abort(404)


def _form_class(rows):
    return with_line_fields(ConfirmReceiptForm, rows, ("short", "damaged"), lambda row, kind: row.shipped)


def _page(order, form, status: int = 200):
    rows = fulfilment.progress(order)
    return retailer_page("retailer/delivery.html", "retailer/_receipt_form.html", status=status, order=order,
                         rows=rows, form=form, shipments=fulfilment.shipments_of(order.id),
                         sign_off=fulfilment.sign_off_of(order.id),
                         cancellation=fulfilment.remainder_cancellation(order.id),
                         code=delivery.code_for(order.id) if order.status in CODE_SHOWN else None,
                         order_returns=list(db.session.scalars(returns.returns_bought_by(current_user.org_id,
                                                                                         order.id))),
                         can_return=order.status in returns.RETURNABLE_STATUSES and any(r.returnable for r in rows),
                         status_labels=STATUS_LABELS, return_labels=returns.STATUS_LABELS,
                         disposition_labels=returns.DISPOSITION_LABELS)


@bp.get("/orders/<int:order_id>/delivery")
def order_delivery(order_id: int):
    order = _order_or_404(order_id)
    form = _form_class(fulfilment.progress(order))(formdata=None)
    form.seen.data = order.status
    return _page(order, form)


@bp.post("/orders/<int:order_id>/delivery")
def order_confirm_receipt(order_id: int):
    order = _order_or_404(order_id)
    rows = fulfilment.progress(order)
    form = _form_class(rows)()
    error = None
    if form.validate_on_submit():
        try:
            delivery.confirm_receipt(current_user.org_id, order.id, current_user.id, discrepancies(form, rows),
                                     note=form.note.data or "", seen=form.seen.data or None)
        except NotFound:
            abort(404)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(form, caught)
        else:
            db.session.commit()
            flash(_("已确认收货。"), "success")
            return redirect_to(url_for("retailer.order_delivery", order_id=order.id))
    status = 409 if error is not None and not error.field else (422 if is_htmx() else 400)
    return _page(_order_or_404(order_id), form, status=status)
