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
show why a price is what it is. `quote_prices` prices many products in three queries whatever
the number of products, lists or contracts; `quote_price` is its one-product form.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import ContractPrice, Organisation, PriceList, PriceListItem, Product, Region
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
    """Price every product in `quantities` ({product_id: qty}) for `customer` on `on`.

    Pass `products` when the caller already loaded them, to save the base-price query."""
    on = on or today_local()
    ids = list(quantities)
    if not ids:
        return {}

    contracts: dict[int, list[ContractPrice]] = {}
    for row in db.session.scalars(select(ContractPrice).where(
            ContractPrice.customer_id == customer.id, ContractPrice.product_id.in_(ids),
            _valid_on(ContractPrice, on))):
        contracts.setdefault(row.product_id, []).append(row)

    list_items: dict[int, list[tuple[tuple, PriceListItem, PriceList]]] = {}
    for item, price_list in db.session.execute(
            select(PriceListItem, PriceList).join(PriceList)
            .where(PriceListItem.product_id.in_(ids), matching_lists_clause(customer), _valid_on(PriceList, on))):
        list_items.setdefault(item.product_id, []).append((list_rank(price_list), item, price_list))

    if products is None:
        products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}

    prices = {}
    for product_id, qty in quantities.items():
        price = (_from_contract(product_id, qty, contracts.get(product_id, ()))
                 or _from_lists(product_id, qty, list_items.get(product_id, ())))
        if price is None and product_id in products:
            price = Price(product_id, qty, products[product_id].base_price_fen, "base", "", "", 1)
        if price is not None:
            prices[product_id] = price
    return prices


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
