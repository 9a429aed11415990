"""Transfers between the caller's warehouses: list, create, ship, receive, cancel, and the
suggestion page."""
from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import TransferStatus
from app.services.core.paging import paginate
from app.services.inventory import queries, transfers
from app.services.inventory.scope import managed_transfer, visible_transfer
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.stock import route
from app.web.shared.stock.common import caller_scope, product_by_code, warehouse_choices, warehouse_in_scope
from app.web.shared.stock.forms import TransferForm

STATUS_LABELS = TransferStatus.labels()


@route("/stock/transfers/")
def transfers_list():
    status = request.args.get("status", "")
    status = status if status in STATUS_LABELS else ""
    results = paginate(queries.transfers_query(caller_scope(), status), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"])
    return render_page("stock/transfers.html", "stock/_transfers.html", results=results, status_filter=status,
                       status_labels=STATUS_LABELS)


def _transfer_form() -> TransferForm:
    form = TransferForm()
    choices = warehouse_choices(managed_only=True)
    form.source_id.choices = choices
    form.dest_id.choices = choices
    return form


@route("/stock/transfers/new", methods=("GET", "POST"))
def transfer_new():
    form = _transfer_form()
    if form.validate_on_submit():
        quantities, bad = {}, False
        for entry in form.lines:
            code, qty = entry.product_code.data, entry.qty.data
            if not code and not qty:
                continue
            product = product_by_code(code)
            if product is None:
                entry.product_code.errors = [_("商品编码不存在。")]
                bad = True
            elif not qty:
                entry.qty.errors = [_("请填写数量。")]
                bad = True
            else:
                quantities[product.id] = quantities.get(product.id, 0) + qty
        if not bad:
            source = warehouse_in_scope(form.source_id.data, manage=True)
            dest = warehouse_in_scope(form.dest_id.data, manage=True)
            outcome = attempt(form, transfers.create_transfer, source, dest, quantities, actor_id=current_user.id,
                              note=form.note.data or "")
            if outcome.ok:
                flash(_("调拨单 %(n)s 已创建，库存已在调出仓预留。", n=outcome.result.number), "success")
                return redirect_to(url_for(".transfer_detail", transfer_id=outcome.result.id))
    elif request.method == "GET":
        # Ids from a suggestion link's query string: the caller's own warehouses, like path ids.
        source_id, dest_id = request.args.get("source_id", type=int), request.args.get("dest_id", type=int)
        if source_id:
            form.source_id.data = warehouse_in_scope(source_id, manage=True).id
        if dest_id:
            form.dest_id.data = warehouse_in_scope(dest_id, manage=True).id
        if request.args.get("product_code"):
            form.lines[0].product_code.data = request.args["product_code"]
            form.lines[0].qty.data = request.args.get("qty", type=int)
    return render_page("stock/transfer_new.html", status=400 if request.method == "POST" else 200, form=form)


@route("/stock/transfers/<int:transfer_id>")
def transfer_detail(transfer_id: int):
    transfer = visible_transfer(caller_scope(), transfer_id)
    return render_page("stock/transfer_detail.html", transfer=transfer, status_labels=STATUS_LABELS,
                       manage=caller_scope().can_manage(transfer.source), action_form=ActionForm())


def _transfer_action(transfer_id: int, action, done: str, question: str | None = None):
    """Ship, receive or cancel a transfer; `question`: the action asks for confirmation first."""
    transfer = managed_transfer(caller_scope(), transfer_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if question and not confirmed():
        return ask_confirmation(question, back_url=url_for(".transfer_detail", transfer_id=transfer_id))
    flash_outcome(attempt(None, action, transfer, actor_id=current_user.id), done)
    return redirect_to(url_for(".transfer_detail", transfer_id=transfer_id))


@route("/stock/transfers/<int:transfer_id>/ship", methods=("POST",))
def transfer_ship(transfer_id: int):
    return _transfer_action(transfer_id, transfers.ship_transfer, _("已出库，货物在途。"))


@route("/stock/transfers/<int:transfer_id>/receive", methods=("POST",))
def transfer_receive(transfer_id: int):
    return _transfer_action(transfer_id, transfers.receive_transfer, _("已在调入仓入库。"))


@route("/stock/transfers/<int:transfer_id>/cancel", methods=("POST",))
def transfer_cancel(transfer_id: int):
    return _transfer_action(transfer_id, transfers.cancel_transfer, _("调拨单已取消，预留已释放。"),
                            question=_("取消这张调拨单？预留的库存会释放。"))


@route("/stock/transfers/suggestions")
def transfer_suggestions():
    return render_page("stock/suggestions.html", suggestions=transfers.suggest_transfers(caller_scope()))
