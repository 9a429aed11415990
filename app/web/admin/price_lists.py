"""Admin: price lists and their items (permission "pricing").

Items are added, edited and deleted in place with htmx (the `#items` section is swapped); every
form also works as a plain POST that redirects back to the list's page."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import PriceList, PriceListItem, Product
from app.services.core.paging import paginate
from app.services.core.records import require
from app.services.pricing import admin as price_admin
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.fields import form_status
from app.web.admin.price_forms import ItemAddForm, ItemEditForm, PriceListFilterForm, PriceListForm
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page, wants_fragment

ITEMS_PER_PAGE = 50


def _list_form(price_list: PriceList | None, from_request: bool = True) -> PriceListForm:
    formdata = {} if from_request else {"formdata": None}
    if price_list is None:
        return PriceListForm(**formdata)
    return PriceListForm(obj=price_list, region_code=price_admin.region_code_of(price_list.region_id),
                         tier=price_list.tier or "", channel=price_list.channel or "", **formdata)


def _list_values(form: PriceListForm) -> dict:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


@bp.route("/price-lists")
@permission_required("pricing")
def price_lists():
    filters = PriceListFilterForm(formdata=request.args)
    query = price_admin.price_lists_query(filters.q.data or "", filters.audience.data or None)
    page = paginate(query, request.args.get("page", 1, type=int), 50, scalars=False)
    args = {"q": filters.q.data or "", "audience": filters.audience.data or ""}
    return render_page("admin/prices/lists.html", filters=filters, listing=page, args=args)


@bp.route("/price-lists/new", methods=["GET", "POST"])
@permission_required("pricing")
def price_list_new():
    form = _list_form(None)
    if form.validate_on_submit():
        outcome = attempt(form, price_admin.create_price_list, current_user.id, _list_values(form))
        if outcome.ok:
            flash(_("价目表 %(code)s 已创建，现在可以添加商品价格。", code=outcome.result.code), "success")
            return redirect_to(url_for("admin.price_list_detail", price_list_id=outcome.result.id))
    return render_page("admin/prices/list_new.html", form=form, status=form_status(form))


def _detail(price_list: PriceList, form: PriceListForm | None = None, add_form: ItemAddForm | None = None,
            editing: PriceListItem | None = None, edit_form: ItemEditForm | None = None):
    """The list's page (or, for htmx, its #items section) with whichever forms carry errors."""
    form = form or _list_form(price_list, from_request=False)
    add_form = add_form or ItemAddForm(formdata=None)
    items = paginate(price_admin.list_items_query(price_list.id), request.args.get("page", 1, type=int),
                     ITEMS_PER_PAGE, scalars=False)
    status = form_status(form, add_form, *([edit_form] if edit_form else []))
    return render_page("admin/prices/list_detail.html", "admin/prices/_items.html", status=status,
                       price_list=price_list, form=form, add_form=add_form, items=items,
                       editing_id=editing.id if editing else None, edit_form=edit_form, action_form=ActionForm())


def _items_changed(price_list: PriceList, message: str):
    flash(message, "success")
    if wants_fragment():
        return _detail(price_list)
    return redirect_to(url_for("admin.price_list_detail", price_list_id=price_list.id,
                               page=request.args.get("page", 1, type=int), _anchor="items"))


@bp.route("/price-lists/<int:price_list_id>", methods=["GET", "POST"])
@permission_required("pricing")
def price_list_detail(price_list_id: int):
    price_list = require(PriceList, price_list_id)
    if request.method == "GET":
        return _detail(price_list)
    form = _list_form(price_list)
    if form.validate_on_submit() and attempt(form, price_admin.update_price_list, current_user.id, price_list,
                                             _list_values(form)).ok:
        flash(_("价目表 %(code)s 已保存。", code=price_list.code), "success")
        return redirect_to(url_for("admin.price_list_detail", price_list_id=price_list.id))
    return _detail(price_list, form=form)


@bp.route("/price-lists/<int:price_list_id>/delete", methods=["POST"])
@permission_required("pricing")
def price_list_delete(price_list_id: int):
    price_list = require(PriceList, price_list_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_confirmation(_("删除整个价目表 %(code)s？", code=price_list.code),
                                back_url=url_for("admin.price_list_detail", price_list_id=price_list.id))
    code = price_list.code
    if not flash_outcome(attempt(None, price_admin.delete_price_list, current_user.id, price_list),
                         _("价目表 %(code)s 已删除。", code=code)):
        return redirect_to(url_for("admin.price_list_detail", price_list_id=price_list_id))
    return redirect_to(url_for("admin.price_lists"))


@bp.route("/price-lists/<int:price_list_id>/items", methods=["POST"])
@permission_required("pricing")
def price_list_item_add(price_list_id: int):
    price_list = require(PriceList, price_list_id)
    add_form = ItemAddForm()
    if add_form.validate_on_submit():
        outcome = attempt(add_form, price_admin.add_list_item, current_user.id, price_list,
                          product_code=add_form.product_code.data, min_qty=add_form.min_qty.data,
                          price_fen=add_form.price.data)
        if outcome.ok:
            return _items_changed(price_list, _("已添加价格（起订 %(n)d）。", n=outcome.result.min_qty))
    return _detail(price_list, add_form=add_form)


@bp.route("/price-lists/<int:price_list_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
@permission_required("pricing")
def price_list_item_edit(price_list_id: int, item_id: int):
    price_list = require(PriceList, price_list_id)
    item = require(PriceListItem, item_id, price_list_id=price_list.id)
    edit_form = ItemEditForm(obj=item, price=item.price_fen, prefix="edit")
    if edit_form.validate_on_submit() and attempt(edit_form, price_admin.update_list_item, current_user.id, item,
                                                  min_qty=edit_form.min_qty.data, price_fen=edit_form.price.data).ok:
        return _items_changed(price_list, _("价格已更新。"))
    return _detail(price_list, editing=item, edit_form=edit_form)


@bp.route("/price-lists/<int:price_list_id>/items/<int:item_id>/delete", methods=["POST"])
@permission_required("pricing")
def price_list_item_delete(price_list_id: int, item_id: int):
    price_list = require(PriceList, price_list_id)
    item = require(PriceListItem, item_id, price_list_id=price_list.id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        product = require(Product, item.product_id)
        return ask_confirmation(_("删除 %(product)s 起订 %(n)d 的价格？", product=product.name_zh, n=item.min_qty),
                                back_url=url_for("admin.price_list_detail", price_list_id=price_list.id,
                                                 page=request.args.get("page", 1, type=int), _anchor="items"))
    outcome = attempt(None, price_admin.delete_list_item, current_user.id, item)
    return _items_changed(price_list, _("价格已删除。") if outcome.ok else outcome.error.message)
