"""Retailers: catalog with their own prices, cart, checkout, orders. Works without JavaScript."""
from flask import Blueprint

from app.web.common.access import guard_role

bp = Blueprint("retailer", __name__, url_prefix="/retailer")
guard_role(bp, "retailer")

from app.web.retailer import home, ordering, orders  # noqa: E402,F401
from app.web.retailer import delivery, returns, statement  # noqa: E402,F401
from app.web.retailer import points  # noqa: E402,F401
from app.web.retailer import coupons  # noqa: E402,F401
from app.web.retailer import presale  # noqa: E402,F401

from app.web.shared.notifications.views import register_notification_pages  # noqa: E402

register_notification_pages(bp)

from app.web.shared.groupbuy.retailer import register_retailer_groupbuys  # noqa: E402

register_retailer_groupbuys(bp)
from flask_login import current_user  # noqa: E402

from app.services.ordering.orders import orders_bought_by  # noqa: E402
from app.web.payments.views import register_payment_pages  # noqa: E402

register_payment_pages(bp, "retailer/layout.html", lambda: orders_bought_by(current_user.org_id))
