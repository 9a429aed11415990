"""Stocktakes: list, open, enter counted quantities, post or cancel."""
from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import StockCount
from app.services.core.errors import DomainError
from app.services.core.paging import paginate
from app.services.inventory import counts, queries
from app.services.inventory.scope import managed_count, visible_count
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.stock import route
from app.web.shared.stock.common import caller_scope, product_by_code, warehouse_choices, warehouse_in_scope
from app.web.shared.stock.forms import CountEntryForm, CountOpenForm


def _open_form() -> CountOpenForm:
    form = CountOpenForm()
    form.warehouse_id.choices = warehouse_choices(managed_only=True)
    return form


def _list_page(open_form: CountOpenForm, status: int = 200):
    results = paginate(queries.counts_query(caller_scope()), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"])
    return render_page("stock/counts.html", "stock/_counts.html", status=status, results=results, form=open_form)


@route("/stock/counts/")
def counts_list():
    return _list_page(_open_form())


@route("/stock/counts/new", methods=("POST",))
def count_new():
    form = _open_form()
    if form.validate_on_submit():
        product = product_by_code(form.product_code.data)
        if form.product_code.data and product is None:
            form.product_code.errors = [_("商品编码不存在。")]
        else:
            warehouse = warehouse_in_scope(form.warehouse_id.data, manage=True)
            outcome = attempt(form, counts.open_count, warehouse.id, actor_id=current_user.id,
                              product_id=product.id if product else None, note=form.note.data or "")
            if outcome.ok:
                flash(_("盘点单已创建，请录入实盘数量。"), "success")
                return redirect_to(url_for(".count_detail", count_id=outcome.result.id))
    return _list_page(form, status=400)


def _entry_form(count: StockCount, formdata=True) -> CountEntryForm:
    if formdata:
        return CountEntryForm()
    return CountEntryForm(formdata=None, data={"lines": [{"line_id": line.id, "counted": line.counted_qty}
                                                         for line in count.lines]})


def _detail(count: StockCount, form: CountEntryForm, status: int = 200):
    manage = caller_scope().can_manage(count.warehouse)
    return render_page("stock/count_detail.html", status=status, count=count, form=form,
                       rows=list(zip(count.lines, form.lines)), manage=manage, action_form=ActionForm())


def _record_counted(count: StockCount, entries) -> None:
    try:
        quantities = {int(entry.line_id.data): entry.counted.data for entry in entries}
    except (TypeError, ValueError):
        raise DomainError(_("盘点行无效。")) from None
    counts.record_counted(count, quantities)


@route("/stock/counts/<int:count_id>", methods=("GET", "POST"))
def count_detail(count_id: int):
    if request.method == "GET":
        count = visible_count(caller_scope(), count_id)
        return _detail(count, _entry_form(count, formdata=False))
    count = managed_count(caller_scope(), count_id)
    form = _entry_form(count)
    if form.validate_on_submit() and len(form.lines) == len(count.lines):
        if attempt(form, _record_counted, count, form.lines).ok:
            flash(_("实盘数量已保存。"), "success")
            return redirect_to(url_for(".count_detail", count_id=count.id))
    elif not form.errors:
        form.form_errors.append(_("盘点行与盘点单不一致，请刷新后重试。"))
    return _detail(visible_count(caller_scope(), count_id), form, status=400)


def _count_action(count_id: int, action, done: str, question: str | None = None):
    """Post or cancel a count; `question`: the action asks for confirmation first."""
    count = managed_count(caller_scope(), count_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if question and not confirmed():
        return ask_confirmation(question, back_url=url_for(".count_detail", count_id=count_id))
    flash_outcome(attempt(None, action, count, actor_id=current_user.id), done)
    return redirect_to(url_for(".count_detail", count_id=count_id))


@route("/stock/counts/<int:count_id>/post", methods=("POST",))
def count_post(count_id: int):
    return _count_action(count_id, counts.post_count, _("盘点已过账，差异已记入库存流水。"))


@route("/stock/counts/<int:count_id>/cancel", methods=("POST",))
def count_cancel(count_id: int):
    return _count_action(count_id, counts.cancel_count, _("盘点单已取消。"),
                         question=_("取消盘点单 %(n)d？已录入的实盘数不会过账。", n=count_id))
