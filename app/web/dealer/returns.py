"""Returns asked for by the dealer's customers: the list by status, one return with its lines,
and the two decisions (accept: back to stock or written off, with a credit note; refuse: with a
reason the customer reads). The return page and decisions are shared with the brand's order desk
(app.web.shared.fulfilment.desk)."""
from flask import current_app, request
from flask_login import current_user

from app.services.core import paging
from app.services.fulfilment import returns
from app.web.shared.fulfilment import desk as fulfilment_desk
from app.web.dealer import bp
from app.web.dealer.orders_ship import DESK
from app.web.shared.fulfilment.forms import ReturnFilterForm
from app.web.common.htmx import render_page


@bp.get("/returns")
def returns_list():
    form = ReturnFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = paging.paginate(returns.returns_sold_by(current_user.org_id, criteria["status"]), criteria["page"],
                              current_app.config["PAGE_SIZE"])
    params = {"status": criteria["status"]} if criteria["status"] else {}
    return render_page("dealer/returns.html", "dealer/_returns_list.html", form=form, results=results, params=params,
                       **fulfilment_desk.return_labels())


@bp.get("/returns/<int:return_id>")
def return_detail(return_id: int):
    return fulfilment_desk.return_detail(DESK, return_id)


@bp.post("/returns/<int:return_id>/accept")
def return_accept(return_id: int):
    return fulfilment_desk.return_accept(DESK, return_id)


@bp.post("/returns/<int:return_id>/refuse")
def return_refuse(return_id: int):
    return fulfilment_desk.return_refuse(DESK, return_id)
