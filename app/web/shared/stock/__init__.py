"""Stock pages shared by the admin and dealer blueprints.

The views are written once and registered on both blueprints (`register_stock_pages`), so a
dealer's page and the brand's page are the same code; what differs comes from the caller's
StockScope (the brand sees every warehouse and manages its own; a dealer sees and manages only
its own). Templates live in templates/stock/ and extend the caller's role layout; their links
use relative endpoints (`url_for('.stock_list')`) so they stay inside the caller's blueprint.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint

ROUTES: list[tuple[str, str, Callable, tuple[str, ...], bool]] = []


def route(rule: str, methods: tuple[str, ...] = ("GET",), admin_only: bool = False):
    """Collect a view; `register_stock_pages` adds it to a blueprint behind the blueprint's guard."""

    def decorator(view):
        ROUTES.append((rule, view.__name__, view, methods, admin_only))
        return view

    return decorator


def register_stock_pages(bp: Blueprint, guard: Callable[[Callable], Callable], is_admin: bool) -> None:
    from app.web.shared.stock import (actions, balances, counts, imports, reports,  # noqa: F401
                               transfers, warehouses)

    for rule, endpoint, view, methods, admin_only in ROUTES:
        if admin_only and not is_admin:
            continue
        bp.add_url_rule(rule, endpoint, guard(view), methods=list(methods))
