"""Returns asked for by the seller's customers, the same on the dealer's and the brand's desk:
the list by status (where the desk has one), one return with its lines, and the two decisions
(accept: back to stock or written off, with a credit note; refuse: with a reason the customer
reads)."""
from __future__ import annotations

from flask import current_app, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from app.services.core import paging
from app.services.fulfilment import returns
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import attempt, error_status
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import STATUS_LABELS
from app.web.shared.fulfilment.desk import Desk, route, seller_return
from app.web.shared.fulfilment.forms import AcceptReturnForm, RefuseReturnForm, ReturnFilterForm


def return_labels() -> dict:
    return {"return_labels": returns.STATUS_LABELS, "disposition_labels": returns.DISPOSITION_LABELS,
            "status_labels": STATUS_LABELS}


@route("/returns", "returns_list", feature="returns_list")
def returns_list(desk: Desk):
    form = ReturnFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = paging.paginate(returns.returns_sold_by(current_user.org_id, criteria["status"]), criteria["page"],
                              current_app.config["PAGE_SIZE"])
    params = {"status": criteria["status"]} if criteria["status"] else {}
    return render_page("fulfilment/returns.html", "fulfilment/_returns_list.html", form=form, results=results,
                       params=params, **return_labels(), **desk.context())


def _return_page(desk: Desk, found, accept_form=None, refuse_form=None, status: int = 200,
                 fragment: str | None = None):
    return render_page("fulfilment/return_detail.html", fragment, status=status, ret=found,
                       accept_form=accept_form or AcceptReturnForm(formdata=None),
                       refuse_form=refuse_form or RefuseReturnForm(formdata=None), **return_labels(),
                       **desk.context())


@route("/returns/<int:return_id>", "return_detail")
def return_detail(desk: Desk, return_id: int):
    return _return_page(desk, seller_return(return_id))


@route("/returns/<int:return_id>/accept", "return_accept", methods=("POST",))
def return_accept(desk: Desk, return_id: int):
    form = AcceptReturnForm()
    return _decide_return(desk, return_id, form, "accept_form",
                          lambda found: (returns.accept_return, current_user.org_id, found.id, current_user.id,
                                         form.disposition.data, form.note.data or ""),
                          lambda done: _("退货 %(n)s 已接受，已为客户开具红字单。", n=done.number))


@route("/returns/<int:return_id>/refuse", "return_refuse", methods=("POST",))
def return_refuse(desk: Desk, return_id: int):
    form = RefuseReturnForm()
    if form.validate_on_submit() and (form.note.data or "").strip() and not confirmed():
        found = seller_return(return_id)
        return ask_confirmation(_("拒绝退货 %(n)s？", n=found.number), detail=form.note.data,
                                back_url=desk.url("return_detail", return_id=found.id))
    return _decide_return(desk, return_id, form, "refuse_form",
                          lambda found: (returns.refuse_return, current_user.org_id, found.id, current_user.id,
                                         form.note.data),
                          lambda done: _("退货 %(n)s 已拒绝。", n=done.number))


def _decide_return(desk: Desk, return_id: int, form, form_name: str, call, success_message):
    """Accept or refuse a return: `call(found)` names the one service call and its arguments;
    commit and redirect, or the decision fragment again with the error next to its field."""
    found = seller_return(return_id)
    status = error_status()
    if form.validate_on_submit():
        outcome = attempt(form, *call(found))
        if outcome.ok:
            flash(success_message(outcome.result), "success")
            return redirect_to(desk.url("return_detail", return_id=found.id))
        status = outcome.status
    return _return_page(desk, seller_return(return_id), status=status, fragment="fulfilment/_return_decision.html",
                        **{form_name: form})
