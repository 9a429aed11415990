"""Why a customer pays what it pays: the price from app.services.pricing.prices with every candidate
the resolution order looked at (contract rows, price lists targeting the customer), so an admin
can see which one won and why the others did not."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ContractPrice, Organisation, PriceList, PriceListItem, Product
from app.services.core.errors import DomainError
from app.services.pricing.admin import CUSTOMER_KINDS
from app.services.pricing.prices import Price, list_rank, matching_lists_clause, quote_price, region_profile
from app.services.catalog.visibility import visible_clause


@dataclass
class ContractCandidate:
    row: ContractPrice
    valid: bool  # valid on the date
    reached: bool  # min_qty ≤ quantity


@dataclass
class ListCandidate:
    price_list: PriceList
    valid: bool
    items: list[PriceListItem] = field(default_factory=list)

    def reached(self, qty: int) -> bool:
        return any(item.min_qty <= qty for item in self.items)


@dataclass
class PriceExplanation:
    customer: Organisation
    product: Product
    qty: int
    on: date
    price: Price
    visible: bool
    contracts: list[ContractCandidate]
    lists: list[ListCandidate]


def _valid(row, on: date) -> bool:
    return (row.valid_from is None or row.valid_from <= on) and (row.valid_to is None or row.valid_to >= on)


def explain_price(customer_code: str, product_code: str, qty: int, on: date) -> PriceExplanation:
    customer_code, product_code = (customer_code or "").strip(), (product_code or "").strip()
    customer = db.session.scalar(select(Organisation).where(Organisation.code == customer_code))
    product = db.session.scalar(select(Product).where(Product.code == product_code))
    if customer is None or customer.kind not in CUSTOMER_KINDS:
        raise DomainError(_("没有编码为 %(code)s 的经销商或零售商。", code=customer_code), field="customer_code")
    if product is None:
        raise DomainError(_("没有编码为 %(code)s 的商品。", code=product_code), field="product_code")
    if qty < 1:
        raise DomainError(_("数量必须大于 0。"), field="qty")

    profile = region_profile(customer)
    price = quote_price(profile, product.id, qty, on)
    visible = db.session.scalar(select(Product.id).where(Product.id == product.id, visible_clause(profile))) is not None

    contracts = [ContractCandidate(row, _valid(row, on), row.min_qty <= qty) for row in db.session.scalars(
        select(ContractPrice).where(ContractPrice.customer_id == customer.id, ContractPrice.product_id == product.id)
        .order_by(ContractPrice.min_qty, ContractPrice.valid_from))]

    lists: dict[int, ListCandidate] = {}
    for item, price_list in db.session.execute(
            select(PriceListItem, PriceList).join(PriceList)
            .where(PriceListItem.product_id == product.id, matching_lists_clause(profile))
            .order_by(PriceListItem.min_qty)).tuples():
        candidate = lists.setdefault(price_list.id, ListCandidate(price_list, _valid(price_list, on)))
        candidate.items.append(item)
    ranked = sorted(lists.values(), key=lambda c: list_rank(c.price_list))
    return PriceExplanation(customer, product, qty, on, price, visible, contracts, ranked)
