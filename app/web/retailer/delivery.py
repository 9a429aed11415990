"""The retailer's side of a delivery: what was shipped (carrier, tracking number, quantities),
the order's delivery code to give the driver, and confirming receipt, with what arrived short
or damaged (credited by the seller)."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services.fulfilment import delivery
from app.services.fulfilment import progress as fulfilment
from app.services.fulfilment import returns
from app.web.shared.fulfilment.forms import ConfirmReceiptForm, discrepancies, with_line_fields
from app.web.common.envelope import attempt, error_status
from app.web.common.htmx import redirect_to
from app.web.common.listing import STATUS_LABELS
from app.web.retailer import bp
from app.web.retailer.common import bought_order, retailer_page

# While goods are on the road the page shows the code for the driver.
CODE_SHOWN = frozenset({"picking", "partly_shipped", "shipped"})


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
    order = bought_order(order_id)
    form = _form_class(fulfilment.progress(order))(formdata=None)
    form.seen.data = order.status
    return _page(order, form)


@bp.post("/orders/<int:order_id>/delivery")
def order_confirm_receipt(order_id: int):
    order = bought_order(order_id)
    rows = fulfilment.progress(order)
    form = _form_class(rows)()
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(form, delivery.confirm_receipt, current_user.org_id, order.id, current_user.id,
                          discrepancies(form, rows), note=form.note.data or "", seen=form.seen.data or None)
        if outcome.ok:
            flash(_("已确认收货。"), "success")
            return redirect_to(url_for("retailer.order_delivery", order_id=order.id))
    return _page(bought_order(order_id), form, status=outcome.status if outcome else error_status())
