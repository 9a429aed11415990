"""The retailer's side of a delivery: what was shipped (carrier, tracking number, quantities),
the order's delivery code to give the driver, and confirming receipt, with what arrived short
or damaged (credited by the seller)."""
from flask import url_for
from flask_login import current_user

from app.extensions import db
from app.services.fulfilment import progress as fulfilment
from app.services.fulfilment import returns
from app.web.common.listing import STATUS_LABELS
from app.web.retailer import bp
from app.web.retailer.common import bought_order, retailer_page
from app.web.shared.fulfilment import receipt


def _page(order, form, status: int = 200):
    rows = fulfilment.progress(order)
    return retailer_page("retailer/delivery.html", "retailer/_receipt_form.html", status=status, order=order,
                         rows=rows, form=form, shipments=fulfilment.shipments_of(order.id),
                         sign_off=fulfilment.sign_off_of(order.id),
                         cancellation=fulfilment.remainder_cancellation(order.id), code=receipt.code_of(order),
                         show_lots=False,
                         order_returns=list(db.session.scalars(returns.returns_bought_by(current_user.org_id,
                                                                                         order.id))),
                         can_return=order.status in returns.RETURNABLE_STATUSES and any(r.returnable for r in rows),
                         status_labels=STATUS_LABELS, return_labels=returns.STATUS_LABELS,
                         disposition_labels=returns.DISPOSITION_LABELS)


@bp.get("/orders/<int:order_id>/delivery")
def order_delivery(order_id: int):
    return receipt.show(bought_order(order_id), _page)


@bp.post("/orders/<int:order_id>/delivery")
def order_confirm_receipt(order_id: int):
    return receipt.confirm(bought_order(order_id), lambda: bought_order(order_id), _page,
                           url_for("retailer.order_delivery", order_id=order_id))
