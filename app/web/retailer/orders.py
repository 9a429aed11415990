"""The retailer's orders: list with status filter, detail with history, cancel before the seller
accepts it (asked to confirm first); order again is the ordering counter's (app.web.retailer.ordering)."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.ordering import lifecycle
from app.services.ordering import orders as ordering
from app.web.common.conditional import revalidate
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import attempt, error_status
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS, OrderFilterForm
from app.web.retailer import bp
from app.web.retailer.common import bought_order, retailer_page
from app.services.logistics.tracking import events_for_order
from app.web.payments.views import order_payment_panel
from app.web.shared.ordering.cancel import CancelForm

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


def _detail(order, cancel_form: CancelForm | None = None, status: int = 200, fragment: str | None = None):
    return retailer_page("retailer/order_detail.html", fragment, status=status, order=order,
                         reorder_form=ActionForm(), cancel_form=cancel_form or CancelForm(formdata=None),
                         may_cancel=order.status in lifecycle.BUYER_MAY_CANCEL, payment=order_payment_panel(order),
                         tracking=events_for_order(order.id),
                         status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS)


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    order = ordering.order_detail(ordering.orders_visible_to(current_user), order_id)
    return revalidate(_detail(order))


@bp.post("/orders/<int:order_id>/cancel")
def order_cancel(order_id: int):
    """Withdraw the order while the dealer has not accepted it: a reason, then a confirmation
    (hx-confirm with JavaScript, a confirm page without), then the dealer's desk is told."""
    order = bought_order(order_id)
    form = CancelForm()
    if form.validate_on_submit() and (form.note.data or "").strip() and not confirmed():
        return ask_confirmation(_("取消订单 %(n)s？", n=order.number), detail=form.note.data,
                                button=_("确认取消订单"), back_url=url_for("retailer.order_detail", order_id=order.id))
    status = error_status()
    if form.validate_on_submit():
        outcome = attempt(form, lifecycle.cancel_as_buyer, current_user.org_id, order.id, current_user.id,
                          form.note.data or "")
        if outcome.ok:
            flash(_("订单 %(n)s 已取消。", n=order.number), "success")
            return redirect_to(url_for("retailer.order_detail", order_id=order.id))
        status = outcome.status
    return _detail(bought_order(order_id), form, status, fragment="retailer/_cancel.html")
