"""What checkout asks besides the cart: the delivery date, the delivery address and the payment
method (the note is the order's own). The same rules for the retailer's page, the rep's order
for a retailer, the dealer's replenishment and the API.

- Delivery date: one of the next DELIVERY_HORIZON days (from tomorrow, Asia/Shanghai) that falls on
  a weekday the seller delivers to the buyer: a retailer's route days (RepRoute weekdays, the
  days the dealer's reps serve the shop). A buyer on no route may pick any of those days.
  Left blank, the first of them.
- Delivery address: the shop's address unless the buyer types another for this order.
- Payment method: one of payment_options(): credit (赊账, on account; the credit check at
  approval applies) only for a buyer on credit (credit.limits.credit_allowed), the prepayment
  balance and cash on delivery for every buyer. Left blank: credit for a buyer on credit, cash
  on delivery otherwise. Choosing credit without credit is refused by the payment_method field.

What the rules read of the buyer (its route weekdays and whether it is on credit, CheckoutFacts)
is two columns (facts_columns) of the cart query that checkout and the cart page run anyway, or
one statement (checkout_facts) where there is no such query (an empty cart, a group-buy).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, distinct, func, literal, select

from app.extensions import db
from app.models import Organisation
from app.models.credit import CreditProfile
from app.models.org import RepRoute
from app.models.vocabulary import OrderPayment
from app.services.core.clock import today_local
from app.services.core.errors import DomainError
from app.services.credit.limits import on_credit

DELIVERY_HORIZON = 14
MAX_ADDRESS = 200
CREDIT, PREPAYMENT, COD = OrderPayment.CREDIT.value, OrderPayment.PREPAYMENT.value, OrderPayment.COD.value


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


@dataclass(frozen=True)
class PaymentOptions:
    """The payment methods a buyer may choose at checkout, in the order offered, and the one a
    blank choice takes."""

    methods: tuple[str, ...]
    default: str

    @property
    def on_credit(self) -> bool:
        return CREDIT in self.methods


def payment_options(buyer_on_credit: bool) -> PaymentOptions:
    """Which payment methods a buyer may use, and the default.

    On credit (credit.limits.credit_allowed: a CreditProfile allowing it, or a dealer without a
    profile): 赊账 first and the default, then the prepayment balance and cash on delivery: the
    order counts against the limit and the credit check at approval judges it.
    Not on credit (a retailer the brand has not given credit, or a customer whose credit was
    switched off): cash on delivery (the default) or the prepayment balance, never 赊账. Cash on
    delivery is the default because it is how shops without credit pay (the driver collects
    when they sign, the demo's and the README's rule), and because it needs nothing beforehand:
    a prepayment default would hold every order of a shop whose balance does not cover it
    ("prepayment_short")."""
    if buyer_on_credit:
        return _ON_CREDIT
    return _NOT_ON_CREDIT


_ON_CREDIT = PaymentOptions((CREDIT, PREPAYMENT, COD), CREDIT)
_NOT_ON_CREDIT = PaymentOptions((COD, PREPAYMENT), COD)


@dataclass(frozen=True)
class CheckoutFacts:
    """What checkout's rules read of the buyer: the weekdays (0 = Monday) it is on a route (empty:
    on no route, and always for non-retailers) and whether it is on credit."""

    weekdays: frozenset[int]
    on_credit: bool

    @property
    def payment(self) -> PaymentOptions:
        return payment_options(self.on_credit)


def checkout_facts(buyer: Organisation) -> CheckoutFacts:
    """The buyer's CheckoutFacts in one statement (for callers without a cart query to carry them)."""
    # A plain statement on the session's connection: no ORM execution steps; pending changes
    # flushed first, as the ORM's autoflush would.
    db.session.flush()
    row = db.session.connection().execute(_facts_statement(db.engine.dialect.name), {"route_buyer": buyer.id}).one()
    return facts_from(buyer, row)


@lru_cache(maxsize=2)
def _facts_statement(dialect: str):
    return select(*facts_columns(dialect))


def facts_columns(dialect: str) -> list:
    """CheckoutFacts as two columns for a query the caller runs anyway (checkout's cart query), the
    buyer bound as `route_buyer`; facts_from reads them back from its row."""
    return [weekdays_column(dialect).label("route_weekdays"),
            select(CreditProfile.allow_credit).where(CreditProfile.customer_id == bindparam("route_buyer"))
            .scalar_subquery().label("allow_credit")]


def facts_from(buyer: Organisation, row) -> CheckoutFacts:
    """CheckoutFacts from a row holding facts_columns."""
    return CheckoutFacts(weekdays_from(buyer, row.route_weekdays), on_credit(buyer.kind, row.allow_credit))


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
                   facts: CheckoutFacts | None = None) -> DeliveryTerms:
    """The terms of the order `buyer` places, from what was typed; DomainError naming the field.
    `facts`: checkout_facts(buyer) when the caller read them already."""
    given = given or TermsInput()
    facts = facts or checkout_facts(buyer)
    dates = delivery_dates(facts.weekdays, today)
    when = given.delivery_date or dates[0]
    if when not in dates:
        raise DomainError(_("请选择可送货的日期（%(first)s 起的送货日）。", first=dates[0].isoformat()),
                          field="delivery_date")
    address = (given.delivery_address or "").strip() or (buyer.address or "").strip()
    if len(address) > MAX_ADDRESS:
        raise DomainError(_("送货地址最多 %(n)d 个字。", n=MAX_ADDRESS), field="delivery_address")
    return DeliveryTerms(when, address, chosen_payment(buyer, given.payment_method, facts.payment))


def chosen_payment(buyer: Organisation, given: str | None, options: PaymentOptions) -> str:
    """The payment method `buyer` chose (blank: the default), or DomainError on payment_method."""
    payment = given or options.default
    if payment not in OrderPayment.labels():
        raise DomainError(_("请选择付款方式。"), field="payment_method")
    if payment not in options.methods:  # only 赊账 can be missing: the buyer is not on credit
        raise DomainError(_("%(buyer)s 未开通赊销，不能赊账；请选择%(methods)s。", buyer=buyer.name,
                            methods=_("或").join(str(OrderPayment.label_of(m)) for m in options.methods)),
                          field="payment_method")
    return payment
