"""The retailer's orders: list with status filter, detail with history (order again is the
ordering counter's, app.web.retailer.ordering)."""
from flask import request
from flask_login import current_user

from app.services.ordering import orders as ordering
from app.web.common.conditional import revalidate
from app.web.common.forms import ActionForm
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS, OrderFilterForm
from app.web.retailer import bp
from app.web.retailer.common import retailer_page

PER_PAGE = 20


@bp.get("/orders")
def orders():
    form = OrderFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = ordering.list_orders(ordering.orders_visible_to(current_user), criteria["status"], None,
                                criteria["page"], PER_PAGE)
    params = {"status": criteria["status"]} if criteria["status"] else {}
    return revalidate(retailer_page("retailer/orders.html", "retailer/_orders_list.html", form=form, results=results,
                                    params=params, status_labels=STATUS_LABELS))


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    order = ordering.order_detail(ordering.orders_visible_to(current_user), order_id)
    return revalidate(retailer_page("retailer/order_detail.html", order=order, reorder_form=ActionForm(),
                                    status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS))

