"""Sales reps (tablet first): today's route, a retailer's card, ordering on behalf of a retailer
with the shared cart and checkout services, visit check-ins, the rep's orders and target."""
from flask import Blueprint

from app.web.common.access import guard_role

bp = Blueprint("rep", __name__, url_prefix="/rep")
guard_role(bp, "rep")

from app.web.rep import home, order_entry, orders, retailers  # noqa: E402,F401
from app.web.shared.notifications.views import register_notification_pages  # noqa: E402

register_notification_pages(bp)

from flask_login import current_user  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.models import Organisation  # noqa: E402
from app.services.field_sales.portal import route_retailer_ids  # noqa: E402
from app.web.shared.analytics.customers import register_customer_report  # noqa: E402
from app.web.shared.analytics.views import RepScope, register_sales_report  # noqa: E402

register_sales_report(bp, "rep/layout.html", lambda: RepScope(current_user.id))

register_customer_report(bp, "rep/layout.html",
                         lambda: select(Organisation).where(Organisation.id.in_(route_retailer_ids(current_user))),
                         order_endpoint="rep.order_entry")
