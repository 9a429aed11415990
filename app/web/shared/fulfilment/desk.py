"""The seller's order desk, written once and mounted on the dealer's and the brand's blueprints:
the order list, an order's page with the decisions (approve, start picking, hold, reject, cancel),
shipping (whole or in parts, the rest kept open or cancelled), sign-off with the delivery code,
and the decisions on returns (views in orders.py, fulfil.py and returns.py).

One registration idiom: a role blueprint describes its desk in a `Desk` and calls

    register_desk(bp, Desk("dealer", "dealer/layout.html", names={"orders_list": "orders"}, ...))

which adds every route behind the desk's guard (the admin's "orders" permission), with the URL
and endpoint names each blueprint has always had. Each view receives the `Desk` as its first
argument. The seller is always the caller's organisation: `seller_order` and `seller_return`
are the one scoped loader of each kind (another seller's record is a service NotFound, which
the central error handler turns into a 404)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

from flask import Blueprint, url_for
from flask_login import current_user

from app.services.fulfilment import returns
from app.services.ordering import orders as ordering
from app.web.shared.fulfilment.forms import ACTION_ROUTES

# (rule, endpoint, view, methods, feature: the Desk flag the route needs, or None)
ROUTES: list[tuple[str, str, Callable, tuple[str, ...], str | None]] = []


def route(rule: str, endpoint: str, methods: tuple[str, ...] = ("GET",), feature: str | None = None):
    """Collect a desk view; `register_desk` adds it to each desk's blueprint."""

    def decorator(view):
        ROUTES.append((rule, endpoint, view, methods, feature))
        return view

    return decorator


@dataclass(frozen=True)
class Desk:
    """blueprint: the role blueprint's name; layout: its page layout template; guard: a decorator
    put on every desk view (None: the blueprint's role guard is enough); names: endpoint names of
    this blueprint that differ from the shared ones; heading: the list's heading (default 订单);
    subnav: a template shown above the list.
    Features: review (the automatic review's reasons on the order page, the waiting count and the
    re-check), printing (boxes on the list for the role's print pages), documents (the order's
    document panel), returns_list (a list of the seller's returns), opens_on_action (the list opens
    on the orders to act on: submitted or on hold)."""
    blueprint: str
    layout: str
    guard: Callable[[Callable], Callable] | None = None
    names: dict[str, str] = field(default_factory=dict)
    heading: str | None = None
    subnav: str | None = None
    review: bool = False
    printing: bool = False
    documents: bool = False
    returns_list: bool = False
    opens_on_action: bool = False  # the list without a status shows the orders waiting for a decision

    def endpoint(self, name: str) -> str:
        return f"{self.blueprint}.{self.names.get(name, name)}"

    def url(self, name: str, **values) -> str:
        return url_for(self.endpoint(name), **values)

    @property
    def endpoints(self) -> dict[str, str | None]:
        """Shared endpoint name → this blueprint's endpoint (None where this desk lacks the page)."""
        return {endpoint: self.endpoint(endpoint) if not feature or getattr(self, feature) else None
                for _rule, endpoint, _view, _methods, feature in ROUTES}

    def context(self) -> dict:
        return {"desk": self, "layout": self.layout, "endpoints": self.endpoints,
                "action_endpoints": {to: self.endpoint(f"order_{slug}") for to, slug in ACTION_ROUTES.items()}}


def _bound(view: Callable, desk: Desk, endpoint: str) -> Callable:
    @functools.wraps(view)
    def bound(**values):
        return view(desk, **values)

    bound.__name__ = endpoint
    return desk.guard(bound) if desk.guard else bound


def register_desk(bp: Blueprint, desk: Desk) -> None:
    from app.web.shared.fulfilment import fulfil, orders, returns as return_views  # noqa: F401  (their routes)

    for rule, endpoint, view, methods, feature in ROUTES:
        if feature and not getattr(desk, feature):
            continue
        bp.add_url_rule(rule, desk.names.get(endpoint, endpoint), _bound(view, desk, endpoint), methods=list(methods))


def seller_order(order_id: int):
    """The caller's organisation's order with lines, history, buyer and seller (NotFound otherwise)."""
    return ordering.order_detail(ordering.orders_sold_by(current_user.org_id), order_id)


def seller_return(return_id: int):
    """A return of an order the caller's organisation sold (NotFound otherwise)."""
    return returns.return_for_seller(current_user.org_id, return_id)
