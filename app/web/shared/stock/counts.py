"""Stocktakes: list, open, enter counted quantities, post or cancel."""
from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import StockCount, StockCountLine, StockLot, Warehouse
from app.services.core.errors import DomainError
from app.services.inventory import counts, queries
from app.services.core.paging import paginate
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.stock import route
from app.web.shared.stock.common import caller_scope, product_by_code, warehouse_choices, warehouse_or_404
from app.web.shared.stock.forms import CountEntryForm, CountOpenForm


def count_or_404(count_id: int) -> StockCount:
    count = db.session.scalar(
        select(StockCount).join(Warehouse, Warehouse.id == StockCount.warehouse_id)
        .where(StockCount.id == count_id, caller_scope().warehouse_clause())
        .options(selectinload(StockCount.lines).selectinload(StockCountLine.lot).selectinload(StockLot.product)))
    if count is None:
        abort(404)
    return count


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
            warehouse = warehouse_or_404(form.warehouse_id.data, manage=True)
            try:
                count = counts.open_count(warehouse.id, actor_id=current_user.id,
                                          product_id=product.id if product else None, note=form.note.data or "")
            except DomainError as error:
                db.session.rollback()
                show_error(form, error)
            else:
                db.session.commit()
                flash(_("盘点单已创建，请录入实盘数量。"), "success")
                return redirect_to(url_for(".count_detail", count_id=count.id))
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


@route("/stock/counts/<int:count_id>", methods=("GET", "POST"))
def count_detail(count_id: int):
    count = count_or_404(count_id)
    if request.method == "GET":
        return _detail(count, _entry_form(count, formdata=False))
    if not caller_scope().can_manage(count.warehouse):
        abort(403)
    form = _entry_form(count)
    if form.validate_on_submit() and len(form.lines) == len(count.lines):
        try:
            counts.record_counted(count, {int(entry.line_id.data): entry.counted.data for entry in form.lines})
        except (DomainError, ValueError) as error:
            db.session.rollback()
            show_error(form, error if isinstance(error, DomainError) else DomainError(_("盘点行无效。")))
        else:
            db.session.commit()
            flash(_("实盘数量已保存。"), "success")
            return redirect_to(url_for(".count_detail", count_id=count.id))
    elif not form.errors:
        form.form_errors.append(_("盘点行与盘点单不一致，请刷新后重试。"))
    count = count_or_404(count_id)
    return _detail(count, form, status=400)


def _count_action(count_id: int, action, done: str):
    count = count_or_404(count_id)
    if not caller_scope().can_manage(count.warehouse):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(count, actor_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect_to(url_for(".count_detail", count_id=count_id))


@route("/stock/counts/<int:count_id>/post", methods=("POST",))
def count_post(count_id: int):
    return _count_action(count_id, counts.post_count, _("盘点已过账，差异已记入库存流水。"))


@route("/stock/counts/<int:count_id>/cancel", methods=("POST",))
def count_cancel(count_id: int):
    return _count_action(count_id, counts.cancel_count, _("盘点单已取消。"))
