"""Monthly sales targets of reps: a month's targets and achievements, and the form that sets
one. For admins holding the "users" or the "reports" permission."""
from functools import wraps

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from app.web.common.forms import Form
from wtforms import SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired

from app.services.field_sales import targets as rep_targets
from app.web.admin import bp
from app.web.common.envelope import attempt
from app.web.common.fields import YuanField
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import GetForm

PER_PAGE = 50


def targets_permission(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not (current_user.can("users") or current_user.can("reports")):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


class TargetFilterForm(GetForm):
    month = StringField(_l("月份"))
    q = StringField(_l("业务员"))


class TargetForm(Form):
    rep_id = SelectField(_l("业务员"), coerce=int, validate_choice=False,
                         validators=[InputRequired(message=_l("请选择业务员。"))])
    month = StringField(_l("月份"), validators=[InputRequired(message=_l("请输入月份，例如 2026-01。"))],
                        render_kw={"type": "month", "placeholder": "2026-01"})
    target = YuanField(_l("目标金额（元）"), validators=[InputRequired(message=_l("请输入金额。"))],
                       render_kw={"inputmode": "decimal"})

    def set_reps(self, choices) -> None:
        self.rep_id.choices = [SelectChoice(0, _("请选择业务员"))] + [SelectChoice(rep_id, label)
                                                                      for rep_id, label in choices]

    def validate_month(self, field) -> None:
        if rep_targets.parse_month(field.data) is None:
            raise ValidationError(_("请输入月份，例如 2026-01。"))


def _page(form: TargetForm, status: int = 200):
    filters = TargetFilterForm(formdata=request.args)
    filters.validate()
    month = rep_targets.parse_month(filters.clean("month")) or rep_targets.parse_month(form.month.data) \
        or rep_targets.current_month()
    search = (filters.clean("q", "") or "").strip()
    results = rep_targets.targets_overview(month, search, filters.clean("page", 1), PER_PAGE)
    return render_page("admin/rep_targets.html", status=status, form=form, results=results, month=month,
                       month_text=f"{month:%Y-%m}", search=search,
                       previous_month=f"{rep_targets.previous_month(month):%Y-%m}",
                       next_month=f"{rep_targets.next_month(month):%Y-%m}")


@bp.get("/reps/targets")
@targets_permission
def rep_targets_list():
    form = TargetForm(formdata=None)
    form.set_reps(rep_targets.rep_choices())
    month = rep_targets.parse_month(request.args.get("month")) or rep_targets.current_month()
    form.month.data = f"{month:%Y-%m}"
    rep_id = request.args.get("rep", 0, type=int)
    form.rep_id.data = rep_targets.active_rep(rep_id).id if rep_id else 0  # a query-string id: 404 if no rep
    return _page(form)


@bp.post("/reps/targets")
@targets_permission
def rep_target_set():
    form = TargetForm()
    form.set_reps(rep_targets.rep_choices())
    if form.validate():
        outcome = attempt(form, rep_targets.set_target, current_user, form.rep_id.data,
                          rep_targets.parse_month(form.month.data), form.target.data)
        if outcome.ok:
            flash(_("目标已保存。"), "success")
            return redirect_to(url_for("admin.rep_targets_list", month=f"{outcome.result.month:%Y-%m}"))
    return _page(form, status=400)
