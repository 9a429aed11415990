from flask import render_template
from flask_login import current_user

from app.services.analytics.today import brand_today
from app.web.admin import bp
from app.web.shared.analytics.views import trend_chart


@bp.route("/")
def home():
    today = brand_today(current_user.org_id)
    chart = trend_chart(today.trend) if current_user.can("reports") else ""
    return render_template("admin/home.html", today=today, chart=chart)
