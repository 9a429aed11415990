"""The route of the day: the rep's retailers for a weekday (today by default), with last
order, last visit and the overdue mark; a search across all days; this month's progress."""
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from sqlalchemy import select

from app.extensions import db
from app.models import Organisation
from app.services.analytics.customers import shop_health
from app.services.field_sales import portal as rep_portal
from app.services.field_sales import targets as rep_targets
from app.web.common.htmx import render_page, wants_fragment
from app.web.rep import bp
from app.web.rep.forms import WEEKDAY_LABELS, RouteForm


def route_text() -> dict:
    """The fixed strings of every stop, translated once per page rather than once per stop."""
    return {"last_order": _("最近下单 %(date)s"), "never": _("还没有下过单"),
            "overdue": _("超过 %(n)d 天未下单", n=rep_portal.OVERDUE_AFTER_DAYS), "visited": _("今日已拜访"),
            "last_visit": _("最近拜访 %(date)s"), "no_visit": _("没有拜访记录"), "order": _("代下单")}


@bp.get("/")
def home():
    today = rep_portal.local_weekday()
    form = RouteForm(formdata=request.args)
    criteria = form.criteria(today)
    stops = rep_portal.route_stops(current_user, criteria["weekday"], criteria["search"], criteria["page"])
    full_page = not wants_fragment()
    return render_page("rep/home.html", "rep/_route.html", form=form, stops=stops, weekday=criteria["weekday"],
                       today=today, search=criteria["search"], weekdays=WEEKDAY_LABELS,
                       text=route_text(),
                       progress=rep_targets.month_progress(current_user) if full_page else None,
                       at_risk=shops_at_risk() if full_page else [])


def shops_at_risk(limit: int = 5):
    """The route's shops most past their own ordering rhythm (the full list: 门店健康)."""
    shops = list(db.session.scalars(select(Organisation).where(
        Organisation.id.in_(rep_portal.route_retailer_ids(current_user)))))
    return [h for h in shop_health(shops, with_regions=False) if h.segment == "at_risk"][:limit]
