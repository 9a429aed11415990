"""The rep's orders (placed on retailers' behalf), this month's progress against the target,
and an order's detail (the rep's own orders and those of the retailers on the route)."""
from flask import request
from flask_login import current_user

from app.services.ordering import orders as ordering
from app.services.field_sales import portal as rep_portal
from app.services.field_sales import targets as rep_targets
from app.web.common.htmx import render_page, wants_fragment
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS, OrderFilterForm
from app.services.logistics.tracking import events_for_order
from app.web.rep import bp

PER_PAGE = 20


@bp.get("/orders")
def orders():
    form = OrderFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = ordering.list_orders(rep_portal.orders_placed_by(current_user), criteria["status"], criteria["search"],
                                   criteria["page"], PER_PAGE)
    params = {k: v for k, v in (("status", criteria["status"]), ("q", criteria["search"])) if v}
    return render_page("rep/orders.html", "rep/_orders_list.html", form=form, results=results, params=params,
                       status_labels=STATUS_LABELS,
                       progress=None if wants_fragment() else rep_targets.month_progress(current_user))


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    order = ordering.order_detail(rep_portal.orders_visible_to_rep(current_user), order_id)
    return render_page("rep/order_detail.html", order=order, status_labels=STATUS_LABELS,
                       channel_labels=CHANNEL_LABELS, tracking=events_for_order(order.id))
