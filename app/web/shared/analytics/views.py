"""The sales report page: filters in the URL (bookmarkable, no JS needed), an htmx fragment, a
printable layout, an XLSX export and two server-side SVG charts with their tables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from app.extensions import db
from app.models import Organisation, Region, RepRoute, User
from app.services.analytics.charts import bar_chart, column_chart, line_chart
from app.services.analytics.sales import MAX_DAYS, sales_report, sales_report_page
from app.services.analytics.shop_totals import preset_ranges
from app.services.core.clock import today_local
from app.services.dataio.spreadsheets import xlsx_bytes
from app.services.forecasting.reports import provinces as provinces_list
from app.web.common.fields import CHANNEL_LABELS
from app.web.common.forms import int_in_range
from app.web.common.htmx import render_page
from app.web.common.listing import GetForm

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIMENSION_LABELS = {"product": _l("商品"), "category": _l("分类"), "province": _l("省份"), "region": _l("地区"),
                    "dealer": _l("经销商"), "channel": _l("渠道"), "rep": _l("业务员"), "retailer": _l("门店")}
COMPARE_LABELS = {"previous": _l("环比（上一同长周期）"), "last_year": _l("同比（去年同期）")}
CHANNELS = dict(CHANNEL_LABELS, dealer=_l("经销商补货"))
# The period presets offered as links that fill start and end (no JS); the brand's report by
# retailer or rep over one of them reads the per-shop totals kept by the nightly job.
PRESET_LABELS = {"d30": _l("近30天"), "d90": _l("近90天"), "d365": _l("近一年"), "this_month": _l("本月"),
                 "last_month": _l("上月"), "this_year": _l("本年"), "last_year": _l("去年")}


class SalesReportForm(GetForm):
    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])
    by = SelectField(_l("按"), choices=[SelectChoice(k, v) for k, v in DIMENSION_LABELS.items()], validators=[Optional()])
    compare = SelectField(_l("对比"), choices=[SelectChoice(k, v) for k, v in COMPARE_LABELS.items()], validators=[Optional()])
    province = SelectField(_l("省份"), validators=[Optional()], validate_choice=False)


@dataclass(frozen=True)
class RepScope:
    """A rep's report: the shops on its route."""
    rep_id: int


def _rep_filter(raw: str | None, seller_id: int | None, rep_scope: RepScope | None) -> User | None:
    """The rep a report's `rep` filter names: any rep for the brand, a rep serving one of the
    dealer's shops for a dealer, itself for a rep; 404 for anything else."""
    if not raw:
        return None
    rep = db.session.get(User, int(raw)) if raw.isdigit() and int_in_range(int(raw)) else None
    if rep is None or rep.role != "rep" or (rep_scope is not None and rep.id != rep_scope.rep_id):
        abort(404)
    if seller_id is not None and db.session.scalar(
            select(RepRoute.id).join(Organisation, Organisation.id == RepRoute.retailer_id)
            .where(RepRoute.rep_id == rep.id, Organisation.dealer_id == seller_id).limit(1)) is None:
        abort(404)
    return rep


def _route(rep_id: int):
    return select(RepRoute.retailer_id).where(RepRoute.rep_id == rep_id)


def _report_args(scope):
    """The report's arguments from the URL, in the caller's scope: None (the brand), a dealer's
    id, or a RepScope."""
    rep_scope = scope if isinstance(scope, RepScope) else None
    seller_id = None if rep_scope else scope
    form = SalesReportForm(formdata=request.args)
    provinces = provinces_list()
    form.province.choices = [SelectChoice("", _("全部省份"))] + [SelectChoice(str(p.id), p.name) for p in provinces]
    form.validate()
    end = form.clean("end") or today_local() - timedelta(days=1)
    start = form.clean("start") or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_DAYS - 1))
    form.start.data, form.end.data = start, end
    hidden = {"dealer"} if seller_id is not None else {"rep"} if rep_scope else set()
    by = form.clean("by") or "product"
    if by in hidden:
        by = "product"
    compare = form.clean("compare") or "previous"
    form.by.data, form.compare.data = by, compare
    province = province_from(form.clean("province"))
    rep = _rep_filter(request.args.get("rep"), seller_id, rep_scope)
    form.by.choices = [SelectChoice(k, v) for k, v in DIMENSION_LABELS.items() if k not in hidden]
    buyers = _route(rep.id) if rep else _route(rep_scope.rep_id) if rep_scope else None
    return form, dict(start=start, end=end, by=by, compare=compare, seller_id=seller_id,
                      province_id=province.id if province else None, channel_labels=CHANNELS, buyers=buyers,
                      page=form.clean("page") or 1), province, rep


def province_from(raw: str | None) -> Region | None:
    """The province a report's filter names (provinces are shared dimensions, not an
    organisation's records); None when blank, 404 for anything but a province's id."""
    if not raw:
        return None
    province = db.session.get(Region, int(raw)) if raw.isdigit() and int_in_range(int(raw)) else None
    if province is None or province.level != 1:
        abort(404)
    return province


def _locale() -> str:
    from flask_babel import get_locale
    return str(get_locale())


def _build(scope, whole: bool = True):
    """The report in the URL's terms: every row (`whole`, the export) or what the page shows."""
    form, args, province, rep = _report_args(scope)
    args["locale"] = _locale()
    return form, (sales_report if whole else sales_report_page)(**args), province, rep


def trend_chart(trend) -> str:
    """A home page's last weeks of net sales (empty when the facts hold nothing yet)."""
    if not trend.total_fen:
        return ""
    return column_chart([w.strftime("%m-%d") for w in trend.weeks], _("近 %(n)d 周净销售额（元）", n=len(trend.weeks)),
                        [v / 100 for v in trend.values_fen])


def week_labels(weeks: list, start, end) -> list[str]:
    """The trend's weeks by their Monday; a week the period holds only part of says how many of
    its days it holds, so a period starting on a Friday does not read as a collapse in sales."""
    labels = []
    for monday in weeks:
        days = (min(end, monday + timedelta(days=6)) - max(start, monday)).days + 1
        labels.append(monday.strftime("%m-%d") if days == 7 else _("%(d)s（%(n)d天）", d=monday.strftime("%m-%d"), n=days))
    return labels


def sales_page(endpoint_prefix: str, layout: str, scope):
    form, report, province, rep = _build(scope, whole=False)
    top = report.top
    bars = bar_chart(_("按%(dim)s", dim=DIMENSION_LABELS[report.by]), [r.label for r in top],
                     [(_("本期"), [r.value_fen / 100 for r in top]),
                      (_("对比期"), [r.prior_fen / 100 for r in top])]) if top else ""
    trend = line_chart(_("每周趋势"), week_labels(report.weeks, report.start, report.end),
                       [(_("每周净销售额（元）"), [v / 100 for v in report.weekly_fen])], every=max(1, len(report.weeks) // 6))
    risers, fallers = report.risers, report.fallers
    query = {k: v for k, v in request.args.items() if k != "page"}
    presets = [(name, PRESET_LABELS[name], start, end) for name, (start, end) in preset_ranges().items()]
    return render_page("shared/analytics/sales.html", "shared/analytics/_sales.html", form=form, report=report,
                       presets=presets,
                       province=province, rep=rep, bars=bars, trend=trend, risers=risers, fallers=fallers, layout=layout,
                       endpoint=endpoint_prefix, dimension_labels=DIMENSION_LABELS, compare_labels=COMPARE_LABELS,
                       query=query)


def sales_export(scope):
    _form, report, _province, _rep = _build(scope)
    headers = [str(DIMENSION_LABELS[report.by]), _("编码"), _("净销售额（元）"), _("净箱数"), _("订单行数"),
               _("对比期（元）"), _("变化"), _("下单（元）"), _("发货（元）"), _("签收（元）"), _("退货（元）")]
    rows = ([r.label, r.code, r.value_fen / 100, r.qty, r.orders, r.prior_fen / 100,
             None if r.change is None else round(r.change, 4), r.ordered_fen / 100, r.shipped_fen / 100,
             r.delivered_fen / 100, r.returned_fen / 100] for r in report.rows)
    name = f"sales-{report.by}-{report.start.isoformat()}-{report.end.isoformat()}.xlsx"
    return xlsx_response(headers, rows, "sales", name)


def xlsx_response(headers, rows, sheet: str, name: str) -> Response:
    return Response(xlsx_bytes(headers, rows, sheet), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def register_report(bp: Blueprint, name: str, page_view, export_view, layout: str, scope, guard=None) -> None:
    """Mount /reports/<name> and /reports/<name>/export.xlsx on `bp` (endpoints <name>_report and
    <name>_report_export): `page_view(blueprint name, layout, scope())`, `export_view(scope())`, where
    `scope()` gives the caller's seller or dealer id, or None for the brand; `guard()` runs first."""

    def page():
        if guard:
            guard()
        return page_view(bp.name, layout, scope())

    def export():
        if guard:
            guard()
        return export_view(scope())

    bp.add_url_rule(f"/reports/{name}", f"{name}_report", page)
    bp.add_url_rule(f"/reports/{name}/export.xlsx", f"{name}_report_export", export)


def register_sales_report(bp: Blueprint, layout: str, scope, guard=None) -> None:
    """`scope()`: None for the brand, the dealer's id, or a RepScope."""
    register_report(bp, "sales", sales_page, sales_export, layout, scope, guard)


def admin_guard() -> None:
    if not current_user.can("reports"):
        abort(403)
