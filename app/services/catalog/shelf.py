"""The orderable catalog as the catalog page lists it (every active product in the catalog's order,
with its visibility rules), one copy per process, read again when the database's catalog_version
token differs from the one it was read at: triggers change the token on every write to products,
visibility rules and categories, whoever writes (migration h16_catalog_version).

The catalog page then needs no products query of its own (issue 15: ordering, counting and
filtering the ~200 products by visibility was most of PostgreSQL's time on a catalog page, and
making the page's 50 rows a fifth of its Python): the page's products are filtered here by the
customer's visibility (the same rule as visibility.visible_clause), and the token, with the
page's stock levels, rides on the categories query the page runs anyway (storefront)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select

from app.models import CatalogVersion, Category, Product, ProductStatus, ProductVisibility
from app.services.core import driver_sql
from app.services.pricing.prices import CustomerProfile

MAX_AUDIENCES = 2_000  # visible lists kept per shelf: (kind, tier, channel, region chain)
_KEY = "catalog_shelf"


class ListedProduct(NamedTuple):
    """A product as the catalog lists it: the columns of `products` that the catalog's rows, its
    prices, promotion tags and add to cart read, from a plain row (issue 15: building 50 ORM
    objects and reading their instrumented attributes was a fifth of a catalog page's CPU).
    Reads like a Product for them (`p.id`, `p.unit`, `p.name(locale)`); nothing writes it."""
    id: int
    code: str
    category_id: int
    name_zh: str
    name_en: str
    spec: str
    unit: str
    pack_size: int
    min_order_qty: int
    order_multiple: int
    tax_rate: int
    base_price_fen: int
    image_version: int

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_zh


LISTED = tuple(getattr(Product, name) for name in ListedProduct._fields)
LISTED_WIDTH = len(LISTED)


def listed(row) -> ListedProduct:
    """The ListedProduct of a row that starts with the LISTED columns."""
    return ListedProduct._make(row[:LISTED_WIDTH])


def token_column():
    """The catalog's token as a scalar subquery, for a query the caller runs anyway."""
    return select(CatalogVersion.token).where(CatalogVersion.id == 1).scalar_subquery()


@dataclass(frozen=True)
class Shelf:
    token: str | None
    products: tuple[ListedProduct, ...]  # the active products, in the catalog's order
    rules: dict[int, tuple[tuple, ...]]  # product id -> its visibility rules (audience, tier, channel, region id)
    # (kind, tier, channel, region chain) -> the products such customers see: shops alike share them
    by_audience: dict = field(default_factory=dict, compare=False, repr=False)

    def visible_to(self, customer: CustomerProfile) -> tuple[ListedProduct, ...]:
        """The products `customer` may see and order, in the catalog's order: those without rules
        and those one of whose rules matches (visibility.visible_clause, in Python)."""
        audience = (customer.kind, customer.tier, customer.channel, customer.region_ids or ())
        shown = self.by_audience.get(audience)
        if shown is None:
            if len(self.by_audience) >= MAX_AUDIENCES:  # start again rather than track ages
                self.by_audience.clear()
            rules = self.rules
            shown = self.by_audience[audience] = tuple(
                p for p in self.products if p.id not in rules or any(_matches(rule, *audience) for rule in rules[p.id]))
        return shown


def _matches(rule: tuple, kind, tier, channel, region_ids: tuple) -> bool:
    # As in SQL: a field set on the rule matches only an equal value (a customer's NULL matches nothing).
    audience, rule_tier, rule_channel, region_id = rule
    return ((audience is None or audience == kind) and (rule_tier is None or rule_tier == tier)
            and (rule_channel is None or rule_channel == channel) and (region_id is None or region_id in region_ids))


@lru_cache(maxsize=1)
def _shelf_statement():
    rules = (select(func.json_agg(func.json_build_array(ProductVisibility.audience, ProductVisibility.tier,
                                                         ProductVisibility.channel, ProductVisibility.region_id)))
             .where(ProductVisibility.product_id == Product.id).scalar_subquery())
    return (select(*LISTED, rules.label("rules"), token_column().label("token"))
            .join(Category, Category.id == Product.category_id)
            .where(Product.status == ProductStatus.ACTIVE.value)
            .order_by(Category.sort_order, Category.id, Product.code))


def current() -> Shelf | None:
    """The process's shelf as last read (its token may be behind the database's: check it)."""
    return current_app.extensions.get(_KEY)


def load() -> Shelf:
    """The shelf read now (one statement, one snapshot), kept for the process unless the database
    has no token row (emptied by hand: never cached)."""
    rows = driver_sql.rows("catalog-shelf", _shelf_statement, {})
    token = rows[0].token if rows else driver_sql.rows("catalog-token", lambda: select(token_column()), {})[0][0]
    shelf = Shelf(token, tuple(listed(row) for row in rows),
                  {row.id: tuple(map(tuple, row.rules)) for row in rows if row.rules})
    if token is not None:
        current_app.extensions[_KEY] = shelf
    return shelf
