"""The brand's automatic approval rules: which checks run on every new order and the limits of
the "usual quantities" rule. Saving is audited. Permission "orders"."""
from decimal import Decimal

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.approval import automatic as approval
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.fields import form_status
from app.web.admin.orders_forms import PolicyForm
from app.web.common.envelope import attempt
from app.web.common.htmx import redirect_to, render_page


def _form_for(policy) -> PolicyForm:
    data = {name: getattr(policy, name) for name in approval.POLICY_FIELDS}
    data["quantity_factor"] = Decimal(policy.quantity_factor_pct) / 100
    return PolicyForm(formdata=None, data=data)


@bp.route("/orders/approval-rules", methods=["GET", "POST"])
@permission_required("orders")
def approval_policy():
    policy = approval.current_policy()
    if request.method == "GET":
        return render_page("admin/orders/policy.html", form=_form_for(policy), policy=policy)
    form = PolicyForm()
    if form.validate_on_submit() and attempt(form, approval.update_policy, current_user, **form.values()).ok:
        flash(_("自动审核规则已保存。"), "success")
        return redirect_to(url_for("admin.approval_policy"))
    return render_page("admin/orders/policy.html", status=form_status(form), form=form, policy=policy)
