"""What a buyer browses: the products it may order, with its own prices, how much stock its
dealer has (as a level: in stock, low, out of stock; never the quantity) and its usual products,
in a fixed number of queries (count, page with stock levels, contracts, price lists, cart,
categories) whatever the catalog size."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import ARRAY, Integer, bindparam, case, cast, desc, func, or_, select

from app.extensions import db
from app.models import (Category, Order, OrderLine, OrderStatus, Organisation, OrgKind, Product, StockBalance,
                        User)
from app.services.core import driver_sql
from app.services.core.clock import now_utc
from app.services.ordering import cart
from app.services.core.paging import Page, counted_page_query, paginate_counted, paginate_list
from app.services.inventory.orders import default_warehouse_select
from app.services.pricing.prices import Price, quote_prices, region_profile, token_read
from app.services.pricing.prices import token_column as prices_token_column
from app.services.catalog import shelf as shelf_store
from app.services.catalog.shelf import LISTED, ListedProduct, listed
from app.services.catalog.visibility import visible_clause, visible_clause_bound, visible_params
from app.services.promotions import index as promo_index

MAX_SEARCH_LENGTH = 50
USUAL_DAYS = 90  # "常购": what the buyer ordered over this many days, most often first
LOW_STOCK_ORDERS = 5  # "紧张" below this many minimum orders left
VOID_STATUSES = (OrderStatus.REJECTED.value, OrderStatus.CANCELLED.value)


def _core_rows(statement, params: dict):
    """`statement` (columns, no ORM entity) on the session's connection, in its transaction:
    plain rows without the ORM's execution steps; pending changes flushed first, as the ORM's
    autoflush would."""
    db.session.flush()
    return db.session.connection().execute(statement, params)


@dataclass
class CatalogPage:
    page: Page  # of ListedProduct
    prices: dict[int, Price]  # product id → the buyer's price for the minimum order quantity
    cart: cart.CartSummary  # the buyer's cart (quantities per product, count, total)
    categories: list  # rows with .id, .code, .name_zh, .name_en, .sort_order
    stock: dict[int, str] = field(default_factory=dict)  # product id → "in" | "low" | "out" (none: unknown)
    usual_qty: dict[int, int] = field(default_factory=dict)  # usual products → the usual quantity
    tags: dict[int, list] = field(default_factory=dict)  # product id → its item promotions' wording

    @property
    def in_cart(self) -> dict[int, int]:
        return self.cart.quantities

    @property
    def cart_count(self) -> int:
        return self.cart.count


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


def stock_owner_id(buyer: Organisation) -> int | None:
    """Whose stock a buyer's catalog shows: a retailer's assigned dealer (the seller of its
    orders in the usual case), None when unknown (then no level is shown)."""
    return buyer.dealer_id if buyer.kind == OrgKind.RETAILER.value else None


def _available_column(owner_id: int):
    """On hand less reserved of the product in the owner's ordering warehouse (its default one,
    else its first active one: the warehouse an approval reserves from)."""
    warehouse = default_warehouse_select(owner_id).scalar_subquery()
    return (select(func.coalesce(func.sum(StockBalance.on_hand - StockBalance.reserved), 0))
            .where(StockBalance.warehouse_id == warehouse, StockBalance.product_id == Product.id)
            .scalar_subquery())


def stock_level(product: Product, available: int) -> str:
    if available < product.min_order_qty:
        return "out"
    if available < LOW_STOCK_ORDERS * product.min_order_qty:
        return "low"
    return "in"


def _usual_counts(buyer_id, since):
    return (select(OrderLine.product_id, func.count(func.distinct(OrderLine.order_id)).label("times"),
                   func.sum(OrderLine.qty).label("qty"))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.buyer_id == buyer_id, Order.created_at >= since, Order.status.not_in(VOID_STATUSES))
            .group_by(OrderLine.product_id).subquery())


def _browse_query(visible, owner_id=None, usual_counts=None, term: str = "", category_id=None):
    """The catalog's products (values or bound parameters alike), in the catalog's order."""
    query = select(*LISTED).where(visible).join(Category, Category.id == Product.category_id)
    order = [Category.sort_order, Category.id, Product.code]
    if usual_counts is not None:
        query = query.join(usual_counts, usual_counts.c.product_id == Product.id).add_columns(
            usual_counts.c.times, usual_counts.c.qty)
        order = [desc(usual_counts.c.times), desc(usual_counts.c.qty), Product.id]
    if owner_id is not None:
        query = query.add_columns(_available_column(owner_id).label("available"))
    if term:
        query = query.where(search_clause(term))
        order.insert(0, search_rank(term))
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    return query.order_by(*order)


@lru_cache(maxsize=16)
def _browse_statement(with_stock: bool, usual: bool, by_category: bool):
    """The page query of a catalog without a search term, built (and compiled) once per shape:
    the customer, its dealer, the category and the page are bound parameters."""
    return counted_page_query(_browse_query(
        visible_clause_bound(), bindparam("owner_id") if with_stock else None,
        _usual_counts(bindparam("buyer_id"), bindparam("since")) if usual else None,
        category_id=bindparam("category_id") if by_category else None))


def _stock_column():
    """[[product id, available], ...] (or NULL) of the listed products in the owner's ordering
    warehouse (_available_column's), as one JSON value: a product without a balance has none. The
    products (`stock_ids`) are an array literal: psycopg dumps a list of 50 ints one by one (~60 µs)."""
    warehouse = default_warehouse_select(bindparam("owner_id")).scalar_subquery()
    return (select(func.json_agg(func.json_build_array(StockBalance.product_id,
                                                       StockBalance.on_hand - StockBalance.reserved)))
            .where(StockBalance.warehouse_id == warehouse,
                   StockBalance.product_id == func.any(cast(bindparam("stock_ids"), ARRAY(Integer))))
            .scalar_subquery())


@lru_cache(maxsize=4)
def _categories_statement(with_cart: bool, with_stock: bool = False):
    """The categories, with the promotions' version, the price book's and the catalog's tokens and
    (PostgreSQL) the owner's cart for the buyer and the stock of the page's products riding along:
    none of them costs a query of its own. The cart and the stock are read from the first row; the
    other rows have NULL there (each row's copy was sent and decoded again: ~0.1 ms a page)."""
    order = (Category.sort_order, Category.id)
    first = func.row_number().over(order_by=order) == 1
    query = select(Category.id, Category.code, Category.name_zh, Category.name_en, Category.sort_order,
                   promo_index.version_column().label("v"), prices_token_column().label("price_token"),
                   shelf_store.token_column().label("catalog_token"))
    if with_cart:
        query = query.add_columns(case((first, cart.summary_column())).label("cart"))
    if with_stock:
        query = query.add_columns(case((first, _stock_column())).label("stock"))
    return query.order_by(*order)


def _categories(owner: User, buyer: Organisation, stock_of: list | None = None) -> list:
    """The categories statement's rows; `stock_of`: the products whose stock in the buyer's dealer's
    warehouse comes along (PostgreSQL, a buyer with a dealer)."""
    with_cart = cart.summary_column_supported()
    owner_id = stock_owner_id(buyer) if stock_of is not None else None
    params = cart.summary_params(owner, buyer) if with_cart else {}
    if owner_id is not None:
        params.update(owner_id=owner_id, stock_ids="{" + ",".join([str(p.id) for p in stock_of]) + "}")
    return driver_sql.rows(f"catalog-categories-{with_cart}-{owner_id is not None}",
                           lambda: _categories_statement(with_cart, owner_id is not None), params)


def _stock_levels(products: list, available) -> dict[int, str]:
    """The stock levels of `products` from _stock_column's value."""
    found = dict(available or ())
    return {p.id: stock_level(p, found.get(p.id, 0)) for p in products}


def _browse_shelf(owner: User, buyer: Organisation, profile, category_id, page: int, per_page: int):
    """The plain catalog (no search, not the usual products; PostgreSQL) from the process's shelf:
    one statement, the categories with the catalog's token and the page's stock levels, whose token
    says whether the shelf is still the database's catalog (else it is read again: one more
    statement, and one for the stock levels when the page's products changed with it)."""
    owner_id = stock_owner_id(buyer)

    def page_of(shelf):
        shown = shelf.visible_to(profile) if shelf is not None else ()
        if category_id:
            shown = [p for p in shown if p.category_id == category_id]
        return paginate_list(shown, page, per_page)

    shelf = shelf_store.current()
    result = page_of(shelf)
    category_rows = _categories(owner, buyer, result.items)
    if shelf is None or not category_rows or category_rows[0].catalog_token != shelf.token:
        shelf = shelf_store.load()
        fresh = page_of(shelf)
        if owner_id is not None and [p.id for p in fresh.items] != [p.id for p in result.items]:
            category_rows = _categories(owner, buyer, fresh.items)
        result = fresh
    stock = _stock_levels(result.items, category_rows[0].stock) if owner_id is not None and category_rows else {}
    return result, stock, category_rows


def browse_catalog(owner: User, buyer: Organisation, search: str = "", category_id: int | None = None,
                   page: int = 1, per_page: int = 50, usual: bool = False) -> CatalogPage:
    """One page of the products `buyer` may order, with its prices, its dealer's stock levels and
    `owner`'s cart for it. `usual`: only what the buyer ordered over USUAL_DAYS, most often first,
    each with its usual quantity."""
    profile = region_profile(buyer)
    owner_id = stock_owner_id(buyer)
    term = (search or "").strip()[:MAX_SEARCH_LENGTH]
    since = now_utc() - timedelta(days=USUAL_DAYS)
    usual_qty = {}
    if not term and not usual and cart.summary_column_supported():
        result, stock, category_rows = _browse_shelf(owner, buyer, profile, category_id, page, per_page)
    else:
        if term:  # a search's conditions hold the term: built for this request
            statement, params = counted_page_query(_browse_query(
                visible_clause(profile), owner_id, _usual_counts(buyer.id, since) if usual else None, term,
                category_id or None)), {}
            execute = _core_rows
        else:
            shape = (owner_id is not None, usual, bool(category_id))
            statement, params = _browse_statement(*shape), visible_params(profile)
            params.update({"owner_id": owner_id} if owner_id is not None else {})
            params.update({"buyer_id": buyer.id, "since": since} if usual else {})
            params.update({"category_id": category_id} if category_id else {})

            def execute(statement, params):  # built once per shape: compiled once, run by psycopg itself
                return driver_sql.rows(f"catalog-page-{shape}", lambda: statement, params)
        result = paginate_counted(statement, params, page, per_page, execute=execute)
        rows, result.items = result.items, [listed(row) for row in result.items]
        stock = ({p.id: stock_level(p, int(row.available)) for p, row in zip(result.items, rows)}
                 if owner_id is not None else {})
        usual_qty = {p.id: cart.valid_quantity(p, round(int(row.qty) / int(row.times)))
                     for p, row in zip(result.items, rows)} if usual else {}
        category_rows = _categories(owner, buyer)
    # The promotions' version and the price book's token ride on the categories query: tags and
    # prices cost no query of their own.
    if category_rows:
        token_read(category_rows[0].price_token)
    summary = (cart.summary_from(category_rows[0].cart) if cart.summary_column_supported() and category_rows
               else cart.cart_summary(owner, buyer))
    products = {p.id: p for p in result.items}
    prices = quote_prices(profile, {p.id: p.min_order_qty for p in result.items}, products=products)
    tags = promotion_tags(buyer, profile, result.items, category_rows[0].v) if category_rows and result.items else {}
    return CatalogPage(result, prices, summary, category_rows, stock, usual_qty, tags)


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
    product: ListedProduct
    prices: dict[int, Price]
    cart: cart.CartSummary
    stock: dict[int, str] = field(default_factory=dict)
    usual_qty: dict[int, int] = field(default_factory=dict)
    tags: dict[int, list] = field(default_factory=dict)

    @property
    def in_cart(self) -> dict[int, int]:
        return self.cart.quantities

    @property
    def cart_count(self) -> int:
        return self.cart.count


@lru_cache(maxsize=4)
def _row_statement(with_stock: bool, with_cart: bool = False):
    """catalog_row's statement, built once: the product, the customer and its dealer are bound.
    The promotions' version, the price book's token and (PostgreSQL, `with_cart`) the cart ride
    along (no query of their own)."""
    query = select(*LISTED, promo_index.version_column().label("v"), prices_token_column().label("price_token")
                   ).where(Product.id == bindparam("product_id"), visible_clause_bound())
    if with_stock:
        query = query.add_columns(_available_column(bindparam("owner_id")).label("available"))
    if with_cart:
        query = query.add_columns(cart.summary_column().label("cart"))
    return query


def _find_row(buyer: Organisation, product_id: int, cart_of: User | None = None, stock: bool = True):
    """The row statement's result for one product, or None when the buyer may not see it; with
    `cart_of`, the cart of that owner for the buyer too, where the database can bring it;
    `stock=False`: without the stock level (`available`)."""
    profile = region_profile(buyer)
    owner_id = stock_owner_id(buyer) if stock else None
    with_cart = cart_of is not None and cart.summary_column_supported()
    params = dict(visible_params(profile), product_id=product_id, **({"owner_id": owner_id} if owner_id else {}),
                  **(cart.summary_params(cart_of, buyer) if with_cart else {}))
    row = _core_rows(_row_statement(bool(owner_id), with_cart), params).first()
    if row is not None:
        token_read(row.price_token)
    return row


def _catalog_row(buyer: Organisation, row, summary: cart.CartSummary) -> CatalogRow:
    profile = region_profile(buyer)
    product = listed(row)
    stock = {product.id: stock_level(product, int(row.available))} if stock_owner_id(buyer) else {}
    prices = quote_prices(profile, {product.id: product.min_order_qty}, products={product.id: product})
    return CatalogRow(product, prices, summary, stock, tags=promotion_tags(buyer, profile, [product], row.v))


def catalog_row(owner: User, buyer: Organisation, product_id: int) -> CatalogRow | None:
    """One product as the catalog shows it (after a change to the cart), or None when the
    buyer may not see it."""
    row = _find_row(buyer, product_id, cart_of=owner)
    if row is None:
        return None
    summary = cart.summary_from(row.cart) if "cart" in row._fields else cart.cart_summary(owner, buyer)
    return _catalog_row(buyer, row, summary)


@dataclass
class Added:
    """What adding to the cart from the catalog did: the product's quantity in the cart now, and
    its row as the catalog shows it now (built on demand: a plain POST redirects without it)."""
    qty: int
    buyer: Organisation
    found: object  # the row statement's result
    summary: cart.CartSummary

    def row(self) -> CatalogRow:
        return _catalog_row(self.buyer, self.found, self.summary)


def add_to_cart(owner: User, buyer: Organisation, product_id, qty, row: bool = True) -> Added:
    """cart.add_to_cart from the catalog, in two statements on PostgreSQL (three on SQLite): the
    catalog row's query checks that the buyer may order the product (the same visibility as
    cart.orderable_product) and brings the price token, the promotions' version, the stock level
    and (PostgreSQL) the cart's lines, which give the cart summary (cart.add_quantity; SQLite reads
    them then); then the line is written. `row=False` when the caller will not show the row (a
    plain POST redirects): the stock level is not read, and Added.row() cannot be built."""
    found = None
    if cart.plausible_product_id(product_id):
        found = _find_row(buyer, product_id, cart_of=owner, stock=row)
    if found is None:
        raise cart.not_orderable()
    qty_now, summary = cart.add_quantity(owner, buyer, listed(found), qty,
                                         lines=(found.cart or []) if "cart" in found._fields else None)
    return Added(qty_now, buyer, found, summary)
