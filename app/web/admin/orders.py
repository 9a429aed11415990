"""The brand's order desk: orders the brand sells (dealers' replenishment, retailers the brand
serves directly). The list, an order's page with its decisions, shipping, sign-off and returns are
the shared desk (app.web.shared.fulfilment), with the automatic review's reasons and re-check;
the review queue (orders waiting for a person, filtered by reason) is the brand's own page.
Permission "orders"."""
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.services.approval import automatic as approval
from app.web.admin import bp
from app.web.admin.orders_forms import ReviewFilterForm
from app.web.common.access import permission_required
from app.web.common.htmx import render_page
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS
from app.web.shared.fulfilment.desk import Desk, register_desk

register_desk(bp, Desk("admin", "admin/layout.html", guard=permission_required("orders"), heading=_l("品牌订单"),
                       subnav="admin/orders/_subnav.html", review=True))


@bp.get("/orders/review")
@permission_required("orders")
def orders_review():
    form = ReviewFilterForm(formdata=request.args)
    criteria = form.criteria()
    results = approval.review_queue(current_user.org_id, criteria["reason"], criteria["page"],
                                    current_app.config["PAGE_SIZE"])
    params = {"reason": criteria["reason"]} if criteria["reason"] else {}
    return render_page("admin/orders/review.html", "admin/orders/_review.html", form=form, results=results,
                       reasons=approval.reasons_for([o.id for o in results.items]), params=params,
                       status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS,
                       reason_labels=approval.REASON_LABELS)
