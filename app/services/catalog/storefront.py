"""What a buyer browses: the products it may order, with its own prices, in a fixed number of
queries (count, page, contracts, price lists, cart, categories) whatever the catalog size."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Category, Organisation, Product, User
from app.services.ordering import cart
from app.services.core.paging import Page, paginate
from app.services.pricing.prices import Price, quote_prices, region_profile
from app.services.catalog.visibility import visible_clause, visible_products
from app.services.core.clock import now_utc
from app.services.promotions import index as promo_index

MAX_SEARCH_LENGTH = 50


@dataclass
class CatalogPage:
    page: Page  # of Product
    prices: dict[int, Price]  # product id → the buyer's price for the minimum order quantity
    in_cart: dict[int, int]  # product id → quantity already in the cart (the whole cart)
    categories: list[Category]
    tags: dict[int, list] = field(default_factory=dict)  # product id → its item promotions' wording

    @property
    def cart_count(self) -> int:
        return len(self.in_cart)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_clause(term: str):
    """Name (Chinese or English), code, pinyin initials ("nfsq" finds 农夫山泉) or barcode."""
    like = _like(term)
    conditions = [Product.name_zh.like(like, escape="\\"), Product.name_en.ilike(like, escape="\\"),
                  Product.code.ilike(like, escape="\\"), Product.pinyin.like(_like(term.lower()), escape="\\")]
    if term.isdigit():
        conditions.append(Product.gtin.like(term + "%"))
    return or_(*conditions)


def browse_catalog(owner: User, buyer: Organisation, search: str = "", category_id: int | None = None,
                   page: int = 1, per_page: int = 50) -> CatalogPage:
    """One page of the products `buyer` may order, with its prices and `owner`'s cart for it."""
    profile = region_profile(buyer)
    query = visible_products(profile).join(Category, Category.id == Product.category_id)
    term = (search or "").strip()[:MAX_SEARCH_LENGTH]
    if term:
        query = query.where(search_clause(term))
    if category_id:
        query = query.where(Product.category_id == category_id)
    result = paginate(query.order_by(Category.sort_order, Category.id, Product.code), page, per_page)
    products = {p.id: p for p in result.items}
    prices = quote_prices(profile, {p.id: p.min_order_qty for p in result.items}, products=products)
    # The promotions' version rides on the categories query: tags cost no query of their own.
    rows = db.session.execute(select(Category, promo_index.version_column().label("v"))
                              .order_by(Category.sort_order, Category.id)).all()
    categories = [row[0] for row in rows]
    tags = promotion_tags(buyer, profile, result.items, rows[0].v) if rows and result.items else {}
    return CatalogPage(result, prices, cart.cart_quantities(owner, buyer), categories, tags)


def promotion_tags(buyer: Organisation, profile, products, version) -> dict[int, list]:
    """{product id: [rule wording]} of the live item promotions the buyer would get on each
    product (from the process's index: no query)."""
    index = promo_index.index_for(version)
    if not index.by_id:
        return {}
    facts, now = cart.promotion_buyer(buyer, profile), now_utc()
    tags = {}
    for product in products:
        found = index.tags_for(product.id, product.category_id, facts, now)
        if found:
            tags[product.id] = [promo.rule_text(product.unit) for promo in found[:2]]
    return tags


@dataclass
class CatalogRow:
    product: Product
    prices: dict[int, Price]
    in_cart: dict[int, int]
    tags: dict[int, list] = field(default_factory=dict)

    @property
    def cart_count(self) -> int:
        return len(self.in_cart)


def catalog_row(owner: User, buyer: Organisation, product_id: int) -> CatalogRow | None:
    """One product as the catalog shows it (after adding it to the cart), or None when the
    buyer may not see it."""
    profile = region_profile(buyer)
    row = db.session.execute(select(Product, promo_index.version_column())
                             .where(Product.id == product_id, visible_clause(profile))).first()
    if row is None:
        return None
    product = row[0]
    prices = quote_prices(profile, {product.id: product.min_order_qty}, products={product.id: product})
    return CatalogRow(product, prices, cart.cart_quantities(owner, buyer), promotion_tags(buyer, profile, [product], row[1]))
