"""The retailer's returns: ask to send back part of a delivered order (a reason, quantities up
to what was delivered and not yet returned), and the list of its returns with the decisions."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.fulfilment import progress as fulfilment
from app.services.core import paging
from app.services.fulfilment import returns
from app.web.shared.fulfilment.forms import ReturnFilterForm, ReturnRequestForm, line_quantities, with_line_fields
from app.web.common.envelope import attempt, error_status
from app.web.common.htmx import redirect_to
from app.web.common.listing import STATUS_LABELS
from app.web.retailer import bp
from app.web.retailer.common import bought_order, retailer_page

PER_PAGE = 20


def _form_class(rows):
    return with_line_fields(ReturnRequestForm, rows, ("qty",), lambda row, kind: row.returnable)


def _page(order, rows, form, status: int = 200):
    return retailer_page("retailer/return_new.html", "retailer/_return_form.html", status=status, order=order,
                         rows=rows, form=form, open_for_returns=order.status in returns.RETURNABLE_STATUSES,
                         status_labels=STATUS_LABELS)


@bp.get("/orders/<int:order_id>/return")
def return_new(order_id: int):
    order = bought_order(order_id)
    rows = fulfilment.progress(order)
    return _page(order, rows, _form_class(rows)(formdata=None))


@bp.post("/orders/<int:order_id>/return")
def return_create(order_id: int):
    order = bought_order(order_id)
    rows = fulfilment.progress(order)
    form = _form_class(rows)()
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(form, returns.request_return, current_user.org_id, order.id, current_user.id,
                          form.reason.data, line_quantities(form, rows, "qty"))
        if outcome.ok:
            flash(_("退货申请 %(n)s 已提交，等待供货方处理。", n=outcome.result.number), "success")
            return redirect_to(url_for("retailer.returns_list"))
    status = outcome.status if outcome else error_status()
    order = bought_order(order_id)
    return _page(order, fulfilment.progress(order), form, status=status)


@bp.get("/returns")
def returns_list():
    form = ReturnFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = paging.paginate(returns.returns_bought_by(current_user.org_id, status=criteria["status"]),
                              criteria["page"], PER_PAGE)
    params = {"status": criteria["status"]} if criteria["status"] else {}
    return retailer_page("retailer/returns.html", "retailer/_returns_list.html", form=form, results=results,
                         params=params, return_labels=returns.STATUS_LABELS,
                         disposition_labels=returns.DISPOSITION_LABELS)
