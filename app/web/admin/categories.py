"""Admin: product categories (permission "catalog")."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Category
from app.services.catalog import admin as catalog
from app.services.core.errors import DomainError
from app.services.core.paging import paginate
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.admin.catalog_forms import CategoryForm
from app.web.common.fields import form_status, show_errors
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page


def _category_or_404(category_id: int) -> Category:
    return db.session.get(Category, category_id) or abort(404)


@bp.route("/categories")
@permission_required("catalog")
def categories_list():
    page = paginate(catalog.categories_query(), request.args.get("page", 1, type=int), 100)
    counts = catalog.product_counts([c.id for c in page.items])
    return render_page("admin/catalog/categories.html", listing=page, counts=counts, delete_form=ActionForm())


def _save(form: CategoryForm, category: Category | None):
    values = {name: form[name].data for name in catalog.CATEGORY_FIELDS}
    try:
        if category is None:
            category = catalog.create_category(current_user.id, values)
        else:
            catalog.update_category(current_user.id, category, values)
    except DomainError as error:
        db.session.rollback()
        show_errors(form, error)
        return None
    db.session.commit()
    flash(_("分类 %(code)s 已保存。", code=category.code), "success")
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
    category = _category_or_404(category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit() and (done := _save(form, category)):
        return done
    return render_page("admin/catalog/category_form.html", form=form, category=category,
                       status=form_status(form))


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@permission_required("catalog")
def category_delete(category_id: int):
    category = _category_or_404(category_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        catalog.delete_category(current_user.id, category)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("分类已删除。"), "success")
    return redirect_to(url_for("admin.categories_list"))
