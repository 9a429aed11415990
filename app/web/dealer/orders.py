"""Orders routed to the dealer: list and detail (fulfilment comes with the order lifecycle)."""
from flask import abort, request
from flask_login import current_user

from app.services import ordering
from app.services.errors import NotFound
from app.web.conditional import revalidate
from app.web.dealer import bp
from app.web.htmx import render_page
from app.web.listing import CHANNEL_LABELS, STATUS_LABELS, OrderFilterForm

PER_PAGE = 50


@bp.get("/orders")
def orders():
    form = OrderFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = ordering.list_orders(ordering.orders_visible_to(current_user), criteria["status"], criteria["search"],
                                criteria["page"], PER_PAGE)
    params = {k: v for k, v in (("status", criteria["status"]), ("q", criteria["search"])) if v}
    return revalidate(render_page("dealer/orders.html", "dealer/_orders_list.html", form=form, results=results,
                                  params=params, status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS))


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    try:
        order = ordering.order_detail(ordering.orders_visible_to(current_user), order_id)
    except NotFound:
        abort(404)
    return revalidate(render_page("dealer/order_detail.html", order=order, status_labels=STATUS_LABELS,
                                  channel_labels=CHANNEL_LABELS))
