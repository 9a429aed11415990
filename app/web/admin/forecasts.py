"""Demand forecasts (需求预测): the latest weekly run, every series with its measured accuracy,
one series' history against its forecast, and an XLSX export. Admins holding "reports"."""
from __future__ import annotations

from flask import Response, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField, SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from app.extensions import db
from app.models import Product, Region
from app.models.analytics import DemandForecast, ForecastSeries
from app.services.analytics.charts import line_chart
from app.services.dataio.spreadsheets import xlsx_bytes
from app.services.forecasting import reports
from app.services.forecasting.demand import latest_run
from app.web.admin import bp
from app.web.common.htmx import render_page
from app.web.common.listing import GetForm

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROMISED_ACCURACY = 0.70  # the requirements document's figure for market-trend forecasts


class ForecastFilterForm(GetForm):
    q = SearchField(_l("商品"), validators=[Optional(), Length(max=60)])
    province = SelectField(_l("省份"), validators=[Optional()], validate_choice=False)
    product = IntegerField(validators=[Optional()])


def _guard() -> None:
    if not current_user.can("reports"):
        abort(403)


def _filters():
    form = ForecastFilterForm(formdata=request.args)
    provinces = reports.provinces()
    form.province.choices = [SelectChoice("", _("全部省份"))] + [SelectChoice(str(p.id), p.name) for p in provinces]
    form.validate()
    province_ids = {p.id for p in provinces}
    raw_province = form.clean("province")
    province_id = int(raw_province) if raw_province and raw_province.isdigit() else None
    if raw_province and province_id not in province_ids:
        abort(404)
    product_id = form.clean("product")
    product = db.session.get(Product, product_id) if product_id else None
    if product_id and product is None:
        abort(404)
    return form, province_id, product


@bp.get("/forecasts")
def forecasts():
    _guard()
    form, province_id, product = _filters()
    run = latest_run()
    context = dict(form=form, run=run, product=product, province_id=province_id, promised=PROMISED_ACCURACY)
    if run is not None:
        page = reports.series_page(run, form.clean("q"), province_id, form.clean("page", 1))
        past_weeks, past, ahead_weeks, ahead = reports.history_and_forecast(
            run, product.id if product else None, province_id)
        labels = [w.strftime("%m-%d") for w in past_weeks + ahead_weeks]
        chart = line_chart(_("需求预测"), labels,
                           [(_("实际需求"), past + [None] * len(ahead)),
                            (_("预测"), [None] * (len(past) - 1) + [past[-1] if past else None] + ahead)])
        province = db.session.get(Region, province_id) if province_id else None
        context.update(page=page, chart=chart, ahead=list(zip(ahead_weeks, ahead)), province=province,
                       past_total=sum(past), ahead_total=sum(ahead), history=reports.past_accuracy())
    return render_page("admin/forecasts/index.html", "admin/forecasts/_results.html", **context)


@bp.get("/forecasts/export.xlsx")
def forecasts_export():
    _guard()
    form, province_id, _product = _filters()
    run = latest_run()
    query = (select(Product.code, Product.name_zh, Region.name, ForecastSeries.model, ForecastSeries.wape,
                    ForecastSeries.mase, ForecastSeries.bias, DemandForecast.week, DemandForecast.qty)
             .join(ForecastSeries, (ForecastSeries.run_id == DemandForecast.run_id)
                   & (ForecastSeries.product_id == DemandForecast.product_id)
                   & (ForecastSeries.province_id == DemandForecast.province_id))
             .join(Product, Product.id == DemandForecast.product_id)
             .join(Region, Region.id == DemandForecast.province_id)
             .where(DemandForecast.run_id == (run.id if run else None))
             .order_by(Product.code, Region.code, DemandForecast.week))
    if province_id:
        query = query.where(DemandForecast.province_id == province_id)
    headers = [_("商品编码"), _("商品"), _("省份"), _("模型"), _("回测准确率"), "MASE", _("偏差"), _("周（周一）"), _("预测箱数")]
    rows = ([code, name, province, model, None if wape is None else round(max(0.0, 1 - wape), 4),
             None if mase is None else round(mase, 3), None if bias is None else round(bias, 4), week, round(qty, 1)]
            for code, name, province, model, wape, mase, bias, week, qty in db.session.execute(query))
    name = f"forecast-{run.history_to.isoformat()}.xlsx" if run else "forecast.xlsx"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(xlsx_bytes(headers, rows, "forecast"), mimetype=XLSX_MIMETYPE, headers=disposition)
