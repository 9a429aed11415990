"""The one place that decides what a customer pays.

Resolution order, for a product, a customer, a quantity (in sales units) and a date:

1. **Contract price.** The customer's own contract rows for the product that are valid on the
   date (valid_from ≤ date ≤ valid_to, open ends allowed) and whose `min_qty` ≤ quantity. The
   row with the highest `min_qty` wins (the deepest quantity break reached); on a tie, the one
   that started latest (then the newest row, so the answer never depends on row order).
2. **Price list.** Active lists valid on the date whose audience is the customer's kind
   (dealer or retailer) and whose every set target matches: tier, channel, region (the
   customer's region or one of its ancestors). Lists are tried most specific first (number of
   targets set), then by higher `priority`, then by lower id. The first list holding an item for
   the product with `min_qty` ≤ quantity wins, at its highest such break.
3. **Base price.** The product's `base_price_fen`.

Every answer carries its reason (source, list or contract reference, break), so a page can
show why a price is what it is. `quote_prices` prices many products from the process's price
book (below): one query per transaction to check it is current, whatever the number of
products, lists or contracts; `quote_price` is its one-product form.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, event, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import ContractPrice, Organisation, PriceBookVersion, PriceList, PriceListItem, Product, Region
from app.services.core.clock import today_local
from app.services.core.messages import Message, joined, message


@dataclass(frozen=True)
class CustomerProfile:
    """What pricing and visibility need to know about a customer."""

    id: int
    kind: str
    tier: str | None
    channel: str | None
    region_ids: tuple[int, ...]  # the customer's region and its ancestors

    @classmethod
    def of(cls, org: Organisation) -> CustomerProfile:
        region = org.region if org.region_id else None
        return cls(org.id, org.kind, org.tier, org.channel, tuple(region.ancestor_ids()) if region else ())


@dataclass(frozen=True)
class Price:
    product_id: int
    qty: int
    unit_price_fen: int
    source: str  # "contract" | "price_list" | "base"
    reference: str  # contract reference or price list code; "" for base
    name: str  # price list name; "" otherwise
    min_qty: int

    @property
    def reason(self) -> Message:
        """Why this price (stored on order lines; rendered in the reader's language)."""
        if self.source == "gift":
            return message("price.gift")
        if self.source == "contract":
            basis = message("price.contract", ref=self.reference)
        elif self.source == "price_list":
            basis = message("price.list", name=self.name or self.reference)
        else:
            return message("price.base")
        return joined([basis, message("price.min_qty", n=self.min_qty)], "") if self.min_qty > 1 else basis

    def total_fen(self) -> int:
        return self.unit_price_fen * self.qty


def _valid_on(model, on: date):
    return and_(or_(model.valid_from.is_(None), model.valid_from <= on),
                or_(model.valid_to.is_(None), model.valid_to >= on))


def matching_lists_clause(customer: CustomerProfile):
    """SQL condition: the price list targets this customer."""
    return and_(
        PriceList.active.is_(True),
        PriceList.audience == customer.kind,
        or_(PriceList.tier.is_(None), PriceList.tier == customer.tier),
        or_(PriceList.channel.is_(None), PriceList.channel == customer.channel),
        or_(PriceList.region_id.is_(None), PriceList.region_id.in_(customer.region_ids or (-1,))),
    )


def list_rank(price_list: PriceList) -> tuple:
    """Sort key for candidate lists: most targets set first, then higher priority, then lower id."""
    specificity = sum(x is not None for x in (price_list.tier, price_list.channel, price_list.region_id))
    return (-specificity, -price_list.priority, price_list.id)


def quote_prices(customer: CustomerProfile, quantities: dict[int, int], on: date | None = None,
                 products: dict[int, Product] | None = None) -> dict[int, Price]:
    """Price every product in `quantities` ({product_id: qty}) for `customer` on `on`, from the
    process's price book (one query per transaction to check it is current).

    Pass `products` when the caller already loaded them, to save the base-price query."""
    on = on or today_local()
    ids = list(quantities)
    if not ids:
        return {}
    book = price_book()
    customer_contracts = book.contracts.get(customer.id, {})
    if products is None:
        products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}

    prices = {}
    for product_id, qty in quantities.items():
        contracts = [row for row in customer_contracts.get(product_id, ()) if _valid(row, on)]
        price = (contracts and _from_contract(product_id, qty, contracts)) or book.list_price(customer, product_id, qty, on)
        if price is None and product_id in products:
            price = Price(product_id, qty, products[product_id].base_price_fen, "base", "", "", 1)
        if price is not None:
            prices[product_id] = price
    return prices


def _valid(row, on: date) -> bool:
    return (row.valid_from is None or row.valid_from <= on) and (row.valid_to is None or row.valid_to >= on)


def _targets(price_list, customer: CustomerProfile) -> bool:
    """matching_lists_clause in Python."""
    return (price_list.active and price_list.audience == customer.kind
            and (price_list.tier is None or price_list.tier == customer.tier)
            and (price_list.channel is None or price_list.channel == customer.channel)
            and (price_list.region_id is None or price_list.region_id in customer.region_ids))


# -- the price book ------------------------------------------------------------------------------
#
# Every price list, item and contract price, held by each process as plain tuples (a few MB at
# the design scale) and rebuilt when the database's price_book_version token differs from the
# one it was built at: triggers change the token on every write to those tables, whoever writes
# (migration h15_price_book). The token is read once per transaction, and again after this
# session writes prices, so a transaction always prices with what it sees, its own writes
# included; checkout therefore re-prices from the database state of its own transaction.

class ListRow(NamedTuple):
    id: int
    code: str
    name: str
    audience: str
    tier: str | None
    channel: str | None
    region_id: int | None
    priority: int
    valid_from: date | None
    valid_to: date | None
    active: bool


class ItemRow(NamedTuple):
    id: int
    product_id: int
    min_qty: int
    price_fen: int


class ContractRow(NamedTuple):
    id: int
    customer_id: int
    product_id: int
    min_qty: int
    price_fen: int
    valid_from: date | None
    valid_to: date | None
    reference: str


@dataclass(frozen=True)
class PriceBook:
    token: str | None
    ranks: dict[int, tuple]  # list id -> list_rank
    items: dict[int, list[tuple[ItemRow, ListRow]]]  # product id -> (item, its list)
    contracts: dict[int, dict[int, list[ContractRow]]]  # customer id -> product id -> rows
    # (kind, tier, channel, region ids, date) -> product id -> the list entries that target such
    # customers on that date: shops alike share them, so a catalog page does not filter every
    # product's ~50 list items again. Filled as asked; dropped with the book.
    by_audience: dict = field(default_factory=dict, compare=False, repr=False)
    # (the same audience and date, product id, quantity) -> the price from the lists (or None):
    # the same for every customer of the audience, so a catalog page does not pick it again.
    list_prices: dict = field(default_factory=dict, compare=False, repr=False)

    def list_entries(self, customer: CustomerProfile, product_id: int, on: date) -> list:
        """[(list rank, item, list)] of the lists targeting `customer` on `on` that hold the product."""
        audience = (customer.kind, customer.tier, customer.channel, customer.region_ids, on)
        per_product = self.by_audience.get(audience)
        if per_product is None:
            if len(self.by_audience) >= MAX_AUDIENCES:  # start again rather than track ages
                self.by_audience.clear()
            per_product = self.by_audience[audience] = {}
        entries = per_product.get(product_id)
        if entries is None:
            entries = per_product[product_id] = [
                (self.ranks[row.id], item, row) for item, row in self.items.get(product_id, ())
                if _targets(row, customer) and _valid(row, on)]
        return entries

    def list_price(self, customer: CustomerProfile, product_id: int, qty: int, on: date) -> Price | None:
        """The price of `qty` from the lists targeting `customer` on `on` (_from_lists), remembered."""
        key = (customer.kind, customer.tier, customer.channel, customer.region_ids, on, product_id, qty)
        try:
            return self.list_prices[key]
        except KeyError:
            if len(self.list_prices) >= MAX_LIST_PRICES:  # start again rather than track ages
                self.list_prices.clear()
            price = self.list_prices[key] = _from_lists(product_id, qty, self.list_entries(customer, product_id, on))
            return price


MAX_AUDIENCES = 2_000  # distinct (kind, tier, channel, region chain, date) kept per process
MAX_LIST_PRICES = 100_000  # (audience, product, quantity) prices kept per process, ~200 bytes each

_BOOK: PriceBook | None = None
_TOKEN_KEY = "pricing.price_book_token"
_PRICE_MODELS = (PriceList, PriceListItem, ContractPrice)
_TOKEN = select(PriceBookVersion.token).where(PriceBookVersion.id == 1)


def price_book() -> PriceBook:
    """The process's price book, rebuilt first when the prices changed since it was built."""
    global _BOOK
    info = db.session.info
    if _TOKEN_KEY not in info:
        info[_TOKEN_KEY] = db.session.execute(_TOKEN).scalar()
    token = info[_TOKEN_KEY]
    book = _BOOK
    if book is None or token is None or book.token != token:
        book = _load_book(token)
        if token is not None:  # no token row (a database emptied by hand): never cache
            _BOOK = book
    return book


def token_column():
    """The price book's token as a scalar subquery, for a caller that reads it with a query it
    runs anyway (the catalog's categories); hand the value to `token_read`, before pricing."""
    return _TOKEN.scalar_subquery()


def token_read(token: str | None) -> None:
    """The token as this transaction read it through `token_column`: price_book() then needs
    no query of its own."""
    db.session.info.setdefault(_TOKEN_KEY, token)


def _load_book(token: str | None) -> PriceBook:
    lists = {row.id: ListRow(*row) for row in db.session.execute(select(
        PriceList.id, PriceList.code, PriceList.name, PriceList.audience, PriceList.tier, PriceList.channel,
        PriceList.region_id, PriceList.priority, PriceList.valid_from, PriceList.valid_to, PriceList.active))}
    items: dict[int, list[tuple[ItemRow, ListRow]]] = {}
    for list_id, *values in db.session.execute(select(
            PriceListItem.price_list_id, PriceListItem.id, PriceListItem.product_id, PriceListItem.min_qty,
            PriceListItem.price_fen)):
        item = ItemRow(*values)
        items.setdefault(item.product_id, []).append((item, lists[list_id]))
    contracts: dict[int, dict[int, list[ContractRow]]] = {}
    for values in db.session.execute(select(
            ContractPrice.id, ContractPrice.customer_id, ContractPrice.product_id, ContractPrice.min_qty,
            ContractPrice.price_fen, ContractPrice.valid_from, ContractPrice.valid_to, ContractPrice.reference)):
        row = ContractRow(*values)
        contracts.setdefault(row.customer_id, {}).setdefault(row.product_id, []).append(row)
    return PriceBook(token, {list_id: list_rank(row) for list_id, row in lists.items()}, items, contracts)


def _forget_token(session, *args) -> None:
    session.info.pop(_TOKEN_KEY, None)


def _forget_token_after_price_writes(session, _context) -> None:
    if any(isinstance(obj, _PRICE_MODELS) for obj in (*session.new, *session.dirty, *session.deleted)):
        _forget_token(session)


_PRICE_TABLES = frozenset(model.__tablename__ for model in _PRICE_MODELS)


def _forget_token_after_dml(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and \
            getattr(getattr(state.statement, "table", None), "name", None) in _PRICE_TABLES:
        _forget_token(state.session)


for _name in ("after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget_token)
event.listen(Session, "after_flush", _forget_token_after_price_writes)
event.listen(Session, "do_orm_execute", _forget_token_after_dml)


def _from_contract(product_id: int, qty: int, rows) -> Price | None:
    reached = [r for r in rows if r.min_qty <= qty]
    if not reached:
        return None
    best = max(reached, key=lambda r: (r.min_qty, r.valid_from or date.min, r.id))
    return Price(product_id, qty, best.price_fen, "contract", best.reference, "", best.min_qty)


def _from_lists(product_id: int, qty: int, entries) -> Price | None:
    best_by_list: dict[int, tuple[tuple, PriceListItem, PriceList]] = {}
    for rank, item, price_list in entries:
        if item.min_qty > qty:
            continue
        current = best_by_list.get(price_list.id)
        if current is None or item.min_qty > current[1].min_qty:
            best_by_list[price_list.id] = (rank, item, price_list)
    if not best_by_list:
        return None
    _rank, item, price_list = min(best_by_list.values(), key=lambda entry: entry[0])
    return Price(product_id, qty, item.price_fen, "price_list", price_list.code, price_list.name, item.min_qty)


def quote_price(customer: CustomerProfile, product_id: int, qty: int = 1, on: date | None = None) -> Price | None:
    return quote_prices(customer, {product_id: qty}, on).get(product_id)


def region_profile(org: Organisation) -> CustomerProfile:
    """CustomerProfile.of, loading the region in one query when it is not loaded yet."""
    if org.region_id and "region" not in org.__dict__:
        org.region = db.session.get(Region, org.region_id)
    return CustomerProfile.of(org)
