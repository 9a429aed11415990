"""Ordering on a retailer's behalf: the ordering counter (app.web.shared.ordering) with the rep as
the cart's owner and the retailer on the rep's route as the buyer (from the path; any other
retailer is a 404). One page holds the catalog at the retailer's prices, its usual products (one
tap adds the usual quantity: the rep's own step) and the cart. Everything works without
JavaScript."""
from flask import abort
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models import Organisation
from app.services.field_sales import portal as rep_portal
from app.web.common.envelope import attempt, error_status
from app.web.common.forms import ActionForm
from app.web.rep import bp
from app.web.shared.ordering import Counter, Pages, cart_changed, register, show_cart


def find_retailer(retailer_id: int) -> Organisation:
    return rep_portal.rep_retailer(current_user, retailer_id)[0]


def place_for_retailer(rep, retailer: Organisation, *args, **kwargs):
    return rep_portal.place_order_for_retailer(rep, retailer.id, *args, **kwargs)


def order_page_extras(retailer: Organisation) -> dict:
    return dict(retailer=retailer, usual=rep_portal.usual_products(retailer),
                usual_days=rep_portal.USUAL_PRODUCTS_DAYS, usual_in_place=True)


COUNTER = Counter(
    blueprint="rep", path_arg="retailer_id", cart_id="rep-cart",
    routes={"catalog": ("/retailers/<int:retailer_id>/order", "order_entry"),
            "cart_add": ("/retailers/<int:retailer_id>/cart/add", "cart_add"),
            "cart_line_update": ("/retailers/<int:retailer_id>/cart/lines/<int:line_id>", "cart_line_update"),
            "cart_line_remove": ("/retailers/<int:retailer_id>/cart/lines/<int:line_id>/remove", "cart_line_remove"),
            "checkout": ("/retailers/<int:retailer_id>/checkout", "checkout"),
            "coupon_apply": ("/retailers/<int:retailer_id>/cart/coupon", "coupon_apply"),
            "coupon_remove": ("/retailers/<int:retailer_id>/cart/coupon/remove", "coupon_remove")},
    order_detail="order_detail", find_buyer=find_retailer, place=place_for_retailer,
    pages=Pages(catalog="rep/order.html"), page_extras=order_page_extras,
    checkout_labels=(_l("代 %(name)s 提交订单"), _l("确认新价格并代客户提交")))

register(bp, COUNTER)


@bp.post("/retailers/<int:retailer_id>/usual/<int:product_id>/add")
def usual_add(retailer_id: int, product_id: int):
    """One tap on a usual product: its usual quantity goes into the cart."""
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = attempt(None, rep_portal.add_usual_product, current_user, retailer_id, product_id)
    retailer = find_retailer(retailer_id)
    if not outcome.ok:
        return show_cart(COUNTER, retailer, error_status(), notice=outcome.error.message)
    usual = outcome.result
    message = _("已加入购物车：%(name)s %(n)d%(unit)s。", name=usual.product.name(str(get_locale())),
                n=usual.usual_qty, unit=usual.product.unit)
    return cart_changed(COUNTER, retailer, message)
