"""The retailer's orders: list with status filter, detail with history, order again."""
from flask import abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.services.ordering import orders as ordering
from app.web.common.access import current_org
from app.web.common.conditional import revalidate
from app.web.common.envelope import attempt
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to
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


@bp.post("/orders/<int:order_id>/reorder")
def order_again(order_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = attempt(None, ordering.order_again, current_user, current_org(), order_id)
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return redirect_to(url_for("retailer.order_detail", order_id=order_id))
    refill = outcome.result
    locale = str(get_locale())
    if refill.added:
        flash(_("已将 %(n)d 种商品加入购物车。", n=len(refill.added)), "success")
    if refill.skipped:
        flash(_("以下商品已不可订购，未加入：%(names)s", names="、".join(p.name(locale) for p in refill.skipped)),
              "warning")
    return redirect_to(url_for("retailer.cart_page"))
