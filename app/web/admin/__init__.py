"""Brand HQ: catalog, prices, users, audit (and later order desk, stock, marketing, reports)."""
from flask import Blueprint

from app.web.common.access import guard_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_role(bp, "admin")

from app.web.admin import home, users  # noqa: E402,F401
from app.web.admin import imports  # noqa: E402,F401
from app.web.admin import documents  # noqa: E402,F401
from app.web.admin import credit  # noqa: E402,F401
from app.web.admin import approval, orders, orders_report  # noqa: E402,F401
from app.web.admin import stock  # noqa: E402,F401
from app.web.admin import rep_targets  # noqa: E402,F401
from app.web.admin import forecasts  # noqa: E402,F401
from app.web.admin import loyalty  # noqa: E402,F401
from app.web.admin import audit_log, categories, contracts, price_lists, products  # noqa: E402,F401
from app.web.admin import presale  # noqa: E402,F401

from app.web.shared.notifications.views import register_notification_pages  # noqa: E402

register_notification_pages(bp)

from app.web.shared.analytics.views import admin_guard, register_sales_report  # noqa: E402

register_sales_report(bp, "admin/layout.html", lambda: None, guard=admin_guard)

from app.web.shared.analytics.service import register_channel_report, register_service_report  # noqa: E402

register_service_report(bp, "admin/layout.html", lambda: None, guard=admin_guard)
register_channel_report(bp, "admin/layout.html", lambda: None, guard=admin_guard)

from app.web.shared.analytics.launches import register_launch_plan, register_launch_report  # noqa: E402

register_launch_report(bp, "admin/layout.html", lambda: None, guard=admin_guard)
register_launch_plan(bp, "admin/layout.html", guard=admin_guard)

from app.web.shared.promotions.views import (marketing_guard, register_promotion_approval,  # noqa: E402
                                             register_promotion_pages, register_promotion_simulator)

register_promotion_pages(bp, "admin/layout.html", guard=marketing_guard)
register_promotion_approval(bp, marketing_guard)
register_promotion_simulator(bp, marketing_guard)

from app.web.shared.promotions.limits import register_dealer_limit_pages  # noqa: E402

register_dealer_limit_pages(bp, marketing_guard)

from app.web.shared.promotions.settlements import register_admin_settlement_pages  # noqa: E402

register_admin_settlement_pages(bp, marketing_guard)

from app.web.shared.rebates.views import register_admin_rebate_pages  # noqa: E402

register_admin_rebate_pages(bp, marketing_guard)
from app.web.shared.groupbuy.manage import register_groupbuy_desk  # noqa: E402

register_groupbuy_desk(bp, "admin/layout.html", guard=marketing_guard)
from app.web.shared.promotions.customer_groups import register_customer_group_pages  # noqa: E402

register_customer_group_pages(bp, marketing_guard)

from app.web.shared.promotions.files import register_promotion_files  # noqa: E402

register_promotion_files(bp, "admin/layout.html", guard=marketing_guard)

from app.web.common.access import permission_required  # noqa: E402
from app.web.payments.refunds import register_refund_pages  # noqa: E402

register_refund_pages(bp, "admin/layout.html", guard=permission_required("orders"))
