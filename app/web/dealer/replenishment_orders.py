"""The dealer's replenishment orders to the brand: list, detail with history, withdraw (while the
brand has not accepted it), the delivery code for the brand's driver and confirming receipt; order
again is the ordering counter's (replenishment.py). Scoped to
orders the dealer bought; another dealer's order is not found."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services.ordering import lifecycle
from app.services.ordering import orders as ordering
from app.services.ordering import replenishment
from app.services.core.errors import DomainError, NotFound
from app.web.common.fields import form_status
from app.web.dealer import bp
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS, OrderFilterForm
from app.web.common.confirm import ask_confirmation, confirmed
from app.services.logistics.tracking import events_for_order
from app.web.payments.views import order_payment_panel
from app.web.shared.ordering.cancel import CancelForm
from app.services.fulfilment import progress as fulfilment
from app.services.fulfilment import receiving
from app.web.shared.fulfilment import receipt

PER_PAGE = 30


def _scope():
    return replenishment.replenishment_orders(current_user.org_id)


@bp.get("/replenishment/orders")
def replenishment_orders():
    form = OrderFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = ordering.list_orders(_scope(), criteria["status"], None, criteria["page"], PER_PAGE)
    params = {"status": criteria["status"]} if criteria["status"] else {}
    return render_page("dealer/replenishment/orders.html", "dealer/replenishment/_orders.html", form=form,
                       results=results, params=params, status_labels=STATUS_LABELS)


def _detail(order_id: int, cancel_form: CancelForm | None = None, status: int = 200):
    try:
        order = ordering.order_detail(_scope(), order_id)
    except NotFound:
        abort(404)
    return render_page("dealer/replenishment/detail.html", "dealer/replenishment/_cancel.html", status=status,
                       order=order, cancel_form=cancel_form or CancelForm(formdata=None), reorder_form=ActionForm(),
                       may_cancel=order.status in lifecycle.BUYER_MAY_CANCEL, status_labels=STATUS_LABELS,
                       payment=order_payment_panel(order), tracking=events_for_order(order.id),
                       channel_labels=CHANNEL_LABELS)


@bp.get("/replenishment/orders/<int:order_id>")
def replenishment_detail(order_id: int):
    return _detail(order_id)


@bp.post("/replenishment/orders/<int:order_id>/cancel")
def replenishment_cancel(order_id: int):
    form = CancelForm()
    status = None
    if form.validate_on_submit() and (form.note.data or "").strip() and not confirmed():
        try:
            order = ordering.order_detail(_scope(), order_id)
        except NotFound:
            abort(404)
        return ask_confirmation(_("取消补货单 %(n)s？", n=order.number), detail=form.note.data,
                                back_url=url_for("dealer.replenishment_detail", order_id=order_id))
    if form.validate_on_submit():
        try:
            order = replenishment.cancel_replenishment(current_user, order_id, form.note.data or "")
        except NotFound:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
            status = None if error.field else 409
        else:
            db.session.commit()
            flash(_("补货单 %(n)s 已取消。", n=order.number), "success")
            return redirect_to(url_for("dealer.replenishment_detail", order_id=order_id))
    return _detail(order_id, form, status or form_status(form))


# --- delivery: the code for the brand's driver and confirming receipt ------------------------------
# A replenishment order is signed for like a shop's: the dealer gives the driver its code or
# confirms receipt here (short or damaged quantities are credited by the brand); what arrived
# goes into the dealer's warehouse in the brand's lots (services/fulfilment/receiving.py).


def _bought(order_id: int):
    try:
        return ordering.order_detail(_scope(), order_id)
    except NotFound:
        abort(404)


def _delivery_page(order, form, status: int = 200):
    sign_off = fulfilment.sign_off_of(order.id)
    return render_page("dealer/replenishment/delivery.html", "retailer/_receipt_form.html", status=status,
                       order=order, rows=fulfilment.progress(order), form=form,
                       shipments=fulfilment.shipments_of(order.id), sign_off=sign_off,
                       cancellation=fulfilment.remainder_cancellation(order.id), code=receipt.code_of(order),
                       show_lots=True, receipt_action=url_for("dealer.replenishment_confirm_receipt", order_id=order.id),
                       status_labels=STATUS_LABELS, receiving=_receiving(order),
                       booked=receiving.booked_for(order) if sign_off and receiving.receives_stock(order) else None)


def _receiving(order) -> list | None:
    """Where signing puts the goods (the dealer's warehouses, default first); None when signing
    books no stock (an order not from the brand)."""
    return receiving.receiving_warehouses(order.buyer_id) if receiving.receives_stock(order) else None


@bp.get("/replenishment/orders/<int:order_id>/delivery")
def replenishment_delivery(order_id: int):
    order = _bought(order_id)
    return receipt.show(order, _delivery_page, _receiving(order) or ())


@bp.post("/replenishment/orders/<int:order_id>/delivery")
def replenishment_confirm_receipt(order_id: int):
    order = _bought(order_id)
    return receipt.confirm(order, lambda: _bought(order_id), _delivery_page,
                           url_for("dealer.replenishment_delivery", order_id=order_id), _receiving(order) or ())
