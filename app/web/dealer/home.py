from flask import render_template
from flask_login import current_user

from app.services.analytics.home_trends import dealer_month
from app.services.analytics.today import dealer_today
from app.web.dealer import bp
from app.web.shared.analytics.views import trend_chart


@bp.route("/")
def home():
    today = dealer_today(current_user.org_id)
    return render_template("dealer/home.html", today=today, chart=trend_chart(today.trend),
                           month=dealer_month(current_user.org_id))
