"""Replenishment, the dealer buying from the brand: the ordering counter (app.web.shared.ordering)
with the dealer as the buyer, its own prices and the products the brand shows dealers; checkout
through replenishment.place_replenishment (the shared checkout for a dealer). The dealer's own
step: its reorder suggestions under the cart, all added in one go. Its replenishment orders are
in replenishment_orders.py."""
from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models import Organisation
from app.services.ordering import replenishment
from app.web.common.access import current_org
from app.web.common.envelope import attempt
from app.web.common.forms import ActionForm
from app.web.dealer import bp
from app.web.shared.ordering import Counter, Pages, cart_changed, register


def suggestions(dealer: Organisation) -> dict:
    found, covered = replenishment.reorder_plan(current_user, dealer)
    return dict(suggestions=found, covered=covered, suggest_form=ActionForm())


COUNTER = Counter(
    blueprint="dealer", cart_id="repl-cart",
    routes={"catalog": ("/replenishment/", "replenishment_catalog"),
            "cart": ("/replenishment/cart", "replenishment_cart"),
            "cart_add": ("/replenishment/cart/add", "replenishment_cart_add"),
            "cart_line_update": ("/replenishment/cart/lines/<int:line_id>", "replenishment_cart_line_update"),
            "cart_line_remove": ("/replenishment/cart/lines/<int:line_id>/remove", "replenishment_cart_line_remove"),
            "checkout": ("/replenishment/cart/checkout", "replenishment_checkout"),
            "order_again": ("/replenishment/orders/<int:order_id>/reorder", "replenishment_reorder")},
    order_detail="replenishment_detail", find_buyer=current_org, place=replenishment.place_replenishment,
    pages=Pages(catalog="dealer/replenishment/catalog.html", catalog_list="dealer/replenishment/_catalog.html",
                row="dealer/replenishment/_row.html", row_error="dealer/replenishment/_row_error.html",
                badge="dealer/replenishment/_cart_link.html", cart="dealer/replenishment/cart.html",
                cart_extra="dealer/replenishment/_suggestions.html"),
    cart_extras=suggestions, checkout_labels=(_l("提交补货单"), _l("确认新价格并提交补货单")))

register(bp, COUNTER)


@bp.post("/replenishment/cart/suggestions")
def replenishment_add_suggestions():
    """Put the reorder suggestions (from the dealer's stock and reorder points) in the cart."""
    if not ActionForm().validate_on_submit():
        abort(400)
    dealer = current_org()
    outcome = attempt(None, replenishment.add_suggestions_to_cart, current_user, dealer)
    if not outcome.ok:
        return cart_changed(COUNTER, dealer, outcome.error.message, "warning")
    return cart_changed(COUNTER, dealer, _("已按补货建议加入 %(n)d 种商品。", n=len(outcome.result.added)))
