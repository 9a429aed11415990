"""What a buyer browses: the products it may order, with its own prices, in a fixed number of
queries (count, page, contracts, price lists, cart, categories) whatever the catalog size."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, or_, select

from app.extensions import db
from app.models import Category, Organisation, Product, User
from app.services.ordering import cart
from app.services.core.paging import Page, paginate
from app.services.pricing.prices import Price, quote_prices, region_profile
from app.services.catalog.visibility import visible_clause, visible_products

MAX_SEARCH_LENGTH = 50


@dataclass
class CatalogPage:
    page: Page  # of Product
    prices: dict[int, Price]  # product id → the buyer's price for the minimum order quantity
    in_cart: dict[int, int]  # product id → quantity already in the cart (the whole cart)
    categories: list[Category]

    @property
    def cart_count(self) -> int:
        return len(self.in_cart)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_conditions(term: str) -> list[tuple]:
    """(condition, rank) pairs, best rank first: the Chinese name, then its pinyin (initials,
    "kl", or in full, "kele"), then code and barcode, then a word of the English name starting
    with the term ("Cola" finds "Coca Cola"; "kl" does not find "Pickled")."""
    like = _like(term)
    letters = _like(term.lower().replace(" ", ""))
    prefix = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = [(Product.name_zh.like(like, escape="\\"), 0),
                  (or_(Product.pinyin.like(letters, escape="\\"), Product.pinyin_full.like(letters, escape="\\")), 1),
                  (Product.code.ilike(like, escape="\\"), 2)]
    if term.isdigit():
        conditions.append((Product.gtin.like(term + "%"), 2))
    english_word = or_(*(Product.name_en.ilike(start + prefix, escape="\\") for start in ("", "% ", "%(")))
    conditions.append((english_word, 3))
    return conditions


def search_clause(term: str):
    """Name (Chinese or a word of the English one), code, pinyin ("nfsq" or "nongfushanquan"
    finds 农夫山泉) or barcode."""
    return or_(*(condition for condition, _rank in _search_conditions(term)))


def search_rank(term: str):
    """An ORDER BY expression: Chinese-name matches before pinyin, code and English-name ones."""
    return case(*((condition, rank) for condition, rank in _search_conditions(term)), else_=4)


def browse_catalog(owner: User, buyer: Organisation, search: str = "", category_id: int | None = None,
                   page: int = 1, per_page: int = 50) -> CatalogPage:
    """One page of the products `buyer` may order, with its prices and `owner`'s cart for it."""
    profile = region_profile(buyer)
    query = visible_products(profile).join(Category, Category.id == Product.category_id)
    term = (search or "").strip()[:MAX_SEARCH_LENGTH]
    order = [Category.sort_order, Category.id, Product.code]
    if term:
        query = query.where(search_clause(term))
        order.insert(0, search_rank(term))
    if category_id:
        query = query.where(Product.category_id == category_id)
    result = paginate(query.order_by(*order), page, per_page)
    products = {p.id: p for p in result.items}
    prices = quote_prices(profile, {p.id: p.min_order_qty for p in result.items}, products=products)
    categories = list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))
    return CatalogPage(result, prices, cart.cart_quantities(owner, buyer), categories)


@dataclass
class CatalogRow:
    product: Product
    prices: dict[int, Price]
    in_cart: dict[int, int]

    @property
    def cart_count(self) -> int:
        return len(self.in_cart)


def catalog_row(owner: User, buyer: Organisation, product_id: int) -> CatalogRow | None:
    """One product as the catalog shows it (after adding it to the cart), or None when the
    buyer may not see it."""
    profile = region_profile(buyer)
    product = db.session.scalar(select(Product).where(Product.id == product_id, visible_clause(profile)))
    if product is None:
        return None
    prices = quote_prices(profile, {product.id: product.min_order_qty}, products={product.id: product})
    return CatalogRow(product, prices, cart.cart_quantities(owner, buyer))
