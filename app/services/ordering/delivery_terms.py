"""What checkout asks besides the cart: the delivery date, the delivery address and the payment
method (the note is the order's own). The same rules for the retailer's page, the rep's order
for a retailer, the dealer's replenishment and the API.

- Delivery date: one of the next DELIVERY_HORIZON days (from tomorrow, Asia/Shanghai) that falls on
  a weekday the seller delivers to the buyer: a retailer's route days (RepRoute weekdays, the
  days the dealer's reps serve the shop). A buyer on no route may pick any of those days.
  Left blank, the first of them.
- Delivery address: the shop's address unless the buyer types another for this order.
- Payment method: credit (on account, the credit check at approval applies), prepayment
  balance, or cash on delivery. Left blank: credit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, distinct, func, literal, select

from app.extensions import db
from app.models import Organisation
from app.models.org import RepRoute
from app.models.vocabulary import OrderPayment
from app.services.core.clock import today_local
from app.services.core.errors import DomainError

DELIVERY_HORIZON = 14
MAX_ADDRESS = 200
DEFAULT_PAYMENT = OrderPayment.CREDIT.value


@dataclass(frozen=True)
class DeliveryTerms:
    delivery_date: date
    delivery_address: str  # "" when the buyer has no address on file and typed none
    payment_method: str

    def columns(self) -> dict:
        return {"delivery_date": self.delivery_date, "delivery_address": self.delivery_address or None,
                "payment_method": self.payment_method}


@dataclass(frozen=True)
class TermsInput:
    """What the buyer typed (None or "" where left blank)."""

    delivery_date: date | None = None
    delivery_address: str | None = None
    payment_method: str | None = None


def route_weekdays(buyer: Organisation) -> frozenset[int]:
    """The weekdays (0 = Monday) the buyer is on a route; empty: on no route (one query for a
    retailer, none for others)."""
    if buyer.kind != "retailer":
        return frozenset()
    # A plain statement on the session's connection (the cart page runs it on every view): no
    # ORM execution steps; pending changes flushed first, as the ORM's autoflush would.
    db.session.flush()
    return frozenset(db.session.connection().execute(_weekdays_statement(), {"retailer_id": buyer.id}).scalars())


@lru_cache(maxsize=1)
def _weekdays_statement():
    return select(RepRoute.weekday).where(RepRoute.retailer_id == bindparam("retailer_id")).distinct()


def delivery_dates(weekdays: frozenset[int], today: date | None = None) -> list[date]:
    """The dates a delivery may be asked for, earliest first."""
    start = (today or today_local()) + timedelta(days=1)
    days = [start + timedelta(days=i) for i in range(DELIVERY_HORIZON)]
    return [d for d in days if not weekdays or d.weekday() in weekdays]


def weekdays_column(dialect: str):
    """route_weekdays as a column for a query the caller runs anyway (checkout's cart query), the
    retailer bound as `route_buyer`: the weekdays joined by "," (weekdays_from reads it)."""
    day = RepRoute.weekday if dialect != "postgresql" else cast(RepRoute.weekday, String)
    joined = func.string_agg(distinct(day), literal(",")) if dialect == "postgresql" else func.group_concat(distinct(day))
    return select(joined).where(RepRoute.retailer_id == bindparam("route_buyer")).scalar_subquery()


def weekdays_from(buyer: Organisation, value) -> frozenset[int]:
    """route_weekdays from weekdays_column's value."""
    if buyer.kind != "retailer" or value is None:
        return frozenset()
    return frozenset(int(day) for day in str(value).split(",") if day)


def checkout_terms(buyer: Organisation, given: TermsInput | None, today: date | None = None,
                   weekdays: frozenset[int] | None = None) -> DeliveryTerms:
    """The terms of the order `buyer` places, from what was typed; DomainError naming the field.
    `weekdays`: route_weekdays(buyer) when the caller read them already."""
    given = given or TermsInput()
    dates = delivery_dates(route_weekdays(buyer) if weekdays is None else weekdays, today)
    when = given.delivery_date or dates[0]
    if when not in dates:
        raise DomainError(_("请选择可送货的日期（%(first)s 起的送货日）。", first=dates[0].isoformat()),
                          field="delivery_date")
    address = (given.delivery_address or "").strip() or (buyer.address or "").strip()
    if len(address) > MAX_ADDRESS:
        raise DomainError(_("送货地址最多 %(n)d 个字。", n=MAX_ADDRESS), field="delivery_address")
    payment = given.payment_method or DEFAULT_PAYMENT
    if payment not in OrderPayment.labels():
        raise DomainError(_("请选择付款方式。"), field="payment_method")
    return DeliveryTerms(when, address, payment)
