"""Admin: products, their image and visibility rules (permission "catalog").

`/admin/products` is a stable URL (DESIGN.md)."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.models import Category, Product, ProductVisibility
from app.services.catalog import admin as catalog
from app.services.core.audit_log import recent_events
from app.web.admin.audit_log import readable_events
from app.services.core.paging import paginate
from app.services.core.records import require
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.admin.catalog_forms import ProductFilterForm, ProductForm, VisibilityRuleForm
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.fields import AUDIENCE_LABELS, CHANNEL_LABELS, STATUS_LABELS, UNIT_SUGGESTIONS, form_status
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page


@bp.context_processor
def catalog_labels():
    return {"status_labels": STATUS_LABELS, "audience_labels": AUDIENCE_LABELS, "channel_labels": CHANNEL_LABELS}


def _product_form(product: Product | None, from_request: bool = True) -> ProductForm:
    """The product form, filled from the request (or, with from_request=False, from the product only)."""
    formdata = {} if from_request else {"formdata": None}
    form = (ProductForm(obj=product, base_price=product.base_price_fen, **formdata) if product
            else ProductForm(**formdata))
    form.category_id.choices = [SelectChoice("", _("请选择分类"))] + [
        SelectChoice(category_id, label) for category_id, label in catalog.category_choices()]
    return form


@bp.route("/products")
@permission_required("catalog")
def products_list():
    filters = ProductFilterForm(formdata=request.args)
    filters.set_categories(catalog.category_choices(), _("全部分类"))
    valid = filters.validate()
    category_id = require(Category, filters.category.data).id if valid and filters.category.data else None
    query = catalog.product_search(filters.q.data or "", category_id,
                                   (filters.status.data or None) if valid else None)
    page = paginate(query, request.args.get("page", 1, type=int), 50)
    args = {"q": filters.q.data or "", "category": filters.category.data or "", "status": filters.status.data or ""}
    return render_page("admin/catalog/products.html", "admin/catalog/_product_results.html",
                       filters=filters, listing=page, args=args)


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required("catalog")
def product_new():
    form = _product_form(None)
    if form.validate_on_submit():
        outcome = attempt(form, catalog.create_product, current_user.id, form.service_values(), form.uploaded_image())
        if outcome.ok:
            flash(_("商品 %(code)s 已创建。", code=outcome.result.code), "success")
            return redirect_to(url_for("admin.product_edit", product_id=outcome.result.id))
    return render_page("admin/catalog/product_new.html", form=form, units=UNIT_SUGGESTIONS,
                       status=form_status(form))


def _edit_page(product: Product, form: ProductForm, rule_form: VisibilityRuleForm):
    return render_page("admin/catalog/product_edit.html", product=product, form=form, rule_form=rule_form,
                       rules=catalog.visibility_rules(product.id), events=readable_events(recent_events("product", product.id)),
                       action_form=ActionForm(), units=UNIT_SUGGESTIONS, status=form_status(form, rule_form))


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@permission_required("catalog")
def product_edit(product_id: int):
    product = require(Product, product_id)
    form = _product_form(product)
    if form.validate_on_submit() and attempt(form, catalog.update_product, current_user.id, product,
                                             form.service_values(), form.uploaded_image()).ok:
        flash(_("商品 %(code)s 已保存。", code=product.code), "success")
        return redirect_to(url_for("admin.product_edit", product_id=product.id))
    return _edit_page(product, form, VisibilityRuleForm(formdata=None))


@bp.route("/products/<int:product_id>/image/delete", methods=["POST"])
@permission_required("catalog")
def product_image_delete(product_id: int):
    product = require(Product, product_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_confirmation(_("删除商品图片？"), back_url=url_for("admin.product_edit", product_id=product.id))
    flash_outcome(attempt(None, catalog.remove_product_image, current_user.id, product), _("图片已删除。"))
    return redirect_to(url_for("admin.product_edit", product_id=product.id))


@bp.route("/products/<int:product_id>/visibility", methods=["POST"])
@permission_required("catalog")
def product_visibility_add(product_id: int):
    product = require(Product, product_id)
    rule_form = VisibilityRuleForm()
    if rule_form.validate_on_submit() and attempt(
            rule_form, catalog.add_visibility_rule, current_user.id, product, audience=rule_form.audience.data,
            tier=rule_form.tier.data, channel=rule_form.channel.data, region_code=rule_form.region_code.data).ok:
        flash(_("可见范围规则已添加。"), "success")
        return redirect_to(url_for("admin.product_edit", product_id=product.id, _anchor="visibility"))
    return _edit_page(product, _product_form(product, from_request=False), rule_form)


@bp.route("/products/<int:product_id>/visibility/<int:rule_id>/delete", methods=["POST"])
@permission_required("catalog")
def product_visibility_delete(product_id: int, rule_id: int):
    rule = require(ProductVisibility, rule_id, product_id=product_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_confirmation(_("删除这条可见范围规则？"),
                                back_url=url_for("admin.product_edit", product_id=product_id, _anchor="visibility"))
    flash_outcome(attempt(None, catalog.delete_visibility_rule, current_user.id, rule), _("可见范围规则已删除。"))
    return redirect_to(url_for("admin.product_edit", product_id=product_id, _anchor="visibility"))
