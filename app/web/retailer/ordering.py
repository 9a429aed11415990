"""The retailer's ordering counter (app.web.shared.ordering): the shop orders for itself, from its
catalog at its own prices, with its cart on a page of its own and the cart badge in the
navigation, phone rows with a stepper and the cart bar under the catalog. Works without
JavaScript."""
from app.services.approval import automatic as approval
from app.web.common.access import current_org
from app.web.retailer import bp
from app.web.shared.ordering import Counter, Pages, register
from app.web.shared.ordering.rows import retailer_row_key

COUNTER = Counter(
    blueprint="retailer",
    routes={"catalog": ("/catalog", "catalog"), "cart": ("/cart", "cart_page"), "cart_add": ("/cart/add", "cart_add"),
            "cart_set": ("/cart/set", "cart_set"),
            "cart_line_update": ("/cart/lines/<int:line_id>", "cart_line_update"),
            "cart_line_remove": ("/cart/lines/<int:line_id>/remove", "cart_line_remove"),
            "checkout": ("/cart/checkout", "checkout"),
            "coupon_apply": ("/cart/coupon", "coupon_apply"), "coupon_remove": ("/cart/coupon/remove", "coupon_remove"),
            "order_again": ("/orders/<int:order_id>/reorder", "order_again"),
            "cart_added": ("/cart/added", "cart_added")},
    order_detail="order_detail", find_buyer=current_org, place=approval.place_order,
    pages=Pages(catalog="retailer/catalog.html", cart="retailer/cart.html", badge="retailer/_cart_badge.html",
                row="retailer/_product_row.html", cart_bar="retailer/_cart_bar.html",
                added="retailer/cart_added.html", row_key=retailer_row_key,
                # base.html's and retailer/layout.html's blocks that show this request's values
                frame_slots=("user_name", "user_org", "locale_form", "cart_badge", "notification_badge", "flashes",
                             "content")))

register(bp, COUNTER)
