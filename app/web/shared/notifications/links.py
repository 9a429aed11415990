"""Where a notice leads: its subject (kind and ids) and the role it was addressed to, turned into
a route of that role's blueprint when the notice is shown, so the stored notice names no URL and
a renamed route cannot break it. A (subject, role) pair with no page gives no link.

    order        the recipient bought it: the retailer's order, the dealer's replenishment order
    sales_order  the recipient sells it: the dealer's or the brand's order desk
    return       the dealer's return page; the retailer's returns list
    stock        one product (id) in one warehouse (scope_id)
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for

from app.models import Notification

# (subject, role) → (endpoint, how to make its values from the subject's ids)
TARGETS = {
    ("order", "retailer"): ("retailer.order_detail", lambda n: {"order_id": n.subject_id}),
    ("order", "dealer"): ("dealer.replenishment_detail", lambda n: {"order_id": n.subject_id}),
    ("order", "rep"): ("rep.order_detail", lambda n: {"order_id": n.subject_id}),
    ("sales_order", "dealer"): ("dealer.order_detail", lambda n: {"order_id": n.subject_id}),
    ("sales_order", "admin"): ("admin.order_detail", lambda n: {"order_id": n.subject_id}),
    ("return", "dealer"): ("dealer.return_detail", lambda n: {"return_id": n.subject_id}),
    ("return", "admin"): ("admin.return_detail", lambda n: {"return_id": n.subject_id}),
    ("return", "retailer"): ("retailer.returns_list", lambda n: {}),
    ("stock", "dealer"): ("dealer.stock_product", lambda n: {"warehouse_id": n.subject_scope_id,
                                                             "product_id": n.subject_id}),
    ("stock", "admin"): ("admin.stock_product", lambda n: {"warehouse_id": n.subject_scope_id,
                                                           "product_id": n.subject_id}),
}


def target(notification: Notification) -> tuple[str, dict] | None:
    """(endpoint, values) of the page the notice leads to, or None."""
    if notification.subject is None:
        return None
    found = TARGETS.get((notification.subject, notification.role))
    if found is None:
        return None
    endpoint, values = found
    return endpoint, values(notification)


def notice_link(notification: Notification) -> str | None:
    """The page's path, in a request (the notification centre)."""
    found = target(notification)
    return url_for(found[0], **found[1]) if found else None


def external_link(notification: Notification, base_url: str | None = None) -> str | None:
    """The page's absolute URL outside any request (the e-mail job), on PUBLIC_URL."""
    found = target(notification)
    if found is None:
        return None
    site = urlsplit(base_url or current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/", url_scheme=site.scheme or "http")
    return adapter.build(found[0], found[1], force_external=True)
