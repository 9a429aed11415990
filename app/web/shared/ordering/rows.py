"""The catalog's product rows, each rendered once per process and reused (issue 15: rendering 50
rows was the largest part of a catalog page's CPU).

A row's HTML is cached under everything the row template reads (the product's name in the
page's language, spec, unit, quantities, image version, the buyer's price, the stock level, the
usual quantity, the promotion tags, the quantity in the cart), so a price, a stock level, a
promotion or a cart change makes another key: nothing can be stale, and no version needs
checking. What differs between users and pages but not between rows (the CSRF token, the way
back) is left as a slot in the cached HTML and filled once per page. Rows with an error, a typed
value or a note are rendered afresh. Visibility needs nothing here: a hidden product is not in
the page's query.

Only the counters whose `Pages.row_key` names the row template's inputs use the cache (the
retailer's phone rows); the others render their rows in the page's template."""
from __future__ import annotations

from typing import Callable

from flask import current_app
from markupsafe import Markup

from app.models import Product
from app.services.catalog.storefront import CatalogPage, ListedProduct

MAX_ROWS = 10_000  # ~1.3 KB each with its key: at most ~13 MB per process
_CSRF_SLOT, _NEXT_SLOT = "\x00csrf\x00", "\x00next\x00"


def retailer_row_key(p: ListedProduct, listing: CatalogPage, locale: str) -> tuple:
    """What templates/retailer/_product_row.html reads of one row (keep the two in step): the
    product's listed columns (its names in both languages, spec, unit, quantities, image version;
    the page's language is in the page's key), the buyer's price, the stock level, the usual
    quantity, the promotion tags and the quantity in the cart."""
    pid = p.id
    tags = listing.tags.get(pid)
    return (p, listing.prices[pid].unit_price_fen, listing.stock.get(pid), listing.usual_qty.get(pid),
            tuple(map(str, tags)) if tags else (), listing.cart.quantities.get(pid, 0))


def _cache() -> dict:
    return current_app.extensions.setdefault("catalog_rows", {})


def rows_html(template_name: str, row_key: Callable, products: list[Product], listing: CatalogPage,
              context: dict) -> Markup:
    """The rows of `products` as `template_name` renders them with `context` (row_context's),
    from the process's cache where the same row was rendered before."""
    text = context["text"]
    locale = text["locale"]
    special = context["row_errors"].keys() | context["row_values"].keys() | context["row_notes"].keys()
    template = current_app.jinja_env.get_template(template_name)
    # The slots stand in for the per-page hidden inputs; the page's constants go in the key.
    slotted = dict(text, csrf_input=Markup(_CSRF_SLOT), next_input=Markup(_NEXT_SLOT))
    page_key = (template_name, locale, text["set_url"], text["add_url"], text["max_qty"])
    cache = _cache()
    parts = []
    for p in products:
        if p.id in special:
            parts.append(template.render(dict(context, p=p, listing=listing, text=slotted)))
            continue
        key = (page_key, row_key(p, listing, locale))
        html = cache.get(key)
        if html is None:
            html = template.render(dict(context, p=p, listing=listing, text=slotted))
            if len(cache) >= MAX_ROWS:  # start again rather than track ages: a row renders again in ~50 µs
                cache.clear()
            cache[key] = html
        parts.append(html)
    joined = "".join(parts)
    return Markup(joined.replace(_CSRF_SLOT, text["csrf_input"]).replace(_NEXT_SLOT, text["next_input"]))
