"""The new-product launch report (新品上市): filters in the URL, an htmx fragment, a printable
layout, an XLSX export and an SVG chart of the reach curves with their table. Mounted on the admin
(reports permission) and dealer blueprints (its own customers); the brand sets each launch's plan
on a form of its own (`register_launch_plan`)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, DecimalField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from app.extensions import db
from app.models import Category
from app.services.analytics import launches
from app.services.analytics.charts import line_chart
from app.services.core.clock import today_local
from app.web.common.envelope import attempt
from app.web.common.forms import Form, int_in_range
from app.web.common.htmx import redirect_to, render_page
from app.web.common.listing import GetForm
from app.web.shared.analytics.views import register_report, xlsx_response

VERDICT_LABELS = {"met": _l("达成"), "missed": _l("未达成"), "running": _l("进行中"), "no_plan": _l("无计划")}
CHART_LAUNCHES = 4  # the most recent launches drawn; the table below holds them all


class LaunchReportForm(GetForm):
    start = DateField(_l("上市日期从"), validators=[Optional()])
    end = DateField(_l("上市日期至"), validators=[Optional()])
    category = SelectField(_l("分类"), validators=[Optional()], validate_choice=False)


class LaunchPlanForm(Form):
    target_reach = DecimalField(_l("第 13 周目标铺货率（%）"), places=2,
                                validators=[InputRequired(message=_l("请输入目标铺货率。")),
                                            NumberRange(min=Decimal("0.01"), max=100,
                                                        message=_l("目标铺货率须在 0.01 到 100 之间。"))],
                                invalid_value_message=_l("请输入数字，例如 25 或 12.5。"), render_kw={"inputmode": "decimal"})
    target_cases = IntegerField(_l("第 13 周累计目标箱数"),
                                validators=[InputRequired(message=_l("请输入目标箱数。")),
                                            NumberRange(min=1, max=launches.MAX_CASES,
                                                        message=_l("目标箱数须是 1 到 10,000,000 之间的整数。"))],
                                invalid_value_message=_l("请输入整数箱数。"), render_kw={"inputmode": "numeric"})


def _args():
    form = LaunchReportForm(formdata=request.args)
    categories = list(db.session.scalars(db.select(Category).order_by(Category.sort_order, Category.code)))
    zh = not _locale().startswith("en")
    form.category.choices = [SelectChoice("", _("全部分类"))] + [
        SelectChoice(str(c.id), c.name_zh if zh else c.name_en) for c in categories]
    form.validate()
    end = form.clean("end") or today_local()
    start = form.clean("start") or end - timedelta(days=729)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=launches.MAX_DAYS - 1))
    form.start.data, form.end.data = start, end
    raw = form.clean("category")
    category_id = None
    if raw:
        if not (raw.isdigit() and int_in_range(int(raw))) or int(raw) not in {c.id for c in categories}:
            abort(404)
        category_id = int(raw)
    return form, start, end, category_id


def _locale() -> str:
    from flask_babel import get_locale
    return str(get_locale())


def _build(dealer_id: int | None):
    form, start, end, category_id = _args()
    return form, launches.launch_report(start, end, dealer_id=dealer_id, category_id=category_id)


def reach_chart(report) -> str:
    drawn = report.launches[-CHART_LAUNCHES:]
    if not any(launch.weeks for launch in drawn):
        return ""
    locale = _locale()
    labels = [_("第%(n)d周", n=n) for n in range(1, launches.WEEKS + 1)]
    series = [(launch.product.name(locale),
               [None if w.reach is None else round(w.reach * 100, 2) for w in launch.weeks]) for launch in drawn]
    return line_chart(_("累计铺货率（按上市后周数）"), labels, series, every=1)


def launch_page(endpoint: str, layout: str, dealer_id: int | None):
    form, report = _build(dealer_id)
    return render_page("shared/analytics/launches.html", "shared/analytics/_launches.html", form=form, report=report,
                       chart=reach_chart(report), weeks=range(1, launches.WEEKS + 1), verdicts=VERDICT_LABELS,
                       layout=layout, endpoint=endpoint, can_plan=dealer_id is None and endpoint == "admin",
                       locale=_locale(), query=request.args.to_dict())


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def launch_export(dealer_id: int | None):
    _form, report = _build(dealer_id)
    locale = _locale()
    headers = [_("商品编码"), _("商品"), _("上市日期"), _("已过周数"), _("活跃门店数"), _("进货门店数"), _("铺货率（%）"),
               _("复购率（%）"), _("累计净箱数"), _("目标铺货率（%）"), _("目标箱数"), _("结果")]
    rows = [(x.product.code, x.product.name(locale), x.launch_date.isoformat(), len(x.weeks), x.active_retailers,
             x.buyers, _pct(x.reach), _pct(x.repeat_rate), x.cases,
             None if x.target_reach_bp is None else x.target_reach_bp / 100, x.target_cases,
             str(VERDICT_LABELS[x.verdict])) for x in report.launches]
    rate = report.success_rate
    rows.append((_("成功率"), f"{report.succeeded}/{report.judged}", None, None, None, None, None, None, None, None,
                 None, None if rate is None else round(rate * 100, 1)))
    name = f"launches-{report.start.isoformat()}-{report.end.isoformat()}.xlsx"
    return xlsx_response(headers, rows, "launches", name)


def register_launch_report(bp: Blueprint, layout: str, dealer_scope, guard=None) -> None:
    register_report(bp, "launches", launch_page, launch_export, layout, dealer_scope, guard)


# The brand's plan for one launch.

def register_launch_plan(bp: Blueprint, layout: str, guard) -> None:
    """Mount GET and POST /reports/launches/<product_id>/plan (endpoints launch_plan_edit and
    launch_plan_save) on the brand's blueprint."""

    def render(product, form, status=200):
        return render_page("shared/analytics/launch_plan.html", status=status, form=form, product=product,
                           layout=layout, endpoint=bp.name, locale=_locale(), weeks=launches.WEEKS)

    def load(product_id: int):
        guard()
        if not int_in_range(product_id):
            abort(404)
        return launches.launch_product(product_id)  # NotFound → 404

    def edit(product_id: int):
        product = load(product_id)
        form = LaunchPlanForm(formdata=None)
        plan = launches.plan_for(product.id)
        if plan is not None:
            form.target_reach.data = Decimal(plan.target_reach_bp) / 100
            form.target_cases.data = plan.target_cases
        return render(product, form)

    def save(product_id: int):
        product = load(product_id)
        form = LaunchPlanForm()
        if form.validate():
            outcome = attempt(form, launches.set_plan, product.id, form.target_reach.data, form.target_cases.data,
                              current_user.id)
            if outcome.ok:
                flash(_("已保存 %(name)s 的上市计划。", name=product.name(_locale())), "success")
                return redirect_to(url_for(f"{bp.name}.launches_report"))
            return render(product, form, outcome.status)
        return render(product, form, 422 if request.headers.get("HX-Request") else 400)

    bp.add_url_rule("/reports/launches/<int:product_id>/plan", "launch_plan_edit", edit, methods=["GET"])
    bp.add_url_rule("/reports/launches/<int:product_id>/plan", "launch_plan_save", save, methods=["POST"])
