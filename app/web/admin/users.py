"""User administration: list and search, create, edit, reset a password, and a rep's route.
Every view needs the "users" permission."""
from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.forms import Form
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import PERMISSIONS, RepRoute, Role, User
from app.services.accounts import users as accounts
from app.services.core.paging import paginate
from app.services.core.records import require
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.htmx import redirect_to, render_page

ROLE_LABELS = Role.labels()
PERMISSION_LABELS = {"catalog": _l("商品"), "pricing": _l("价格"), "orders": _l("订单"), "stock": _l("库存"),
                     "marketing": _l("营销"), "reports": _l("报表"), "users": _l("用户")}
WEEKDAY_LABELS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))
assert set(PERMISSION_LABELS) == set(PERMISSIONS), "label every permission"

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("请输入有效的电子邮箱。"))


class CheckboxesField(SelectMultipleField):
    """A set of checkboxes (one per choice) that posts like a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def permission_choices() -> list[SelectChoice]:
    return [SelectChoice(p, PERMISSION_LABELS[p]) for p in PERMISSIONS]


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role, label) for role, label in ROLE_LABELS.items()]


class UserFilterForm(Form):
    """The list's search box and role filter: a GET form, no CSRF."""

    class Meta:
        csrf = False

    q = StringField(_l("用户名或姓名"), validators=[Optional(), Length(max=60)])
    role = SelectField(_l("角色"), choices=lambda: [SelectChoice("", _l("全部角色"))] + role_choices(),
                       validators=[Optional()])


class UserCreateForm(Form):
    username = StringField(_l("用户名"), validators=[
        DataRequired(), Length(min=3, max=40),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("只能使用字母、数字、点、下划线和连字符。"))])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=60)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=120), EMAIL])
    role = SelectField(_l("角色"), choices=role_choices)
    org_code = StringField(_l("组织编码"), validators=[DataRequired(), Length(max=20)])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH,
                                                                              max=200)])
    permissions = CheckboxesField(_l("权限"), choices=permission_choices)


class UserEditForm(Form):
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=60)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=120), EMAIL])
    active = BooleanField(_l("启用"))
    permissions = CheckboxesField(_l("权限"), choices=permission_choices)


class PasswordResetForm(Form):
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH,
                                                                             max=200)])
    confirm = PasswordField(_l("确认新密码"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("两次输入的密码不一致。"))])


class RouteForm(Form):
    retailer_code = StringField(_l("零售商编码"), validators=[DataRequired(), Length(max=20)])
    weekday = SelectField(_l("拜访日"), coerce=int,
                          choices=lambda: [SelectChoice(day, label) for day, label in enumerate(WEEKDAY_LABELS)])


def _labels() -> dict:
    return {"role_labels": ROLE_LABELS, "permission_labels": PERMISSION_LABELS,
            "weekday_labels": WEEKDAY_LABELS}


@bp.route("/users")
@permission_required("users")
def users_list():
    form = UserFilterForm(formdata=request.args)
    valid = form.validate()
    search = (form.q.data or "") if valid else ""
    role = (form.role.data or "") if valid else ""
    results = paginate(accounts.users_query(search, role), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"])
    return render_page("admin/users/list.html", "admin/users/_table.html", form=form, results=results,
                       search=search, role=role, **_labels())


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users")
def user_create():
    form = UserCreateForm()
    if form.validate_on_submit():
        outcome = attempt(form, accounts.create_user, current_user, username=form.username.data,
                          password=form.password.data, role=form.role.data, org_code=form.org_code.data,
                          display_name=form.display_name.data or "", email=form.email.data,
                          permissions=form.permissions.data or [])
        if outcome.ok:
            flash(_("已创建用户 %(name)s。", name=outcome.result.username), "success")
            return redirect_to(url_for("admin.user_edit", user_id=outcome.result.id))
    return render_page("admin/users/new.html", status=400 if form.errors or form.form_errors else 200,
                       form=form, **_labels())


def _edit_page(user: User, *, edit_form=None, password_form=None, route_form=None, status=200):
    """The edit page with its three forms; the one that failed carries its errors."""
    if edit_form is None:
        edit_form = UserEditForm(formdata=None, data={
            "display_name": user.display_name, "email": user.email or "", "active": user.active,
            "permissions": sorted(user.permission_set)})
    is_rep = user.role == Role.REP.value
    return render_page(
        "admin/users/edit.html", status=status, user=user, form=edit_form,
        password_form=password_form or PasswordResetForm(formdata=None),
        route_form=(route_form or RouteForm(formdata=None)) if is_rep else None,
        routes=accounts.rep_routes(user) if is_rep else [],
        **_labels())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("users")
def user_edit(user_id: int):
    user = require(User, user_id)
    if request.method == "GET":
        return _edit_page(user)
    form = UserEditForm()
    if form.validate_on_submit() and attempt(form, accounts.update_user, current_user, user,
                                             display_name=form.display_name.data or "", email=form.email.data,
                                             active=form.active.data, permissions=form.permissions.data or []).ok:
        flash(_("已保存用户 %(name)s。", name=user.username), "success")
        return redirect_to(url_for("admin.user_edit", user_id=user.id))
    return _edit_page(user, edit_form=form, status=400)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@permission_required("users")
def user_reset_password(user_id: int):
    user = require(User, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit() and attempt(form, accounts.reset_password, current_user, user,
                                             form.new_password.data).ok:
        flash(_("已重置 %(name)s 的密码，其已登录的会话均已退出。", name=user.username), "success")
        return redirect_to(url_for("admin.user_edit", user_id=user.id))
    return _edit_page(user, password_form=form, status=400)


@bp.route("/users/<int:user_id>/routes", methods=["POST"])
@permission_required("users")
def user_route_add(user_id: int):
    user = require(User, user_id)
    form = RouteForm()
    if form.validate_on_submit() and attempt(form, accounts.assign_route, current_user, user,
                                             form.retailer_code.data, form.weekday.data).ok:
        flash(_("已更新拜访路线。"), "success")
        return redirect_to(url_for("admin.user_edit", user_id=user.id, _anchor="routes"))
    return _edit_page(user, route_form=form, status=400)


@bp.route("/users/<int:user_id>/routes/<int:route_id>/delete", methods=["POST"])
@permission_required("users")
def user_route_remove(user_id: int, route_id: int):
    user = require(User, user_id)
    # CSRFProtect has checked the token; a route not of this rep is a 404 (NotFound, centrally)
    if not confirmed():
        require(RepRoute, route_id, rep_id=user.id)
        return ask_confirmation(_("把这家店移出拜访路线？"), back_url=url_for("admin.user_edit", user_id=user.id, _anchor="routes"))
    flash_outcome(attempt(None, accounts.remove_route, current_user, user, route_id), _("已移出拜访路线。"))
    return redirect_to(url_for("admin.user_edit", user_id=user.id, _anchor="routes"))
