"""Dealers: orders routed to them, fulfilment, replenishment from the brand."""
from flask import Blueprint

from app.web.common.access import guard_role

bp = Blueprint("dealer", __name__, url_prefix="/dealer")
guard_role(bp, "dealer")

from app.web.dealer import home, orders  # noqa: E402,F401
from app.web.dealer import credit  # noqa: E402,F401
from app.web.dealer import replenishment, replenishment_orders  # noqa: E402,F401
from app.web.dealer import rebate_use  # noqa: E402,F401
from app.web.dealer import stock  # noqa: E402,F401
from app.web.dealer import orders_print  # noqa: E402,F401
from app.web.dealer import forecasts  # noqa: E402,F401
from app.web.dealer import carriers  # noqa: E402,F401
from app.web.dealer import presale  # noqa: E402,F401

from app.web.shared.notifications.views import register_notification_pages  # noqa: E402

register_notification_pages(bp)

from flask_login import current_user  # noqa: E402

from app.web.shared.analytics.views import register_sales_report  # noqa: E402

register_sales_report(bp, "dealer/layout.html", lambda: current_user.org_id)

from app.web.shared.analytics.service import register_channel_report, register_service_report  # noqa: E402

register_service_report(bp, "dealer/layout.html", lambda: current_user.org_id)
register_channel_report(bp, "dealer/layout.html", lambda: current_user.org_id)

from app.web.shared.analytics.launches import register_launch_report  # noqa: E402

register_launch_report(bp, "dealer/layout.html", lambda: current_user.org_id)

from app.web.shared.analytics.customers import dealer_shops, register_customer_report  # noqa: E402

register_customer_report(bp, "dealer/layout.html", lambda: dealer_shops(current_user.org_id))
from app.web.shared.promotions.views import register_promotion_pages  # noqa: E402

register_promotion_pages(bp, "dealer/layout.html")

from app.web.shared.promotions.settlements import register_dealer_settlement_pages  # noqa: E402

register_dealer_settlement_pages(bp)

from app.web.shared.rebates.views import register_dealer_rebate_pages  # noqa: E402

register_dealer_rebate_pages(bp)
from app.web.shared.groupbuy.manage import register_groupbuy_desk  # noqa: E402

register_groupbuy_desk(bp, "dealer/layout.html")
from app.web.shared.promotions.files import register_promotion_files  # noqa: E402

register_promotion_files(bp, "dealer/layout.html")
from app.services.ordering.replenishment import replenishment_orders  # noqa: E402
from app.web.payments.views import register_payment_pages  # noqa: E402

register_payment_pages(bp, "dealer/layout.html", lambda: replenishment_orders(current_user.org_id))
from app.web.payments.refunds import register_refund_pages  # noqa: E402

register_refund_pages(bp, "dealer/layout.html")
