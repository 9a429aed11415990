"""Credit: a customer's limit and terms, what it owes, what it may still buy, and the credit
check the order lifecycle runs at approval.

- outstanding = the unpaid part of its open invoices (every seller);
- open orders = approved orders not yet invoiced (but those paid from the prepayment balance);
- exposure = outstanding + open orders (`exposures`: the one definition, used by the customer's
  own credit page, the brand's customer list, the order pages and the credit check);
- available credit = limit − exposure;
- an order paid from the prepayment balance is checked against that balance instead of the
  limit, and its invoice is paid from it when issued (prepaid_orders);
- an order passes the limit check when its total fits in available credit plus the money the
  customer already holds with the order's seller (prepayment and unused credit notes): that
  money pays the invoice when it comes, so counting it is safe as long as open orders count too.

Dealers buy on credit unless the brand says otherwise; retailers only where the brand allows it
(the others pay on delivery or from prepayment, so only a hold or an overdue invoice stops them).
Checkout offers 赊账 only to customers on credit (ordering.delivery_terms.payment_options); an
order paid 赊账 whose customer is not on credit (credit switched off since, or an older order)
is held by the credit check ("credit_not_allowed") for a person to decide.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, func, or_, select

from app.extensions import db
from app.models import Invoice, Order, Organisation, OrderStatus, OrgKind, User
from app.models.credit import CreditNote, CreditProfile, PrepaymentAccount
from app.models.vocabulary import OrderPayment
from app.services.core import audit
from app.services.credit import prepaid_orders
from app.services.core.errors import DomainError
from app.services.core.clock import today_local
from app.services.core.messages import Message, message

# Orders the seller has accepted but not yet invoiced: they will become debt.
UNINVOICED_OPEN_STATUSES = (OrderStatus.APPROVED.value, OrderStatus.PICKING.value, OrderStatus.PARTLY_SHIPPED.value,
                            OrderStatus.SHIPPED.value,
                            OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value)
MAX_LIMIT_FEN = 100_000_000 * 100
MAX_TERMS_DAYS = 365


@dataclass(frozen=True)
class HoldReason:
    """Why an order should wait: `code` for rules and reports, `message` for people."""

    code: str  # "on_hold" | "overdue" | "credit_not_allowed" | "credit_limit" | "prepayment_short"
    message: Message  # stored with the order's review reasons, rendered for each reader


@dataclass
class CreditSummary:
    customer: Organisation
    allow_credit: bool
    on_hold: bool
    hold_reason: str
    limit_fen: int
    terms_days: int
    outstanding_fen: int
    overdue_fen: int
    overdue_count: int
    open_orders_fen: int
    prepayment_fen: int
    unused_credit_fen: int
    prepayment_claimed_fen: int = 0  # what approved, uninvoiced prepayment orders will draw

    @property
    def prepayment_free_fen(self) -> int:
        return self.prepayment_fen - self.prepayment_claimed_fen

    @property
    def exposure_fen(self) -> int:
        return self.outstanding_fen + self.open_orders_fen

    @property
    def available_fen(self) -> int:
        """Credit still free (negative when over the limit); zero for customers not on credit."""
        return available_fen(self.allow_credit, self.limit_fen, self.exposure_fen)


def available_fen(allow_credit: bool, limit_fen: int, exposure_fen: int) -> int:
    return limit_fen - exposure_fen if allow_credit else 0


def is_customer(org: Organisation | None) -> bool:
    return org is not None and org.kind in (OrgKind.DEALER.value, OrgKind.RETAILER.value)


def credit_allowed(customer: Organisation, profile: CreditProfile | None) -> bool:
    """Whether the customer may buy on account (赊账): as its CreditProfile says, and without one
    dealers may and retailers may not."""
    return on_credit(customer.kind, profile.allow_credit if profile is not None else None)


def on_credit(kind: str, allow_credit: bool | None) -> bool:
    """credit_allowed from the customer's kind and its profile's allow_credit (None: no profile),
    for callers that read the flag as a column of a query they run anyway."""
    return allow_credit if allow_credit is not None else kind == OrgKind.DEALER.value


def profile_of(customer_id: int) -> CreditProfile | None:
    return db.session.get(CreditProfile, customer_id)


# --- balances -------------------------------------------------------------------------------

def outstanding_fen(customer_id: int, seller_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(Invoice.total_fen - Invoice.paid_fen), 0)).where(
        Invoice.buyer_id == customer_id, Invoice.status == "open")
    if seller_id is not None:
        query = query.where(Invoice.seller_id == seller_id)
    return int(db.session.scalar(query))


def _overdue(customer_id: int, on: date) -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.total_fen - Invoice.paid_fen), 0))
        .where(Invoice.buyer_id == customer_id, Invoice.status == "open", Invoice.due_on < on,
               Invoice.paid_fen < Invoice.total_fen)).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class Exposure:
    """What a customer's credit limit is holding: unpaid invoices and accepted, uninvoiced orders."""

    outstanding_fen: int = 0
    open_orders_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.outstanding_fen + self.open_orders_fen


def exposures(customer_ids: list[int], exclude_order_id: int | None = None) -> dict[int, Exposure]:
    """The exposure of each customer (every seller), in two grouped queries whatever the count.
    `exclude_order_id`: leave that order out (the one being checked)."""
    if not customer_ids:
        return {}
    owed = dict(db.session.execute(
        select(Invoice.buyer_id, func.sum(Invoice.total_fen - Invoice.paid_fen))
        .where(Invoice.buyer_id.in_(customer_ids), Invoice.status == "open").group_by(Invoice.buyer_id)).all())
    orders = (select(Order.buyer_id, func.sum(Order.total_fen))
              .outerjoin(Invoice, Invoice.order_id == Order.id)
              .where(Order.buyer_id.in_(customer_ids), Order.status.in_(UNINVOICED_OPEN_STATUSES),
                     Invoice.id.is_(None),  # prepayment orders are paid from the prepayment, not on credit
                     or_(Order.payment_method.is_(None), Order.payment_method != prepaid_orders.PREPAYMENT))
              .group_by(Order.buyer_id))
    if exclude_order_id is not None:
        orders = orders.where(Order.id != exclude_order_id)
    accepted = dict(db.session.execute(orders).all())
    return {cid: Exposure(int(owed.get(cid) or 0), int(accepted.get(cid) or 0)) for cid in customer_ids}


def exposure(customer_id: int, exclude_order_id: int | None = None) -> Exposure:
    return exposures([customer_id], exclude_order_id)[customer_id]


def prepayment_fen(customer_id: int, seller_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(PrepaymentAccount.balance_fen), 0)).where(
        PrepaymentAccount.customer_id == customer_id)
    if seller_id is not None:
        query = query.where(PrepaymentAccount.seller_id == seller_id)
    return int(db.session.scalar(query))


def unused_credit_fen(customer_id: int, seller_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(CreditNote.remaining_fen), 0)).where(
        CreditNote.customer_id == customer_id)
    if seller_id is not None:
        query = query.where(CreditNote.seller_id == seller_id)
    return int(db.session.scalar(query))


def summary(customer: Organisation, seller_id: int | None = None) -> CreditSummary:
    """The customer's credit position. Outstanding, overdue and open orders count every seller
    (the limit covers them all); prepayment and unused credit only `seller_id`'s when given."""
    profile = profile_of(customer.id)
    overdue_count, overdue = _overdue(customer.id, today_local())
    held = exposure(customer.id)
    return CreditSummary(
        customer=customer, allow_credit=credit_allowed(customer, profile),
        on_hold=bool(profile and profile.on_hold), hold_reason=profile.hold_reason if profile else "",
        limit_fen=customer.credit_limit_fen, terms_days=customer.payment_terms_days,
        outstanding_fen=held.outstanding_fen, overdue_fen=overdue, overdue_count=overdue_count,
        open_orders_fen=held.open_orders_fen,
        prepayment_fen=prepayment_fen(customer.id, seller_id),
        unused_credit_fen=unused_credit_fen(customer.id, seller_id),
        prepayment_claimed_fen=prepaid_orders.claimed_fen(customer.id, seller_id))


@dataclass
class CustomerRow:
    """A line of the admin's customer list."""

    customer: Organisation
    allow_credit: bool
    on_hold: bool
    exposure: Exposure
    prepayment_fen: int

    @property
    def outstanding_fen(self) -> int:
        return self.exposure.outstanding_fen

    @property
    def available_fen(self) -> int:
        return available_fen(self.allow_credit, self.customer.credit_limit_fen, self.exposure.total_fen)


def customer_rows(customers: list[Organisation]) -> list[CustomerRow]:
    """Balances for a page of customers in four queries, whatever the page size."""
    ids = [c.id for c in customers]
    if not ids:
        return []
    exposed = exposures(ids)
    held = dict(db.session.execute(
        select(PrepaymentAccount.customer_id, func.sum(PrepaymentAccount.balance_fen))
        .where(PrepaymentAccount.customer_id.in_(ids)).group_by(PrepaymentAccount.customer_id)).all())
    profiles = {p.customer_id: p for p in db.session.scalars(
        select(CreditProfile).where(CreditProfile.customer_id.in_(ids)))}
    return [CustomerRow(c, credit_allowed(c, profiles.get(c.id)), bool(profiles.get(c.id) and profiles[c.id].on_hold),
                        exposed[c.id], int(held.get(c.id) or 0)) for c in customers]


def customers_query(text: str = "", kind: str = "", flag: str = ""):
    """Customers (dealers and retailers) for the admin list, searched by code or name.
    flag: "hold" (on manual hold), "owing" (with an open invoice)."""
    query = select(Organisation).where(Organisation.kind.in_((OrgKind.DEALER.value, OrgKind.RETAILER.value)))
    if kind in (OrgKind.DEALER.value, OrgKind.RETAILER.value):
        query = query.where(Organisation.kind == kind)
    text = text.strip()
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Organisation.code.ilike(like), Organisation.name.ilike(like)))
    if flag == "hold":
        query = query.where(select(CreditProfile.customer_id).where(
            CreditProfile.customer_id == Organisation.id, CreditProfile.on_hold.is_(True)).exists())
    elif flag == "owing":
        query = query.where(select(Invoice.id).where(
            Invoice.buyer_id == Organisation.id, Invoice.status == "open").exists())
    # Dealers first ('dealer' < 'retailer'): there are few of them and they carry most of the credit.
    return query.order_by(Organisation.kind, Organisation.code)


# --- the credit check -----------------------------------------------------------------------

def lock_customer(customer_id: int) -> Organisation:
    """The customer's row, locked until the transaction ends (PostgreSQL) and read afresh.

    The credit check reads the customer's exposure (open orders, invoices) and then approves:
    two orders of one buyer checked at once (two of its users, a rep and the shop) would both
    pass on the same exposure. With the row locked, the second check waits for the first
    transaction and then sees its approved order (READ COMMITTED reads each statement afresh).
    FOR NO KEY UPDATE: rows that merely reference the customer (new orders, lines) still insert."""
    return db.session.scalar(select(Organisation).where(Organisation.id == customer_id)
                             .with_for_update(key_share=True).execution_options(populate_existing=True))


def credit_facts_params(order: Order) -> dict:
    """The parameters of credit_facts' statement for the order's buyer."""
    return {"customer_id": order.buyer_id, "overdue_on": today_local()}


@functools.cache
def credit_facts(lock: bool):
    """What check_credit reads first, in one statement built once: the customer (with `lock`, its
    row locked as lock_customer does, and read afresh), its CreditProfile (None without one), and
    the number and unpaid amount of its invoices overdue on :overdue_on (_overdue)."""
    customer_id = bindparam("customer_id", type_=Integer)
    overdue = (Invoice.buyer_id == Organisation.id, Invoice.status == "open", Invoice.due_on < bindparam("overdue_on"),
               Invoice.paid_fen < Invoice.total_fen)
    statement = select(
        Organisation, CreditProfile,
        select(func.count(Invoice.id)).where(*overdue).scalar_subquery(),
        select(func.coalesce(func.sum(Invoice.total_fen - Invoice.paid_fen), 0)).where(*overdue).scalar_subquery(),
    ).outerjoin(CreditProfile, CreditProfile.customer_id == Organisation.id).where(Organisation.id == customer_id)
    if lock:
        statement = (statement.with_for_update(of=Organisation, key_share=True)
                     .execution_options(populate_existing=True))
    return statement


def check_credit(order: Order, lock: bool = True, facts: tuple | None = None) -> list[HoldReason]:
    """Reasons to put `order` on hold for credit; an empty list means it may proceed. Locks the
    buyer's row (lock_customer) for the rest of the caller's transaction, so the caller must
    approve or hold the order in that same transaction. `lock=False` only for showing the
    reasons on a page, never before a decision. `facts`: the first four columns of
    credit_facts(True)'s row, read by the caller in this transaction with columns of its own
    (checkout's automatic review reads the approval policy with them)."""
    customer, profile, overdue_count, overdue = facts if facts is not None else db.session.execute(
        credit_facts(lock), credit_facts_params(order)).one()
    overdue_count, overdue = int(overdue_count), int(overdue)
    reasons: list[HoldReason] = []
    if profile is not None and profile.on_hold:
        said = message("credit.on_hold_reason", reason=profile.hold_reason) if profile.hold_reason \
            else message("credit.on_hold")
        reasons.append(HoldReason("on_hold", said))
    if overdue_count:
        reasons.append(HoldReason("overdue", message("credit.overdue", n=overdue_count,
                                                     amount=format_yuan(overdue))))
    allowed = credit_allowed(customer, profile)
    if prepaid_orders.is_prepaid(order):  # paid from the prepayment, not bought on credit
        short = prepaid_orders.shortfall_reason(order)
        if short is not None:
            reasons.append(short)
    elif order.payment_method == OrderPayment.CREDIT.value and not allowed:
        # Checkout refuses 赊账 to a customer not on credit; this order predates that, came in
        # another way, or its customer's credit was switched off since: a person decides.
        reasons.append(HoldReason("credit_not_allowed", message("credit.not_allowed")))
    elif allowed:
        exposure_fen = exposure(customer.id, exclude_order_id=order.id).total_fen + order.total_fen
        held = prepayment_fen(customer.id, order.seller_id) + unused_credit_fen(customer.id, order.seller_id)
        over = exposure_fen - customer.credit_limit_fen - held
        if over > 0:
            reasons.append(HoldReason("credit_limit", message(
                "credit.limit", over=format_yuan(over), limit=format_yuan(customer.credit_limit_fen),
                used=format_yuan(exposure_fen - order.total_fen), order=format_yuan(order.total_fen))))
    return reasons


def format_yuan(fen: int) -> str:
    """The page format (¥1,234.50) for messages built here."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


# --- settings -------------------------------------------------------------------------------

def _settings_snapshot(customer: Organisation, profile: CreditProfile | None) -> dict:
    return {"credit_limit_fen": customer.credit_limit_fen, "payment_terms_days": customer.payment_terms_days,
            "allow_credit": credit_allowed(customer, profile), "on_hold": bool(profile and profile.on_hold),
            "hold_reason": profile.hold_reason if profile else ""}


def update_settings(actor: User, customer: Organisation, *, credit_limit_fen: int, payment_terms_days: int,
                    allow_credit: bool, on_hold: bool, hold_reason: str = "") -> CreditProfile:
    if not is_customer(customer):
        raise DomainError(_("只能为经销商或零售商设置信用。"))
    if credit_limit_fen < 0 or credit_limit_fen > MAX_LIMIT_FEN:
        raise DomainError(_("信用额度必须在 0 到 1 亿元之间。"), field="credit_limit")
    if not 0 <= payment_terms_days <= MAX_TERMS_DAYS:
        raise DomainError(_("账期必须在 0 到 %(n)d 天之间。", n=MAX_TERMS_DAYS), field="payment_terms_days")
    hold_reason = hold_reason.strip()
    if on_hold and not hold_reason:
        raise DomainError(_("暂停时请填写原因。"), field="hold_reason")
    profile = profile_of(customer.id)
    before = _settings_snapshot(customer, profile)
    if profile is None:
        profile = CreditProfile(customer_id=customer.id)
        db.session.add(profile)
    customer.credit_limit_fen = credit_limit_fen
    customer.payment_terms_days = payment_terms_days
    profile.allow_credit = allow_credit
    profile.on_hold = on_hold
    profile.hold_reason = hold_reason if on_hold else ""
    db.session.flush()
    after = _settings_snapshot(customer, profile)
    if before != after:
        audit.record(actor.id, "credit.settings", "organisation", customer.id, before, after)
    return profile


def due_date(customer: Organisation, issued_on: date) -> date:
    """When an invoice issued on `issued_on` falls due under the customer's payment terms."""
    return issued_on + timedelta(days=customer.payment_terms_days)

