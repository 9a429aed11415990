"""What every retailer page uses: the page renderer that supplies the cart badge."""
from flask_login import current_user

from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.web.common.access import current_org
from app.web.common.htmx import render_page


def retailer_page(page: str, fragment: str | None = None, status: int = 200, **context):
    """render_page with `cart_count` for the badge in the layout (one query unless the view
    already knows it)."""
    if "cart_count" not in context:
        context["cart_count"] = cart.cart_count(current_user, current_org())
    return render_page(page, fragment, status, **context)


def bought_order(order_id: int):
    """An order the retailer bought (NotFound, hence 404, for anyone else's)."""
    return ordering.order_detail(ordering.orders_bought_by(current_user.org_id), order_id)
