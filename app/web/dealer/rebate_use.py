"""The replenishment cart's rebate-balance lane: the dealer ticks (or unticks) "use my rebate
balance" with a plain form (htmx swaps the cart; without JS the cart page reloads). The amount
is computed by the cart quote (services/rebates/lane.py) and taken at checkout."""
from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.services.rebates import lane
from app.web.common.access import current_org
from app.web.common.envelope import attempt
from app.web.common.forms import ActionForm
from app.web.dealer import bp
from app.web.dealer.replenishment import COUNTER
from app.web.shared.ordering import cart_changed


@bp.post("/replenishment/cart/rebate")
def replenishment_rebate_use():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    dealer = current_org()
    use = request.form.get("use") == "1"
    attempt(None, lane.choose, current_user, dealer, use)
    return cart_changed(COUNTER, dealer, _("本单使用返利余额抵扣。") if use else _("本单不使用返利余额。"))
