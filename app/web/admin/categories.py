"""Admin: product categories (permission "catalog")."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Category
from app.services.catalog import admin as catalog
from app.services.core.paging import paginate
from app.services.core.records import require
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.admin.catalog_forms import CategoryForm
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.fields import form_status
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page


@bp.route("/categories")
@permission_required("catalog")
def categories_list():
    page = paginate(catalog.categories_query(), request.args.get("page", 1, type=int), 100)
    counts = catalog.product_counts([c.id for c in page.items])
    return render_page("admin/catalog/categories.html", listing=page, counts=counts, delete_form=ActionForm())


def _save(form: CategoryForm, category: Category | None):
    values = {name: form[name].data for name in catalog.CATEGORY_FIELDS}
    outcome = attempt(form, catalog.create_category, current_user.id, values) if category is None else \
        attempt(form, catalog.update_category, current_user.id, category, values)
    if not outcome.ok:
        return None
    flash(_("分类 %(code)s 已保存。", code=(category or outcome.result).code), "success")
    return redirect_to(url_for("admin.categories_list"))


@bp.route("/categories/new", methods=["GET", "POST"])
@permission_required("catalog")
def category_new():
    form = CategoryForm()
    if form.validate_on_submit() and (done := _save(form, None)):
        return done
    return render_page("admin/catalog/category_form.html", form=form, category=None,
                       status=form_status(form))


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@permission_required("catalog")
def category_edit(category_id: int):
    category = require(Category, category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit() and (done := _save(form, category)):
        return done
    return render_page("admin/catalog/category_form.html", form=form, category=category,
                       status=form_status(form))


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@permission_required("catalog")
def category_delete(category_id: int):
    category = require(Category, category_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_confirmation(_("删除分类“%(name)s”？", name=category.name_zh), back_url=url_for("admin.categories_list"))
    flash_outcome(attempt(None, catalog.delete_category, current_user.id, category), _("分类已删除。"))
    return redirect_to(url_for("admin.categories_list"))
