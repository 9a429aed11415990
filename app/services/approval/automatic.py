"""Automatic approval: every new order is checked against the brand's rules at once; an order
that passes them all is approved by the system, the others wait in the seller's review queue
with the reasons listed.

Rules (each can be switched off in the brand's ApprovalPolicy):

- hold:       the buyer is not on a credit hold (credit.check_credit, code "on_hold");
- credit:     no overdue invoice and the order fits in the credit limit (codes "overdue",
              "credit_limit"; retailers not on credit are only checked for overdue invoices); an
              order paid from the prepayment balance is checked against that balance instead of
              the limit (code "prepayment_short", credit.prepaid_orders);
- 赊账 without credit (not switchable): an order paid on credit whose buyer is not (or no
              longer) on credit waits for a person (code "credit_not_allowed"): checkout refuses
              it, so only older orders and a customer's credit switched off since reach this;
- prices:     every line still costs what it cost at submit, re-quoted with pricing for the buyer
              (matters when a held order is checked again later);
- quantities: no line above N× the buyer's average quantity of that product over the last D days
              (N = quantity_factor_pct / 100, default 3×; D default 90). A product the buyer
              ordered fewer than `quantity_min_orders` times in the window is not judged, so new
              shops and new products are not all held;
- stock:      the seller's default warehouse has every quantity available (on hand − reserved).
              A seller without any active warehouse keeps no stock in the system: the rule cannot
              judge and passes, and the lifecycle approves without a reservation (see
              lifecycle.tracks_stock). Shelf-life limits are checked by the reservation itself: a
              shortage found there also sends the order to review.

With `auto_approve` off, orders stay "submitted" for the seller to decide. Held orders are
"on_hold" with their reasons in OrderReviewReason; the seller is notified of every order
waiting for review (the buyer is notified of every status change by the lifecycle).

`place_order` is what checkout views call: submit_order, then auto_review of a new order.
"""
from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import Order, OrderChannel, OrderLine, OrderStatus, Organisation, StockBalance, User, utcnow
from app.models.vocabulary import OrderPayment
from app.models.approval import (DEFAULT_QUANTITY_FACTOR_PCT, DEFAULT_QUANTITY_MIN_ORDERS,
                                 DEFAULT_QUANTITY_WINDOW_DAYS, ApprovalPolicy, OrderReviewReason)
from app.services.core import audit
from app.services.ordering import lifecycle
from app.services.ordering import orders as ordering
from app.services.credit.limits import HoldReason, check_credit, credit_facts, credit_facts_params, format_yuan
from app.services.core.errors import DomainError, NotFound
from app.services.core.messages import CATALOG, Message, joined, message
from app.services.inventory.orders import default_warehouse
from app.services.inventory.reservations import Shortage, StockShortage
from app.services.core.paging import Page, paginate
from app.services.pricing.prices import quote_prices, region_profile

S = OrderStatus
POLICY_ID = 1
AUTO_NOTE = message("approval.auto")  # the event note of an automatic approval
REASON_CODES = ("on_hold", "overdue", "credit_not_allowed", "credit_limit", "prepayment_short", "price_changed",
                "unusual_quantity", "stock_short", "manual")
REASON_LABELS = {code: CATALOG[f"review.{code}"] for code in REASON_CODES}
CREDIT_CODES = {"overdue", "credit_limit", "prepayment_short"}
# Held whatever the policy's switches say: not a judgement of risk the brand may turn off, but a
# payment method the buyer may not use (checkout refuses it; credit.limits.check_credit).
ALWAYS_CODES = {"credit_not_allowed"}
LINES_NAMED = 5  # a reason names at most this many lines, then "等 n 种"
POLICY_FIELDS = ["auto_approve", "check_hold", "check_credit", "check_prices", "check_quantities", "check_stock",
                 "quantity_factor_pct", "quantity_window_days", "quantity_min_orders"]


# --- the policy ------------------------------------------------------------------------------

def default_policy() -> ApprovalPolicy:
    """The rules as they stand before the brand has edited them (not stored)."""
    return ApprovalPolicy(auto_approve=True, check_hold=True, check_credit=True, check_prices=True,
                          check_quantities=True, check_stock=True, quantity_factor_pct=DEFAULT_QUANTITY_FACTOR_PCT,
                          quantity_window_days=DEFAULT_QUANTITY_WINDOW_DAYS,
                          quantity_min_orders=DEFAULT_QUANTITY_MIN_ORDERS)


def current_policy() -> ApprovalPolicy:
    held = db.session.identity_map.get(identity_key(ApprovalPolicy, POLICY_ID))
    if held is not None:
        return held
    return db.session.scalar(_POLICY) or default_policy()


_POLICY = select(ApprovalPolicy).where(ApprovalPolicy.id == POLICY_ID)  # built once


@functools.cache
def _policy_and_credit():
    """The policy (None before the brand saved one) as the last column of the credit check's
    statement (credit.limits.credit_facts: the buyer locked, its credit profile, its overdue
    invoices), built once: checkout's review reads both in one statement. (The buyer's row is
    locked even when the policy checks no credit: harmless, checkouts of one buyer queue.)"""
    return credit_facts(True).add_columns(ApprovalPolicy).outerjoin(ApprovalPolicy, ApprovalPolicy.id == POLICY_ID)


def update_policy(actor: User, **values) -> ApprovalPolicy:
    """Save the brand's rules (every POLICY_FIELDS value); audited with what changed."""
    factor, window, minimum = (values["quantity_factor_pct"], values["quantity_window_days"],
                               values["quantity_min_orders"])
    if not 100 <= factor <= 10_000:
        raise DomainError(_("倍数必须在 1 到 100 之间。"), field="quantity_factor")
    if not 7 <= window <= 365:
        raise DomainError(_("统计天数必须在 7 到 365 之间。"), field="quantity_window_days")
    if not 1 <= minimum <= 100:
        raise DomainError(_("最少历史次数必须在 1 到 100 之间。"), field="quantity_min_orders")
    policy = db.session.get(ApprovalPolicy, POLICY_ID)
    before = audit.snapshot(policy or default_policy(), POLICY_FIELDS)
    if policy is None:
        policy = default_policy()
        policy.id = POLICY_ID
        db.session.add(policy)
    for name in POLICY_FIELDS:
        setattr(policy, name, values[name])
    policy.updated_by_id = actor.id
    policy.updated_at = utcnow()
    db.session.flush()
    after = audit.snapshot(policy, POLICY_FIELDS)
    if before != after:
        audit.record(actor.id, "approval.policy", "approval_policy", POLICY_ID, before, after)
    return policy


# --- the rules -------------------------------------------------------------------------------

def _named(items: list[Message]) -> Message:
    shown = joined(items[:LINES_NAMED], "；")
    return joined([shown, message("approval.more", n=len(items))], "") if len(items) > LINES_NAMED else shown


def price_changes(order: Order) -> list[Message]:
    """Paid lines whose price for the buyer today differs from the price ordered. Gift lines
    (赠品, priced 0 by their promotion or the points shop) are not judged, and their quantity does
    not count: a product both bought and given is priced at its paid quantity, as the cart did
    (quantity breaks would otherwise price 20 paid + 1 free at the 1-unit tier)."""
    paid = [line for line in order.lines if not line.is_gift]
    products = {line.product_id: line.product for line in paid}
    quantities: dict[int, int] = {}
    for line in paid:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.qty
    prices = quote_prices(region_profile(order.buyer), quantities, products=products)
    changed = []
    for line in paid:
        price = prices.get(line.product_id)
        if price is None or price.unit_price_fen != line.unit_price_fen:
            now = price.unit_price_fen if price else None
            changed.append(message("approval.price_line", code=line.product.code, old=format_yuan(line.unit_price_fen),
                                   new=format_yuan(now) if now is not None else "—"))
    return changed


def usual_quantities(buyer_id: int, product_ids: list[int], window_days: int,
                     exclude_order_id: int | None = None) -> dict[int, tuple[int, float]]:
    """{product_id: (number of past lines, average quantity)} over the paid lines of the buyer's
    orders of the last `window_days` days that were not cancelled or rejected (one query). Gift
    lines do not count: a free unit riding along is not how much of the product the buyer orders."""
    if not product_ids:
        return {}
    params = {"buyer_id": buyer_id, "since": utcnow() - timedelta(days=window_days), "product_ids": list(product_ids)}
    if exclude_order_id is not None:
        params["exclude_order_id"] = exclude_order_id
    return {pid: (int(n), float(avg))
            for pid, n, avg in db.session.execute(_usual_quantities_query(exclude_order_id is not None), params)}


@functools.cache
def _usual_quantities_query(excluding: bool):
    """usual_quantities' statement, built once (every checkout runs it): all values bound."""
    query = (select(OrderLine.product_id, func.count(OrderLine.id), func.avg(OrderLine.qty))
             .join(Order, Order.id == OrderLine.order_id)
             .where(Order.buyer_id == bindparam("buyer_id"), Order.created_at >= bindparam("since"),
                    OrderLine.product_id.in_(bindparam("product_ids", expanding=True)),
                    OrderLine.is_gift.is_(False), Order.status.not_in((S.CANCELLED.value, S.REJECTED.value)))
             .group_by(OrderLine.product_id))
    if excluding:
        query = query.where(Order.id != bindparam("exclude_order_id"))
    return query


def unusual_lines(order: Order, policy: ApprovalPolicy) -> list[Message]:
    history = usual_quantities(order.buyer_id, [line.product_id for line in order.lines],
                               policy.quantity_window_days, exclude_order_id=order.id)
    factor = policy.quantity_factor_pct / 100
    unusual = []
    for line in order.lines:
        if line.is_gift:
            continue
        count, average = history.get(line.product_id, (0, 0.0))
        if count >= policy.quantity_min_orders and line.qty > average * factor:
            unusual.append(message("approval.unusual_line", code=line.product.code,
                                   qty=line.qty, days=policy.quantity_window_days, avg=average))
    return unusual


def stock_shortages(order: Order) -> list[Shortage]:
    """What the seller's default warehouse lacks for the order ([] when the seller keeps no
    stock in the system)."""
    warehouse = default_warehouse(order.seller_id)
    if warehouse is None:
        return []
    wanted: dict[int, int] = {}
    for line in order.lines:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.qty
    available = dict(db.session.execute(
        select(StockBalance.product_id, StockBalance.on_hand - StockBalance.reserved)
        .where(StockBalance.warehouse_id == warehouse.id, StockBalance.product_id.in_(list(wanted)))).all())
    products = {line.product_id: line.product for line in order.lines}
    return [Shortage(pid, products[pid].code, products[pid].name_zh, qty, int(available.get(pid, 0)))
            for pid, qty in sorted(wanted.items()) if available.get(pid, 0) < qty]


def check_rules(order: Order, policy: ApprovalPolicy, priced_now: bool = False,
                credit_facts: tuple | None = None) -> list[HoldReason]:
    """Every switched-on rule the order fails; [] means it may be approved.

    `priced_now`: the order was priced from the database in this very transaction (checkout's
    own review), so the prices rule has nothing to find and is skipped. The stock rule is judged
    here only when another rule already holds the order (to list every reason at once);
    otherwise the approval's reservation judges it, all or nothing, and a shortage there holds
    the order with the same reason (auto_review, recheck). `credit_facts`: what the credit check
    reads, read already in this transaction (credit.limits.check_credit)."""
    reasons: list[HoldReason] = []
    if policy.check_hold or policy.check_credit or order.payment_method == OrderPayment.CREDIT.value:
        for reason in check_credit(order, facts=credit_facts):
            if ((reason.code == "on_hold" and policy.check_hold) or (reason.code in CREDIT_CODES and policy.check_credit)
                    or reason.code in ALWAYS_CODES):
                reasons.append(reason)
    if policy.check_prices and not priced_now:
        changed = price_changes(order)
        if changed:
            reasons.append(HoldReason("price_changed", message("approval.price_changed", lines=_named(changed))))
    if policy.check_quantities:
        unusual = unusual_lines(order, policy)
        if unusual:
            reasons.append(HoldReason("unusual_quantity", message(
                "approval.unusual", factor=_factor_text(policy.quantity_factor_pct), lines=_named(unusual))))
    if policy.check_stock and reasons:
        short = stock_shortages(order)
        if short:
            reasons.append(HoldReason("stock_short", StockShortage(short).detail))
    return reasons


# --- the review ------------------------------------------------------------------------------

@dataclass
class Review:
    order: Order
    outcome: str  # "approved" | "held" | "manual" (auto approval off) | "skipped" (not submitted any more)
    reasons: list[HoldReason] = field(default_factory=list)


def _load(order_id: int, fresh: bool = False) -> Order | None:
    """The order with its parties, lines and products. `fresh`: checkout made it in this
    transaction and left it in the session with all of that attached (ordering.submit_order)."""
    if fresh:
        held = db.session.identity_map.get(identity_key(Order, order_id))
        if held is not None and {"status", "lines", "buyer", "seller"} <= held.__dict__.keys():
            return held
    return db.session.scalar(select(Order).where(Order.id == order_id).options(
        joinedload(Order.buyer), joinedload(Order.seller),
        selectinload(Order.lines).joinedload(OrderLine.product)))


def auto_review(order_id: int, priced_now: bool = False) -> Review:
    """Review a just-submitted order: approve it (actor None, note AUTO_NOTE) or put it on hold
    with its reasons. `priced_now`: checkout priced it in this transaction (check_rules).
    Flushes; the caller commits."""
    order = _load(order_id, fresh=priced_now)
    if order is None or order.status != S.SUBMITTED.value:
        return Review(order, "skipped")
    credit = None
    if priced_now:  # checkout's own review: the policy comes with the credit check's facts (one statement)
        *credit, policy = db.session.execute(_policy_and_credit(), credit_facts_params(order)).one()
        policy = policy or default_policy()
    else:
        policy = current_policy()
    if not policy.auto_approve:
        _tell_seller(order, [])
        return Review(order, "manual")
    reasons = check_rules(order, policy, priced_now, credit_facts=credit)
    if not reasons:
        # A shortage at reservation undoes the status change only (a savepoint); an order inserted
        # in this transaction reserves before its status changes, so it has nothing to undo
        # (lifecycle.transition).
        undo = nullcontext() if lifecycle.is_fresh(order.id) else db.session.begin_nested()
        try:
            with undo:
                lifecycle.transition(order.id, S.APPROVED.value, None, AUTO_NOTE, expected={S.SUBMITTED.value})
        except StockShortage as shortage:
            reasons = [HoldReason("stock_short", shortage.detail)]
        except lifecycle.TransitionRefused:
            return Review(order, "skipped")  # someone acted on it first
        else:
            return Review(order, "approved")
    _hold(order, reasons)
    return Review(order, "held", reasons)


def _hold(order: Order, reasons: list[HoldReason]) -> None:
    _store_reasons(order.id, reasons)
    labels = joined([message(f"review.{r.code}") for r in reasons])
    lifecycle.transition(order.id, S.ON_HOLD.value, None, message("approval.held", reasons=labels),
                         expected={S.SUBMITTED.value})
    _tell_seller(order, reasons)


def _store_reasons(order_id: int, reasons: list[HoldReason]) -> None:
    db.session.execute(delete(OrderReviewReason).where(OrderReviewReason.order_id == order_id,
                                                       OrderReviewReason.code != "manual"))
    now = utcnow()
    db.session.add_all([OrderReviewReason(order_id=order_id, code=r.code, detail=r.message, created_at=now)
                        for r in reasons])
    db.session.flush()


def _tell_seller(order: Order, reasons: list[HoldReason]) -> None:
    if reasons:  # the reasons' labels in the reader's language; their details as stored
        lifecycle.notify_seller(order, kind="order_review", message="order.review", dedupe="review",
                                params={"n": order.number, "reasons": [r.code for r in reasons],
                                        "note": [r.message for r in reasons]})
    else:
        lifecycle.notify_seller(order, kind="order_review", message="order.review_new", dedupe="review",
                                params={"n": order.number, "buyer": order.buyer.name, "lines": order.line_count})


def recheck(seller_id: int, order_id: int, actor: User) -> Review:
    """Run the rules again on a held order of `seller_id` (after a payment, a restock...): if it
    passes now it is approved in the person's name, otherwise its reasons are brought up to date.
    An approval in a person's name always runs the credit check, even where the policy has the
    credit rules off (to approve beyond credit, the person confirms on the approve form)."""
    order = _load(order_id)
    if order is None or order.seller_id != seller_id:
        raise NotFound(_("订单不存在。"))
    if order.status != S.ON_HOLD.value:
        raise lifecycle.TransitionRefused(_("只有暂停审核的订单可以重新检查。"))
    reasons = check_rules(order, current_policy())
    checked = {r.code for r in reasons}
    reasons += [r for r in check_credit(order) if r.code not in checked]
    if not reasons:
        try:
            with db.session.begin_nested():
                lifecycle.transition(order.id, S.APPROVED.value, actor.id, message("approval.rechecked"),
                                     expected={S.ON_HOLD.value})
        except StockShortage as shortage:
            reasons = [HoldReason("stock_short", shortage.detail)]
        else:
            return Review(order, "approved")
    _store_reasons(order.id, reasons)
    return Review(order, "held", reasons)


def reasons_for(order_ids: list[int]) -> dict[int, list[OrderReviewReason]]:
    """The stored review reasons of these orders (one query), for queues and detail pages."""
    found: dict[int, list[OrderReviewReason]] = {}
    if order_ids:
        for row in db.session.scalars(select(OrderReviewReason).where(OrderReviewReason.order_id.in_(order_ids))
                                      .order_by(OrderReviewReason.order_id, OrderReviewReason.id)):
            found.setdefault(row.order_id, []).append(row)
    return found


# The orders a seller still has to decide on: waiting (auto approval off) or held.
WAITING = (S.SUBMITTED.value, S.ON_HOLD.value)


def review_queue(seller_id: int, reason: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """A page of the seller's orders waiting for a decision, oldest first (the longest wait at
    the top), with buyers loaded; `reason` keeps those held for that reason code."""
    query = (ordering.orders_sold_by(seller_id).where(Order.status.in_(WAITING))
             .options(joinedload(Order.buyer)).order_by(Order.created_at, Order.id))
    if reason:
        query = query.where(select(OrderReviewReason.id).where(OrderReviewReason.order_id == Order.id,
                                                               OrderReviewReason.code == reason).exists())
    return paginate(query, page, per_page)


def waiting_count(seller_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Order).where(
        Order.seller_id == seller_id, Order.status.in_(WAITING))) or 0


# --- checkout --------------------------------------------------------------------------------

def place_order(owner: User, buyer: Organisation, idempotency_key: str, fingerprint: str | None = None,
                accept_changes: bool = False, channel: str = OrderChannel.WEB.value,
                note: str = "", terms=None, use_points: bool = False) -> ordering.Submission:
    """Checkout for every channel: ordering.submit_order, then the automatic review of the order
    it created (a repeated submit returns the order as it is). The order's status afterwards says
    what happened: approved, on_hold (see reasons_for) or submitted (auto approval off)."""
    submission = ordering.submit_order(owner, buyer, idempotency_key, fingerprint, accept_changes=accept_changes,
                                       channel=channel, note=note, terms=terms, use_points=use_points,
                                       defer_history=True)
    if submission.created:
        # The review's status change writes the order's "submitted" history with its own; when it
        # makes none (automatic approval off), it is written here.
        auto_review(submission.order.id, priced_now=True)
        lifecycle.write_deferred(submission.order.id)
    return submission


def _factor_text(pct: int) -> str:
    return f"{pct / 100:g}"
