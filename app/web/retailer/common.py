"""Helpers every retailer page uses: the page renderer that supplies the cart badge, product
thumbnails, and the safe way back to a catalog page."""
from urllib.parse import urlsplit

from flask import url_for
from flask_login import current_user

from app.models import Product
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


def thumb_url(product: Product) -> str | None:
    """The product's small image, or None when it has none. The version in the URL changes with
    the image, so the browser may cache it for good."""
    if not product.image_version:
        return None
    return url_for("media.product_thumb", product_id=product.id, version=product.image_version)


def catalog_back_url(target: str | None) -> str:
    """Where a plain add-to-cart form returns: the catalog page it came from (same search and
    page), never anywhere else."""
    catalog = url_for("retailer.catalog")
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path == catalog and "#" not in target:
            return target.rstrip("?")
    return catalog
