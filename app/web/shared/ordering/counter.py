"""What one role's ordering counter is made of, and `register(bp, counter)`, which adds its routes
to the role's blueprint.

A `Counter` says who buys (`find_buyer`, from the URL's path values, scoped to the caller: a
service's NotFound becomes the 404 page), which checkout service places the order (`place`: the
shared checkout, approval.place_order, or the role's thin wrapper around it), where its pages
are (`routes`: action → (URL rule, endpoint), the role's URLs and endpoint names; an action
left out is not offered), and which templates show them (`Pages`: the role's pages extend the
role's layout and include the shared fragments). The views in catalog_views, cart_views and
checkout are the same for every counter."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, g, url_for
from flask_babel import lazy_gettext as _l

from app.models import Organisation, Product
from app.web.common.read_only import read_only


@dataclass(frozen=True)
class Pages:
    """The role's templates. They extend the role's layout; the cart fragment and the catalog
    list are the shared ones (templates/shared/ordering/) unless a role needs its own look.

    catalog / catalog_list: the catalog page and the list htmx swaps while searching;
    row: one product row; row_error: the htmx answer when an add names no orderable product;
    badge: the cart count shown in the navigation (sent out of band after a change), or None;
    cart_bar: the cart's count, total and checkout link under the catalog (out of band after a
    change), or None;
    cart: the cart page, or None when the cart sits on the catalog page (the rep's order page);
    cart_extra: included at the end of the cart fragment (the dealer's reorder suggestions);
    added: the small page a plain (no-JS) add or stepper tap lands on (the row, the cart bar and
    the way back to the catalog), with the `cart_added` route; without it the tap goes back to
    the whole catalog page;
    row_key: (product, listing, locale) → everything `row` reads of one product, when the catalog
    list may take its rows from the process's row cache (shared/ordering/rows.py), or None;
    frame_slots: the blocks of the catalog page that read the request's values, when the page's
    frame (its layout) may come from the process's cache (app/web/common/fragments.py), or ()."""
    catalog: str
    catalog_list: str = "shared/ordering/_catalog_list.html"
    row: str = "shared/ordering/_product_row.html"
    row_error: str = "shared/ordering/_row_error.html"
    badge: str | None = None
    cart_bar: str | None = None
    cart: str | None = None
    cart_fragment: str = "shared/ordering/_cart.html"
    cart_extra: str | None = None
    added: str | None = None
    row_key: Callable | None = None
    frame_slots: tuple[str, ...] = ()


@dataclass(frozen=True)
class Counter:
    """One role's ordering counter (see the module docstring).

    path_arg: the URL value that names the buyer (the rep's `retailer_id`), or None when the
    buyer is the caller's organisation; cart_id: the element id of the cart fragment;
    checkout_labels: the button (formatted with the buyer's `name`) and the button after
    changed prices; page_extras / cart_extras: the role's own additions to the catalog page and
    to the cart (the rep's usual products, the dealer's reorder suggestions)."""
    blueprint: str
    routes: dict[str, tuple[str, str]]
    order_detail: str
    find_buyer: Callable[..., Organisation]
    place: Callable
    pages: Pages
    cart_id: str = "cart"
    path_arg: str | None = None
    checkout_labels: tuple = (_l("提交订单"), _l("确认新价格并提交订单"))
    page_extras: Callable[[Organisation], dict] | None = None
    cart_extras: Callable[[Organisation], dict] | None = None

    # -- URLs ----------------------------------------------------------------------------------

    def endpoint(self, action: str) -> str:
        return f"{self.blueprint}.{self.routes[action][1]}"

    def buyer_args(self, buyer: Organisation) -> dict:
        return {self.path_arg: buyer.id} if self.path_arg else {}

    def url(self, action: str, buyer: Organisation, **values) -> str:
        return url_for(self.endpoint(action), **self.buyer_args(buyer), **values)

    @property
    def cart_on_catalog(self) -> bool:
        return self.pages.cart is None

    def cart_url(self, buyer: Organisation) -> str:
        if self.cart_on_catalog:
            return self.url("catalog", buyer) + f"#{self.cart_id}"
        return self.url("cart", buyer)

    def back_url(self, buyer: Organisation, target: str | None) -> str:
        """Where a plain add-to-cart form returns: the catalog page it came from (same search and
        page), never anywhere else."""
        catalog = self.url("catalog", buyer)
        if target:
            parts = urlsplit(target)
            if not parts.scheme and not parts.netloc and parts.path == catalog and "#" not in target:
                return target.rstrip("?")
        return catalog

    def checkout_label(self, buyer: Organisation, changed: bool) -> str:
        return str(self.checkout_labels[1 if changed else 0]) % {"name": buyer.name}


def thumb_url(product: Product) -> str | None:
    """The product's small image, or None when it has none. The version in the URL changes with
    the image, so the browser may cache it for good."""
    if not product.image_version:
        return None
    pattern = g.get("thumb_url_pattern")
    if pattern is None:  # url_for once per request, not once per row of a 50-row page
        pattern = g.thumb_url_pattern = url_for("media.product_thumb", product_id=_ID, version=_VERSION).replace(
            str(_ID), "{id}").replace(str(_VERSION), "{version}")
    return pattern.format(id=product.id, version=product.image_version)


_ID, _VERSION = 918273645, 546372819  # placeholders no real URL part contains


def register(bp: Blueprint, counter: Counter) -> None:
    """Add the counter's routes to the role's blueprint (behind the blueprint's role guard)."""
    from app.web.shared.ordering import cart_views, catalog_views, checkout

    views = {"catalog": catalog_views.catalog_page, "cart": cart_views.cart_page,
             "cart_add": catalog_views.cart_add, "cart_set": catalog_views.cart_set, "cart_line_update": cart_views.cart_line_update,
             "cart_line_remove": cart_views.cart_line_remove, "checkout": checkout.checkout,
             "order_again": cart_views.order_again, "coupon_apply": cart_views.coupon_apply,
             "coupon_remove": cart_views.coupon_remove, "cart_added": catalog_views.cart_added}
    methods = {"catalog": ["GET"], "cart": ["GET"], "cart_added": ["GET"]}
    # Pages that write nothing (see read_only): the catalog, the cart page and the page a plain
    # add lands on. A catalog with the cart beside it is left in a transaction. Without the cart
    # page's ROLLBACK the order cycle's statements stay prepared on the worker's connection.
    reads_only = {"cart_added"} | (set() if counter.cart_on_catalog else {"catalog", "cart"})
    bp.record_once(_install_template_helpers)
    for action, (rule, endpoint) in counter.routes.items():
        view = _bound(views[action], counter, endpoint)
        bp.add_url_rule(rule, endpoint, read_only(view) if action in reads_only else view,
                        methods=methods.get(action, ["POST"]))


def _install_template_helpers(state) -> None:
    from app.web.shared.ordering.pages import checkout_fields

    state.app.jinja_env.globals.setdefault("checkout_fields", checkout_fields)  # the cart macros'


def _bound(view: Callable, counter: Counter, name: str) -> Callable:
    """The view with the role's counter, under the endpoint's name (the path values pass through)."""

    def bound(**path):
        return view(counter, **path)

    bound.__name__ = bound.__qualname__ = name
    bound.__doc__ = view.__doc__
    return bound
