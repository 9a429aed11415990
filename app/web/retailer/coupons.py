"""The retailer's coupons (我的优惠券): the coupons it may claim (领券) and the codes issued to it,
each with a button that puts the code on the cart. Services: promotions/claims.py."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.ordering import cart
from app.services.pricing.prices import region_profile
from app.services.promotions import claims
from app.services.promotions import index as promo_index
from app.web.common.access import current_org
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to
from app.web.retailer import bp
from app.web.retailer.common import retailer_page


def _facts():
    shop = current_org()
    return shop, cart.promotion_buyer(shop, region_profile(shop), promo_index.index_for(promo_index.current_version()))


@bp.route("/coupons")
def coupons():
    shop, facts = _facts()
    return retailer_page("retailer/coupons.html", offers=claims.claimable_for(facts), codes=claims.my_codes(shop.id),
                         action_form=ActionForm())


@bp.route("/coupons/<int:promotion_id>/claim", methods=["POST"])
def coupon_claim(promotion_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    shop, facts = _facts()
    outcome = attempt(None, claims.claim, shop, facts, promotion_id)
    flash_outcome(outcome, _("已领取，券码 %(code)s。", code=outcome.result.code) if outcome.ok else "")
    return redirect_to(url_for("retailer.coupons"))
