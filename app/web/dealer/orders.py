"""The dealer's order desk: incoming orders by status and delivery day / route with boxes to
tick for printing, an order's page with its fulfilment, and the desk decisions (approve, start
picking, hold, reject, cancel; a reason where the buyer is told no). Shipping, sign-off and
printing have their own modules (orders_ship.py, orders_print.py)."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.fulfilment import delivery
from app.services.documents import requests as documents
from app.services.fulfilment import progress as fulfilment
from app.services.ordering import lifecycle
from app.services.fulfilment import desk as order_desk
from app.services.ordering import orders as ordering
from app.services.fulfilment import returns
from app.services.core.errors import DomainError, NotFound
from app.services.fulfilment.shipping import SHIPPABLE
from app.web.common.conditional import revalidate
from app.web.dealer import bp
from app.web.shared.fulfilment.forms import DecisionForm, DeskFilterForm
from app.web.common.forms import show_error
from app.web.common.htmx import is_htmx, redirect_to, render_page
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS

PER_PAGE = 50
S = lifecycle.S
ACTION_LABELS = {S.APPROVED.value: _l("审核通过"), S.PICKING.value: _l("开始拣货"), S.ON_HOLD.value: _l("暂缓"),
                 S.REJECTED.value: _l("拒绝"), S.CANCELLED.value: _l("取消订单")}
ACTION_ENDPOINTS = {S.APPROVED.value: "dealer.order_approve", S.PICKING.value: "dealer.order_picking",
                    S.ON_HOLD.value: "dealer.order_hold", S.REJECTED.value: "dealer.order_reject",
                    S.CANCELLED.value: "dealer.order_cancel"}


def labels() -> dict:
    return {"status_labels": STATUS_LABELS, "channel_labels": CHANNEL_LABELS,
            "action_labels": ACTION_LABELS, "action_endpoints": ACTION_ENDPOINTS,
            "return_labels": returns.STATUS_LABELS, "disposition_labels": returns.DISPOSITION_LABELS}


@bp.get("/orders")
def orders():
    form = DeskFilterForm(formdata=request.args)
    form.set_regions(order_desk.region_choices(current_user.org_id))
    criteria = form.criteria()
    page = criteria.pop("page")
    results, rows = order_desk.desk_page(current_user.org_id, order_desk.DeskFilter(**criteria), page, PER_PAGE)
    params = {k: v for k, v in (("status", criteria["status"]), ("day", criteria["weekday"]),
                                ("region", criteria["region_id"]), ("q", criteria["search"])) if v not in (None, "")}
    return revalidate(render_page("dealer/orders.html", "dealer/_orders_list.html", form=form, results=results,
                                  rows=rows, params=params, counts=order_desk.status_counts(current_user.org_id),
                                  desk_statuses=order_desk.DESK_STATUSES, **labels()))


def _order_or_404(order_id: int):
    try:
        return ordering.order_detail(ordering.orders_sold_by(current_user.org_id), order_id)
    except NotFound:
        abort(404)


def detail_context(order, form: DecisionForm | None = None) -> dict:
    """Everything the order page shows: lines with what was shipped, cancelled, short and
    returned; shipments with lots; the sign-off; returns; documents; the decision card."""
    form = form or DecisionForm(formdata=None)
    form.seen.data = order.status
    actor_ids = {e.actor_id for e in order.events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    rows = fulfilment.progress(order)
    shipments = fulfilment.shipments_of(order.id)
    actions = lifecycle.seller_actions(order.status)
    if shipments and S.CANCELLED.value in actions:
        actions.remove(S.CANCELLED.value)
    return dict(order=order, form=form, actions=actions, actors=actors, rows=rows, shipments=shipments,
                can_ship=order.status in SHIPPABLE and any(r.open for r in rows)
                and fulfilment.remainder_cancellation(order.id) is None,
                cancellation=fulfilment.remainder_cancellation(order.id),
                sign_off=fulfilment.sign_off_of(order.id), code_state=delivery.code_state(order.id),
                order_returns=list(db.session.scalars(returns.returns_sold_by(current_user.org_id, order_id=order.id))),
                document_slots=documents.document_slots(order), **labels())


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    order = _order_or_404(order_id)
    return render_page("dealer/order_detail.html", **detail_context(order))


def _decide(order_id: int, to: str):
    """Redirect to the order on success; otherwise the decision card again with the message next
    to the note (400; 422 for htmx) or above it when the order moved on (409)."""
    order = _order_or_404(order_id)
    form = DecisionForm()
    status = None
    if form.validate_on_submit():
        try:
            order_desk.decide(current_user.org_id, order.id, to, current_user.id, form.note.data or "",
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
            return redirect_to(url_for("dealer.order_detail", order_id=order.id))
    status = status or (422 if is_htmx() else 400)
    order = _order_or_404(order_id)
    return render_page("dealer/order_detail.html", "dealer/_order_decision.html", status=status,
                       **detail_context(order, form))


@bp.post("/orders/<int:order_id>/approve")
def order_approve(order_id: int):
    return _decide(order_id, S.APPROVED.value)


@bp.post("/orders/<int:order_id>/picking")
def order_picking(order_id: int):
    return _decide(order_id, S.PICKING.value)


@bp.post("/orders/<int:order_id>/hold")
def order_hold(order_id: int):
    return _decide(order_id, S.ON_HOLD.value)


@bp.post("/orders/<int:order_id>/reject")
def order_reject(order_id: int):
    return _decide(order_id, S.REJECTED.value)


@bp.post("/orders/<int:order_id>/cancel")
def order_cancel(order_id: int):
    return _decide(order_id, S.CANCELLED.value)
