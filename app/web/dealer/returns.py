"""Returns asked for by the dealer's customers: the list by status, one return with its lines,
and the two decisions (accept: back to stock or written off, with a credit note; refuse: with a
reason the customer reads)."""
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services import paging, returns
from app.services.errors import DomainError, NotFound
from app.web.dealer import bp
from app.web.fulfilment_forms import AcceptReturnForm, RefuseReturnForm, ReturnFilterForm
from app.web.forms import show_error
from app.web.htmx import is_htmx, redirect_to, render_page
from app.web.listing import STATUS_LABELS


def _labels() -> dict:
    return {"return_labels": returns.STATUS_LABELS, "disposition_labels": returns.DISPOSITION_LABELS,
            "status_labels": STATUS_LABELS}


@bp.get("/returns")
def returns_list():
    form = ReturnFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = paging.paginate(returns.returns_sold_by(current_user.org_id, criteria["status"]), criteria["page"],
                              current_app.config["PAGE_SIZE"])
    params = {"status": criteria["status"]} if criteria["status"] else {}
    return render_page("dealer/returns.html", "dealer/_returns_list.html", form=form, results=results, params=params,
                       **_labels())


def _return_or_404(return_id: int):
    try:
        return returns.return_for_seller(current_user.org_id, return_id)
    except NotFound:
        abort(404)


def _detail(request_row, accept_form=None, refuse_form=None, status: int = 200, fragment: str | None = None):
    return render_page("dealer/return_detail.html", fragment, status=status, ret=request_row,
                       accept_form=accept_form or AcceptReturnForm(formdata=None),
                       refuse_form=refuse_form or RefuseReturnForm(formdata=None), **_labels())


@bp.get("/returns/<int:return_id>")
def return_detail(return_id: int):
    return _detail(_return_or_404(return_id))


def _failed(error: DomainError | None) -> int:
    if error is not None and not error.field:
        return 409
    return 422 if is_htmx() else 400


@bp.post("/returns/<int:return_id>/accept")
def return_accept(return_id: int):
    found = _return_or_404(return_id)
    form = AcceptReturnForm()
    error = None
    if form.validate_on_submit():
        try:
            done = returns.accept_return(current_user.org_id, found.id, current_user.id, form.disposition.data,
                                         form.note.data or "")
        except NotFound:
            abort(404)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(form, caught)
        else:
            db.session.commit()
            flash(_("退货 %(n)s 已接受，已为客户开具红字单。", n=done.number), "success")
            return redirect_to(url_for("dealer.return_detail", return_id=found.id))
    return _detail(_return_or_404(return_id), accept_form=form, status=_failed(error),
                   fragment="dealer/_return_decision.html")


@bp.post("/returns/<int:return_id>/refuse")
def return_refuse(return_id: int):
    found = _return_or_404(return_id)
    form = RefuseReturnForm()
    error = None
    if form.validate_on_submit():
        try:
            done = returns.refuse_return(current_user.org_id, found.id, current_user.id, form.note.data)
        except NotFound:
            abort(404)
        except DomainError as caught:
            db.session.rollback()
            error = caught
            show_error(form, caught)
        else:
            db.session.commit()
            flash(_("退货 %(n)s 已拒绝。", n=done.number), "success")
            return redirect_to(url_for("dealer.return_detail", return_id=found.id))
    return _detail(_return_or_404(return_id), refuse_form=form, status=_failed(error),
                   fragment="dealer/_return_decision.html")
