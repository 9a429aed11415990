"""The desk's order list and an order's page with its decisions, the same for the dealer and the
brand: list by status, delivery day / route and search; the order with the buyer's credit, its
fulfilment, returns and history; approve, start picking, hold, reject, cancel (a reason where
the buyer is told no; a confirmation and a reason to approve beyond the buyer's credit); the
brand's desk also shows the automatic review's reasons and can run the rules again."""
from __future__ import annotations

from flask import abort, current_app, flash, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.approval import automatic as approval
from app.services.credit import limits as credit
from app.services.documents import requests as documents
from app.services.fulfilment import delivery
from app.services.fulfilment import desk as order_desk
from app.services.fulfilment import progress as fulfilment
from app.services.fulfilment import returns
from app.services.fulfilment.shipping import SHIPPABLE
from app.services.ordering import lifecycle, shortage
from app.services.payments.intents import order_intents
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.conditional import revalidate
from app.web.common.envelope import attempt, error_status
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS
from app.web.shared.fulfilment.desk import Desk, route, seller_order
from app.web.shared.fulfilment.forms import (ACTION_LABELS, ACTION_ROUTES, DecisionForm, DeskFilterForm,
                                             line_quantities, shortage_form)

S = lifecycle.S
DETAIL_PAGE = "fulfilment/order_detail.html"

# Decisions that say no to the buyer: they ask for confirmation first.
CONFIRMED_ACTIONS = frozenset({S.REJECTED.value, S.CANCELLED.value})


def labels() -> dict:
    return {"status_labels": STATUS_LABELS, "channel_labels": CHANNEL_LABELS, "action_labels": ACTION_LABELS,
            "reason_labels": approval.REASON_LABELS, "return_labels": returns.STATUS_LABELS,
            "disposition_labels": returns.DISPOSITION_LABELS}


@route("/orders", "orders_list")
def orders_list(desk: Desk):
    seller_id = current_user.org_id
    form = DeskFilterForm(formdata=request.args)
    form.set_regions(order_desk.region_choices(seller_id))
    criteria = form.criteria()
    opened = not any(request.args.get(name) for name in ("q", "day", "region")) and "status" not in request.args
    if desk.opens_on_action and opened:  # the bare list: what waits for a decision (a search covers every order)
        criteria["status"] = order_desk.TO_ACT
        form.status.data = order_desk.TO_ACT
    page = criteria.pop("page")
    results, rows = order_desk.desk_page(seller_id, order_desk.DeskFilter(**criteria), page,
                                         current_app.config["PAGE_SIZE"])
    params = {k: v for k, v in (("status", criteria["status"]), ("day", criteria["weekday"]),
                                ("region", criteria["region_id"]), ("q", criteria["search"])) if v not in (None, "")}
    if desk.opens_on_action and not criteria["status"]:
        params["status"] = ""  # every order, not the default "to act on"
    if (criteria["sort"], criteria["descending"]) != order_desk.DEFAULT_SORT:
        params.update(sort=criteria["sort"], dir="desc" if criteria["descending"] else "asc")
    counts = order_desk.status_counts(seller_id)
    return revalidate(render_page("fulfilment/orders.html", "fulfilment/_orders_list.html", form=form,
                                  results=results, rows=rows, params=params, counts=counts,
                                  sort=(criteria["sort"], criteria["descending"]),
                                  to_act=sum(counts.get(s, 0) for s in order_desk.TO_ACT_STATUSES),
                                  waiting=sum(counts.get(s, 0) for s in approval.WAITING),
                                  desk_statuses=order_desk.DESK_STATUSES, **labels(), **desk.context()))


def order_fulfilment(order) -> dict:
    """What an order page shows of fulfilment: lines with what was shipped, cancelled, short and
    returned; shipments with lots; the cancelled rest; the sign-off; the seller's returns."""
    rows = fulfilment.progress(order)
    cancellation = fulfilment.remainder_cancellation(order.id)
    return dict(rows=rows, shipments=fulfilment.shipments_of(order.id), cancellation=cancellation,
                can_ship=order.status in SHIPPABLE and any(r.open for r in rows) and cancellation is None,
                sign_off=fulfilment.sign_off_of(order.id), code_state=delivery.code_state(order.id),
                order_returns=list(db.session.scalars(returns.returns_sold_by(current_user.org_id,
                                                                              order_id=order.id))))


def detail_context(desk: Desk, order, form: DecisionForm | None = None, short_form=None) -> dict:
    """Everything the order page shows; the decision card offers what the lifecycle accepts now
    (no whole-order cancel once goods are on the road) and, where approving is one of them, the
    buyer's credit check and each line's availability with a form to approve what is available."""
    form = form or DecisionForm(formdata=None)
    form.seen.data = order.status  # the buttons shown act on the status shown
    actor_ids = {e.actor_id for e in order.events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    actions = lifecycle.seller_actions(order.status, order.id)
    availability = shortage.availability(order) if S.APPROVED.value in actions else []
    if availability and short_form is None:
        short_form = shortage_form(availability, formdata=None, order_status=order.status)
    context = dict(order=order, form=form, actions=actions, actors=actors, availability=availability,
                   short_form=short_form, backorder=shortage.backorder_for(order.id),
                   summary=credit.summary(order.buyer, order.seller_id),
                   credit_reasons=credit.check_credit(order, lock=False) if S.APPROVED.value in actions else [],
                   reasons=approval.reasons_for([order.id]).get(order.id, []) if desk.review else [],
                   document_slots=documents.document_slots(order) if desk.documents else None,
                   payments_received=order_intents(order.id),
                   **order_fulfilment(order), **labels(), **desk.context())
    return context


@route("/orders/<int:order_id>", "order_detail")
def order_detail(desk: Desk, order_id: int):
    return render_page(DETAIL_PAGE, **detail_context(desk, seller_order(order_id)))


def decide(desk: Desk, order_id: int, to: str):
    """One desk decision: redirect to the order on success; otherwise the decision card again
    with the message next to its field (400, 422 for htmx) or above it when the order moved on
    (409). Nothing is changed then."""
    order = seller_order(order_id)
    form = DecisionForm()
    if form.validate_on_submit() and to in CONFIRMED_ACTIONS and (form.note.data or "").strip() and not confirmed():
        # Saying no asks first (without a reason the service refuses anyway, with the message in place).
        question = (_("拒绝订单 %(n)s？", n=order.number) if to == S.REJECTED.value
                    else _("取消订单 %(n)s？", n=order.number))
        return ask_confirmation(question, detail=form.note.data,
                                button=str(ACTION_LABELS[to]), back_url=desk.url("order_detail", order_id=order.id))
    if form.validate_on_submit():
        outcome = attempt(form, lifecycle.act_as_seller, current_user.org_id, order.id, to, current_user.id,
                          form.note.data or "", seen=form.seen.data or None, credit_override=form.credit_override())
        if outcome.ok:
            flash(_("订单 %(n)s：%(status)s。", n=order.number, status=STATUS_LABELS[to]), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
        status = outcome.status
    else:
        status = error_status()
    return render_page(DETAIL_PAGE, "fulfilment/_decision.html", status=status,
                       **detail_context(desk, seller_order(order_id), form))


@route("/orders/<int:order_id>/approve-available", "order_approve_available", methods=("POST",))
def order_approve_available(desk: Desk, order_id: int):
    """Approve the quantities typed per line (what is available); the rest is backordered or
    cancelled with a reason. Errors next to their line or field; nothing changed then."""
    order = seller_order(order_id)
    rows = shortage.availability(order)
    form = shortage_form(rows)
    if form.validate_on_submit():
        outcome = attempt(form, shortage.approve_available, current_user.org_id, order.id, current_user.id,
                          line_quantities(form, rows, "keep"), form.rest.data, form.reason.data or "",
                          seen=form.short_seen.data or None, credit_override=form.credit_override())
        if outcome.ok:
            backorder = shortage.backorder_for(order.id)
            flash(_("订单 %(n)s：%(status)s。", n=order.number, status=STATUS_LABELS[S.APPROVED.value])
                  + (" " + _("缺货部分已转入补发订单 %(b)s。", b=backorder.number) if backorder else ""), "success")
            return redirect_to(desk.url("order_detail", order_id=order.id))
        status = outcome.status
    else:
        status = error_status()
    return render_page(DETAIL_PAGE, "fulfilment/_shortage.html", status=status,
                       **detail_context(desk, seller_order(order_id), short_form=form))


def _decision_view(to: str):
    def view(desk: Desk, order_id: int):
        return decide(desk, order_id, to)

    return view


for _to, _slug in ACTION_ROUTES.items():
    route(f"/orders/<int:order_id>/{_slug}", f"order_{_slug}", methods=("POST",))(_decision_view(_to))


@route("/orders/<int:order_id>/recheck", "order_recheck", methods=("POST",), feature="review")
def order_recheck(desk: Desk, order_id: int):
    """Run the approval rules again on a held order (after a payment or a restock)."""
    order = seller_order(order_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = attempt(None, approval.recheck, current_user.org_id, order.id, current_user)
    if not outcome.ok:
        flash(outcome.error.message, "warning")
    elif outcome.result.outcome == "approved":
        flash(_("订单 %(n)s 已通过全部规则，已审核。", n=order.number), "success")
    else:
        flash(_("订单 %(n)s 仍未通过：%(reasons)s", n=order.number,
                reasons=_("、").join(str(approval.REASON_LABELS.get(r.code, r.code)) for r in outcome.result.reasons)),
              "warning")
    return redirect_to(desk.url("order_detail", order_id=order.id))
