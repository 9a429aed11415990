"""The order-cycle report: automatic approval rate and time from submit to delivery over a
period. Open to admins holding "reports" or "orders"."""
from flask import abort, request
from flask_login import current_user

from app.services.approval import automatic as approval
from app.services.approval.reports import TARGET_HOURS, approval_report
from app.web.admin import bp
from app.web.common.fields import form_status
from app.web.admin.orders_forms import SELLER_KIND_LABELS, ReportForm
from app.web.common.htmx import render_page


@bp.get("/reports/orders")
def orders_report():
    if not (current_user.can("reports") or current_user.can("orders")):
        abort(403)
    form = ReportForm(formdata=request.args)
    start, end, seller_kind = form.period()
    report = approval_report(start, end, seller_kind)
    return render_page("admin/orders/report.html", "admin/orders/_report.html", status=form_status(form), form=form,
                       report=report, reason_labels=approval.REASON_LABELS, seller_kind_labels=SELLER_KIND_LABELS,
                       target_hours=TARGET_HOURS)
