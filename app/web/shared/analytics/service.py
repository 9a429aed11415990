"""The service report page (fill rate, on-time-in-full, order cycle, automatic approval): filters
in the URL, an htmx fragment, a printable layout, an XLSX export and an SVG histogram with its
table. Mounted on the admin (reports permission) and dealer blueprints (its own sales only)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from app.services.analytics.charts import column_chart
from app.services.analytics.service import BUCKETS, MAX_DAYS, TARGET_HOURS, service_report
from app.services.core.clock import today_local
from app.services.forecasting.reports import provinces as provinces_list
from app.web.common.htmx import render_page
from app.web.common.listing import GetForm
from app.web.shared.analytics.views import province_from, register_report, xlsx_response

DIMENSION_LABELS = {"dealer": _l("卖方"), "province": _l("省份")}


class PeriodForm(GetForm):
    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])
    province = SelectField(_l("省份"), validators=[Optional()], validate_choice=False)


class ServiceReportForm(PeriodForm):
    by = SelectField(_l("按"), choices=[SelectChoice(k, v) for k, v in DIMENSION_LABELS.items()],
                     validators=[Optional()])


def period_args(form: PeriodForm, default_days: int = 30):
    """Read the period and province of a report form (bad values fall back to defaults; an
    unknown province is a 404)."""
    form.province.choices = [SelectChoice("", _("全部省份"))] + [SelectChoice(str(p.id), p.name)
                                                               for p in provinces_list()]
    form.validate()
    end = form.clean("end") or today_local() - timedelta(days=1)
    start = form.clean("start") or end - timedelta(days=default_days - 1)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_DAYS - 1))
    form.start.data, form.end.data = start, end
    return start, end, province_from(form.clean("province"))


def bucket_labels() -> list[str]:
    labels, low = [], 0
    for high in BUCKETS:
        labels.append(_("%(a)d–%(b)d 小时", a=low, b=high))
        low = high
    labels.append(_("%(a)d 小时以上", a=low))
    return labels


def _build(seller_id: int | None):
    form = ServiceReportForm(formdata=request.args)
    start, end, province = period_args(form)
    by = form.clean("by") or ("province" if seller_id is not None else "dealer")
    if seller_id is not None:
        by = "province"
        form.by.choices = [SelectChoice("province", DIMENSION_LABELS["province"])]
    form.by.data = by
    report = service_report(start, end, by, seller_id=seller_id, province_id=province.id if province else None)
    return form, report, province


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def service_page(endpoint: str, layout: str, seller_id: int | None):
    form, report, province = _build(seller_id)
    labels = bucket_labels()
    chart = column_chart(labels, _("订单周期分布（已送达订单数）"), report.histogram) if report.total.delivered else ""
    return render_page("shared/analytics/service.html", "shared/analytics/_service.html", form=form,
                       report=report, province=province, chart=chart, buckets=list(zip(labels, report.histogram)),
                       layout=layout, endpoint=endpoint, dimension_labels=DIMENSION_LABELS, target=TARGET_HOURS,
                       query=request.args.to_dict(), percent=_percent)


def service_export(seller_id: int | None):
    _form, report, _province = _build(seller_id)
    headers = [str(DIMENSION_LABELS[report.by]), _("编码"), _("提交订单数"), _("自动审批占比（%）"),
               _("行满足率（%）"), _("金额满足率（%）"), _("准时足量率（%）"), _("应交付订单数"), _("已送达订单数")]
    rows = [(r.label, r.code, r.submitted, _percent(r.auto_rate), _percent(r.line_fill), _percent(r.value_fill),
             _percent(r.otif_rate), r.due, r.delivered) for r in [*report.rows, report.total]]
    rows[-1] = (_("合计"), "", *rows[-1][2:])
    name = f"service-{report.by}-{report.start.isoformat()}-{report.end.isoformat()}.xlsx"
    return xlsx_response(headers, rows, "service", name)


def register_service_report(bp: Blueprint, layout: str, seller_scope, guard=None) -> None:
    register_report(bp, "service", service_page, service_export, layout, seller_scope, guard)


# The channel and stock report: the same page conventions.

def _channel_build(dealer_id: int | None):
    from app.services.analytics.channel import channel_report
    from app.web.shared.analytics.views import _locale

    form = PeriodForm(formdata=request.args)
    start, end, province = period_args(form, default_days=90)
    if dealer_id is not None:
        province = None
    report = channel_report(start, end, dealer_id=dealer_id, province_id=province.id if province else None,
                            locale=_locale())
    return form, report, province


def channel_page(endpoint: str, layout: str, dealer_id: int | None):
    from app.services.analytics.channel import HORIZONS
    from app.services.analytics.charts import bar_chart

    form, report, province = _channel_build(dealer_id)
    top = report.rows[:15]
    chart = bar_chart(_("渠道与库存"), [r.label for r in top],
                      [(_("从品牌进货（箱）"), [r.received_qty for r in top]),
                       (_("售给门店（箱）"), [r.sold_qty for r in top])]) if top else ""
    return render_page("shared/analytics/channel.html", "shared/analytics/_channel.html", form=form, report=report,
                       province=province, chart=chart, horizons=HORIZONS, layout=layout, endpoint=endpoint,
                       query=request.args.to_dict(), percent=_percent)


def channel_export(dealer_id: int | None):
    from app.services.analytics.channel import HORIZONS

    _form, report, _province = _channel_build(dealer_id)
    headers = [_("经销商") if report.by == "dealer" else _("商品"), _("编码"), _("进货（箱）"), _("进货金额（元）"),
               _("销售（箱）"), _("销售金额（元）"), _("动销率（%）"), _("期末库存（箱）"), _("可售天数"),
               *[_("%(n)d 天内到期金额（元）", n=h) for h in HORIZONS], _("缺货天数"), _("缺货率（%）")]

    def line(r, label, code):
        supply = None if r.days_of_supply is None else round(r.days_of_supply, 1)
        return (label, code, r.received_qty, r.received_fen / 100, r.sold_qty, r.sold_fen / 100,
                _percent(r.sell_through), r.on_hand, supply, *[v / 100 for v in r.expiring_fen], r.out_days,
                _percent(r.out_rate))

    rows = [line(r, r.label, r.code) for r in report.rows] + [line(report.total, _("合计"), "")]
    name = f"channel-{report.start.isoformat()}-{report.end.isoformat()}.xlsx"
    return xlsx_response(headers, rows, "channel", name)


def register_channel_report(bp: Blueprint, layout: str, dealer_scope, guard=None) -> None:
    register_report(bp, "channel", channel_page, channel_export, layout, dealer_scope, guard)
