from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.services.analytics.charts import bar_chart
from app.services.analytics.home_trends import week_vs_forecast
from app.services.analytics.today import brand_today
from app.web.admin import bp
from app.web.shared.analytics.views import trend_chart

FORECAST_PROVINCES = 8  # the provinces drawn; the table holds them all


def forecast_chart(week) -> str:
    top = week.rows[:FORECAST_PROVINCES]
    if not top:
        return ""
    series = [(_("本周实际（箱）"), [r.actual_qty for r in top])]
    if week.run_id is not None:  # without a covering run there is no forecast to draw, not a zero one
        series.append((_("同期预测（箱）"), [round(r.forecast_qty, 1) for r in top]))
    return bar_chart(_("本周销售与预测"), [r.label for r in top], series)


@bp.route("/")
def home():
    today = brand_today(current_user.org_id)
    reports = current_user.can("reports")
    week = week_vs_forecast() if reports else None
    return render_template("admin/home.html", today=today, chart=trend_chart(today.trend) if reports else "",
                           week=week, week_chart=forecast_chart(week) if week else "")
