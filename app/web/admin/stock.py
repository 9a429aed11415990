"""Brand HQ stock: every shared stock page (app/web/stock) behind the "stock" permission, plus
the brand's shelf-life rules for customer groups."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.inventory import ShelfLifeRule
from app.services.core.records import require
from app.services.inventory import rules
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.fields import AUDIENCE_LABELS, CHANNEL_LABELS
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.stock import register_stock_pages
from app.web.shared.stock.forms import ShelfLifeRuleForm

register_stock_pages(bp, permission_required("stock"), is_admin=True)


def _rules_page(form: ShelfLifeRuleForm, status: int = 200):
    return render_page("stock/shelf_life_rules.html", status=status, form=form, rules=rules.shelf_life_rules(),
                       action_form=ActionForm(), audience_labels=AUDIENCE_LABELS, channel_labels=CHANNEL_LABELS)


@bp.route("/stock/shelf-life", methods=["GET", "POST"])
@permission_required("stock")
def shelf_life_rules():
    form = ShelfLifeRuleForm()
    if not form.is_submitted():
        return _rules_page(form)
    if form.validate() and attempt(form, rules.create_shelf_life_rule, name=form.name.data,
                                   audience=form.audience.data, tier=form.tier.data, channel=form.channel.data,
                                   min_remaining_pct=form.min_remaining_pct.data, actor_id=current_user.id).ok:
        flash(_("保质期规则已添加。"), "success")
        return redirect_to(url_for("admin.shelf_life_rules"))
    return _rules_page(form, status=400)


@bp.route("/stock/shelf-life/<int:rule_id>/delete", methods=["POST"])
@permission_required("stock")
def shelf_life_rule_delete(rule_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        rule = require(ShelfLifeRule, rule_id)
        return ask_confirmation(_("删除保质期规则“%(name)s”？", name=rule.name), back_url=url_for("admin.shelf_life_rules"))
    flash_outcome(attempt(None, rules.delete_shelf_life_rule, rule_id, actor_id=current_user.id),
                  _("保质期规则已删除。"))
    return redirect_to(url_for("admin.shelf_life_rules"))
