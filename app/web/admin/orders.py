"""The brand's order desk: orders the brand sells (dealers' replenishment, retailers the brand
serves directly). The review queue with the reasons the automatic review held each order, the
list by status, and an order's page with its history and the decisions: approve, start
picking, hold, reject, cancel (with a note), or run the rules again. Permission "orders"."""
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.approval import automatic as approval
from app.services.credit import limits as credit
from app.services.ordering import lifecycle
from app.services.ordering import orders as ordering
from app.services.core.errors import DomainError, NotFound
from app.web.shared.fulfilment import desk as fulfilment_desk
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.fields import form_status
from app.web.admin.orders_forms import ACTION_ENDPOINTS, ACTION_LABELS, DecisionForm, ReviewFilterForm
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS, OrderFilterForm


def _brand_orders():
    return ordering.orders_sold_by(current_user.org_id)


def labels() -> dict:
    return {"status_labels": STATUS_LABELS, "channel_labels": CHANNEL_LABELS, "reason_labels": approval.REASON_LABELS,
            "action_labels": ACTION_LABELS, "action_endpoints": ACTION_ENDPOINTS}


@bp.get("/orders")
@permission_required("orders")
def orders_list():
    form = OrderFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = ordering.list_orders(_brand_orders(), criteria["status"], criteria["search"], criteria["page"],
                                   current_app.config["PAGE_SIZE"])
    params = {k: v for k, v in (("status", criteria["status"]), ("q", criteria["search"])) if v}
    return render_page("admin/orders/list.html", "admin/orders/_list.html", form=form, results=results,
                       params=params, waiting=approval.waiting_count(current_user.org_id), **labels())


@bp.get("/orders/review")
@permission_required("orders")
def orders_review():
    form = ReviewFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = approval.review_queue(current_user.org_id, criteria["reason"], criteria["page"],
                                    current_app.config["PAGE_SIZE"])
    params = {"reason": criteria["reason"]} if criteria["reason"] else {}
    return render_page("admin/orders/review.html", "admin/orders/_review.html", form=form, results=results,
                       reasons=approval.reasons_for([o.id for o in results.items]), params=params, **labels())


def _order_or_404(order_id: int):
    try:
        return ordering.order_detail(_brand_orders(), order_id)
    except NotFound:
        abort(404)


def _detail(order, form: DecisionForm | None = None, status: int = 200):
    form = form or DecisionForm(formdata=None)
    form.seen.data = order.status  # the buttons shown act on the status shown
    actor_ids = {e.actor_id for e in order.events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    fulfilled = fulfilment_desk.order_fulfilment(order)
    actions = lifecycle.seller_actions(order.status)
    if fulfilled["shipments"] and lifecycle.S.CANCELLED.value in actions:  # shipped goods: cancel the rest instead
        actions.remove(lifecycle.S.CANCELLED.value)
    return render_page("admin/orders/detail.html", "admin/orders/_decision.html", status=status, order=order,
                       form=form, actions=actions,
                       reasons=approval.reasons_for([order.id]).get(order.id, []), actors=actors,
                       summary=credit.summary(order.buyer, order.seller_id), **fulfilled, **labels())


@bp.get("/orders/<int:order_id>")
@permission_required("orders")
def order_detail(order_id: int):
    return _detail(_order_or_404(order_id))


def _decide(order_id: int, to: str):
    """One desk decision: redirect to the order on success; otherwise the order again with the
    message next to the note (400, 422 for htmx) or above it when the order moved on (409)."""
    order = _order_or_404(order_id)
    form = DecisionForm()
    status = None
    if form.validate_on_submit():
        try:
            lifecycle.act_as_seller(current_user.org_id, order.id, to, current_user.id, form.note.data or "",
                                    seen=form.seen.data or None)
        except NotFound:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
            status = None if error.field else 409
        else:
            db.session.commit()
            flash(_("订单 %(n)s：%(status)s。", n=order.number, status=STATUS_LABELS[to]), "success")
            return redirect_to(url_for("admin.order_detail", order_id=order.id))
    return _detail(_order_or_404(order_id), form, status or form_status(form))


@bp.post("/orders/<int:order_id>/approve")
@permission_required("orders")
def order_approve(order_id: int):
    return _decide(order_id, lifecycle.S.APPROVED.value)


@bp.post("/orders/<int:order_id>/picking")
@permission_required("orders")
def order_picking(order_id: int):
    return _decide(order_id, lifecycle.S.PICKING.value)


@bp.post("/orders/<int:order_id>/hold")
@permission_required("orders")
def order_hold(order_id: int):
    return _decide(order_id, lifecycle.S.ON_HOLD.value)


@bp.post("/orders/<int:order_id>/reject")
@permission_required("orders")
def order_reject(order_id: int):
    return _decide(order_id, lifecycle.S.REJECTED.value)


@bp.post("/orders/<int:order_id>/cancel")
@permission_required("orders")
def order_cancel(order_id: int):
    return _decide(order_id, lifecycle.S.CANCELLED.value)


@bp.post("/orders/<int:order_id>/recheck")
@permission_required("orders")
def order_recheck(order_id: int):
    """Run the approval rules again on a held order (after a payment or a restock)."""
    order = _order_or_404(order_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        review = approval.recheck(current_user.org_id, order.id, current_user)
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        if review.outcome == "approved":
            flash(_("订单 %(n)s 已通过全部规则，已审核。", n=order.number), "success")
        else:
            flash(_("订单 %(n)s 仍未通过：%(reasons)s", n=order.number,
                    reasons=_("、").join(str(approval.REASON_LABELS.get(r.code, r.code)) for r in review.reasons)),
                  "warning")
    return redirect_to(url_for("admin.order_detail", order_id=order.id))
