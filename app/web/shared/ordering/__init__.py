"""The ordering counter, written once: the catalog with add to cart (plain POST and htmx), the
cart's lines, and checkout (re-pricing, the idempotency key, the result told the same way to
every role). It is mounted on three blueprints, each with its own `Counter`:

- retailer: the shop orders for itself (the buyer is the caller's organisation);
- rep: the rep orders on a shop's behalf (the buyer comes from the path, on the rep's route);
- dealer: replenishment, the dealer orders from the brand.

    COUNTER = Counter(blueprint="retailer", routes={...}, find_buyer=current_org, place=..., pages=Pages(...))
    register(bp, COUNTER)

Templates: templates/shared/ordering/ (the cart fragment, the catalog list and row), included
by the role's own pages, which extend the role's layout."""
from app.web.shared.ordering.counter import Counter, Pages, register, thumb_url  # noqa: F401
from app.web.shared.ordering.cart_views import cart_changed  # noqa: F401
from app.web.shared.ordering.pages import show_cart, show_catalog  # noqa: F401
