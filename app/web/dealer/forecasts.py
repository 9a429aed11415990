"""A dealer's demand forecast (需求预测): the brand's weekly product × province forecast split to
this dealer by its trailing share, with the measured accuracy of the series behind it, a chart of
its last weeks' sales and the weeks ahead, and an XLSX export. Only its own split is ever read."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.analytics.charts import line_chart
from app.services.forecasting.dealer_split import SHARE_WEEKS, dealer_forecast
from app.web.common.htmx import render_page
from app.web.dealer import bp
from app.web.shared.analytics.views import _locale, xlsx_response


def _chart(split) -> str:
    labels = [w.strftime("%m-%d") for w in split.past_weeks + split.weeks]
    past = split.past_qty + [None] * len(split.weeks)
    ahead = [None] * (len(split.past_weeks) - 1) + [split.past_qty[-1]] + split.weekly_total
    return line_chart(_("每周销量与预测"), labels,
                      [(_("本经销商实际（箱）"), past), (_("预测（箱）"), [None if v is None else round(v, 1) for v in ahead])],
                      every=4)


@bp.get("/forecasts")
def forecasts():
    split = dealer_forecast(current_user.org_id)
    chart = _chart(split) if split is not None and (split.rows or any(split.past_qty)) else ""
    return render_page("dealer/forecasts.html", split=split, chart=chart, share_weeks=SHARE_WEEKS, locale=_locale(),
                       replenishment_url=url_for("dealer.replenishment_catalog"))


@bp.get("/forecasts/export.xlsx")
def forecasts_export():
    split = dealer_forecast(current_user.org_id)
    weeks = split.weeks if split else []
    headers = [_("商品编码"), _("商品"), _("份额（省份）"), _("近 %(n)d 周销量（箱）", n=SHARE_WEEKS), _("回测准确率（%）"),
               *[w.isoformat() for w in weeks], _("合计（箱）")]
    locale = _locale()
    rows = ([r.product.code, r.product.name(locale),
             "; ".join(f"{s.province.name} {s.share * 100:.1f}%" for s in r.shares), round(r.sold_qty),
             None if r.accuracy is None else round(r.accuracy * 100, 1), *[round(v, 1) for v in r.weekly],
             round(r.total, 1)] for r in (split.rows if split else []))
    name = f"dealer-forecast-{split.run.history_to.isoformat()}.xlsx" if split else "dealer-forecast.xlsx"
    return xlsx_response(headers, rows, "forecast", name)
