"""Delivery sign-off: the buyer received a shipped order, with what was short or damaged.

Two ways to sign, both ending in the lifecycle's shipped → delivered:
- `confirm_receipt(buyer_id, ...)`: the retailer confirms in its portal;
- `sign_off_with_code(seller_id, ...)`: the driver gets the order's delivery code from the
  retailer and the dealer enters it. A wrong code is refused and counted; at MAX_ATTEMPTS wrong
  codes sign-off by code is locked for the order (the retailer can still confirm in its portal).
  The counter is a fact to keep even though the sign-off failed: WrongDeliveryCode tells the
  caller to COMMIT before showing the error.

The delivery code: 6 digits, never stored. It is HMAC-SHA256(SECRET_KEY, "delivery-code:<order
id>:<salt>") reduced to 6 digits, where the salt is random per order (made at the first
shipment), so neither a database dump nor the key alone gives the codes. The retailer's page
shows it; the seller's pages never do, and it is not printed on the delivery note the driver
carries (that would defeat it). Changing SECRET_KEY changes the codes of orders on the road.

Short and damaged quantities (at most what was shipped of each line, together) are recorded as
DeliveryDiscrepancy lines and credited to the buyer: one credit note per kind (reasons
short_delivery and damaged), settling the order's invoice, valued as differences of cumulative
line values (progress.credit_value) so a line's credits never drift from its total. The seller's stock does not
move: the goods left its warehouse at shipping; what comes back later is a return. A dealer signing for the brand's
delivery (a replenishment order) receives what arrived into its own warehouse, in the same transaction and under the
same order lock, so once (receiving.py).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, select, update

from app.extensions import db
from app.models import Order, OrderStatus, utcnow
from app.models.credit import CreditNoteReason
from app.models.fulfilment import DeliveryCode, DeliveryDiscrepancy, DeliverySignOff, DiscrepancyKind, SignOffMethod
from app.services.core.messages import joined, message
from app.services.core import audit
from app.services.ordering import lifecycle
from app.services.core.errors import DomainError
from app.services.fulfilment import receiving
from app.services.fulfilment.progress import LineProgress, credit_value, issue_credit, locked_order, progress
from app.services.inventory.ledger import insert_ignoring_conflicts
from app.services.loyalty.earning import earn_for_order
from app.services.promotions.redemption import release_undelivered

S = OrderStatus
CODE_DIGITS = 6
MAX_ATTEMPTS = 5
MAX_NOTE = 500
KINDS = (DiscrepancyKind.SHORT.value, DiscrepancyKind.DAMAGED.value)
CREDIT_REASONS = {DiscrepancyKind.SHORT.value: CreditNoteReason.SHORT_DELIVERY.value,
                  DiscrepancyKind.DAMAGED.value: CreditNoteReason.DAMAGED.value}


class WrongDeliveryCode(DomainError):
    """The code was wrong and the attempt was counted: commit, then show the message."""


class SignOffLocked(DomainError):
    """Too many wrong codes: sign-off by code is closed for this order."""


# ---- the code --------------------------------------------------------------------------------

def prepare_code(order_id: int) -> None:
    """Give the order its random salt (at the first shipment); later calls change nothing."""
    db.session.execute(insert_ignoring_conflicts(DeliveryCode).values(
        order_id=order_id, salt=secrets.token_hex(8), failed_attempts=0))


def _code_row(order_id: int) -> DeliveryCode | None:
    return db.session.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order_id)
                             .execution_options(populate_existing=True))


def _derive(order_id: int, salt: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"delivery-code:{order_id}:{salt}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def code_for(order_id: int) -> str:
    """The order's delivery code (for the buyer's page only). An order shipped before codes
    existed has no salt row: its code uses an empty salt, the same in check_code."""
    row = _code_row(order_id)
    return _derive(order_id, row.salt if row else "")


@dataclass(frozen=True)
class CodeState:
    failed_attempts: int
    locked: bool

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_ATTEMPTS - self.failed_attempts)


def code_state(order_id: int) -> CodeState:
    row = _code_row(order_id)
    return CodeState(row.failed_attempts if row else 0, bool(row and row.locked_at))


def _count_failure(order_id: int) -> CodeState:
    """One more wrong attempt, in one conditional UPDATE (two drivers typing at once both count);
    the attempt that reaches MAX_ATTEMPTS locks."""
    db.session.execute(insert_ignoring_conflicts(DeliveryCode).values(order_id=order_id, salt="", failed_attempts=0))
    now = utcnow()
    table = DeliveryCode.__table__
    db.session.execute(
        update(table).where(table.c.order_id == order_id)
        .values(failed_attempts=table.c.failed_attempts + 1, last_failed_at=now,
                locked_at=case((table.c.failed_attempts + 1 >= MAX_ATTEMPTS, now), else_=table.c.locked_at)))
    return code_state(order_id)


# ---- discrepancies ---------------------------------------------------------------------------

def _checked_discrepancies(lines: list[LineProgress], found: dict[tuple[int, str], int]) -> dict[tuple[int, str], int]:
    """{(order_line_id, kind): qty > 0}; short + damaged of a line at most what was shipped."""
    by_id = {row.line.id: row for row in lines}
    wanted: dict[tuple[int, str], int] = {}
    for (line_id, kind), qty in found.items():
        if line_id not in by_id or kind not in KINDS:
            raise DomainError(_("订单行不存在。"), field="lines")
        if qty is None or qty < 0:
            raise DomainError(_("数量不能为负数。"), field=f"{kind}_{line_id}")
        if qty:
            wanted[(line_id, kind)] = qty
    for line_id, row in by_id.items():
        total = sum(wanted.get((line_id, kind), 0) for kind in KINDS)
        if total > row.shipped:
            field = f"damaged_{line_id}" if wanted.get((line_id, "damaged")) else f"short_{line_id}"
            raise DomainError(_("短少和破损合计不能超过实发数量 %(n)d。", n=row.shipped), field=field)
    return wanted


# ---- signing -----------------------------------------------------------------------------------

def _check_signable(order: Order, seen: str | None) -> None:
    if seen and order.status != seen:
        raise lifecycle.TransitionRefused(_("订单状态已变为“%(now)s”，请刷新后查看。",
                                            now=OrderStatus.label_of(order.status)))
    if order.status != S.SHIPPED.value:
        raise lifecycle.TransitionRefused(_("订单当前状态为“%(now)s”，全部发货后才能签收。",
                                            now=OrderStatus.label_of(order.status)))


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_("说明最多 %(n)d 个字。", n=MAX_NOTE), field="note")
    return note


def confirm_receipt(buyer_id: int, order_id: int, actor_id: int, discrepancies: dict[tuple[int, str], int],
                    note: str = "", seen: str | None = None, warehouse_id: int | None = None) -> DeliverySignOff:
    """The buyer confirms it received its shipped order (in its portal). `warehouse_id`: where a
    dealer receives the brand's goods (one of its active warehouses; None: its default)."""
    note = _clean_note(note)
    order = locked_order(order_id, buyer_id=buyer_id)
    _check_signable(order, seen)
    lines = progress(order)
    wanted = _checked_discrepancies(lines, discrepancies)
    return _sign(order, SignOffMethod.PORTAL.value, actor_id, wanted, note, lines, warehouse_id=warehouse_id)


def sign_off_with_code(seller_id: int, order_id: int, actor_id: int, code: str,
                       discrepancies: dict[tuple[int, str], int], note: str = "",
                       seen: str | None = None) -> DeliverySignOff:
    """The seller signs for the buyer with the code the buyer gave the driver. Raises
    WrongDeliveryCode (commit it!) for a wrong code, SignOffLocked once locked."""
    note = _clean_note(note)
    code = (code or "").strip()
    order = locked_order(order_id, seller_id=seller_id)
    _check_signable(order, seen)
    lines = progress(order)
    wanted = _checked_discrepancies(lines, discrepancies)
    if code_state(order.id).locked:
        raise SignOffLocked(_("收货码错误次数过多，已锁定：请客户在订货平台确认收货。"), field="code")
    if not (code.isdigit() and len(code) == CODE_DIGITS):
        raise DomainError(_("请输入 %(n)d 位数字收货码。", n=CODE_DIGITS), field="code")
    if not hmac.compare_digest(code, code_for(order.id)):
        state = _count_failure(order.id)
        audit.record(actor_id, "delivery.code_failed", "order", order.id, None,
                     {"failed_attempts": state.failed_attempts, "locked": state.locked})
        if state.locked:
            raise WrongDeliveryCode(_("收货码错误。错误次数已达 %(n)d 次，按收货码签收已锁定：请客户在订货平台确认收货。",
                                      n=MAX_ATTEMPTS), field="code")
        raise WrongDeliveryCode(_("收货码错误，还可以再试 %(n)d 次。", n=state.attempts_left), field="code")
    return _sign(order, SignOffMethod.CODE.value, actor_id, wanted, note, lines)


def sign_off_by_carrier(seller_id: int, order_id: int, carrier: str, waybill: str) -> DeliverySignOff | None:
    """The carrier's delivered event, for a dealer that trusts that carrier's proof of delivery
    (app/services/logistics decides that): signs the order off with nothing short or damaged.
    None when the order is not (or no longer) waiting for sign-off: the event is then only shown."""
    order = locked_order(order_id, seller_id=seller_id)
    if order.status != S.SHIPPED.value:
        return None
    lines = progress(order)
    sign_off = _sign(order, SignOffMethod.CARRIER.value, None, {}, "", lines,
                     message("delivery.by_carrier", carrier=carrier, waybill=waybill))
    return sign_off


def _sign(order: Order, method: str, actor_id: int, wanted: dict[tuple[int, str], int], note: str,
          progress_rows: list[LineProgress], how=None, warehouse_id: int | None = None) -> DeliverySignOff:
    lines = {line.id: line for line in order.lines}
    credited = {row.line.id: row.credited for row in progress_rows}  # the cancelled rest, if any
    sign_off = DeliverySignOff(order_id=order.id, method=method, note=note, signed_at=utcnow(), signed_by_id=actor_id)
    for (line_id, kind), qty in sorted(wanted.items()):
        amount = credit_value(lines[line_id], credited[line_id], qty)
        credited[line_id] += qty
        sign_off.discrepancies.append(DeliveryDiscrepancy(order_line_id=line_id, product_id=lines[line_id].product_id,
                                                          kind=kind, qty=qty, amount_fen=amount))
    db.session.add(sign_off)
    db.session.flush()
    undelivered: dict[int, int] = {}  # short or damaged: credited, so their promotion share goes back too
    for d in sign_off.discrepancies:
        undelivered[d.order_line_id] = undelivered.get(d.order_line_id, 0) + d.qty
    release_undelivered(order.id, undelivered)
    found_lines = [message("delivery.short" if d.kind == "short" else "delivery.damaged",
                           product=lines[d.order_line_id].product.name_zh, qty=d.qty)
                   for d in sign_off.discrepancies]
    summary = str(joined(found_lines, "；"))  # the credit notes' text, as the signer reads it
    event_note = how or message("delivery.by_code" if method == SignOffMethod.CODE.value else "delivery.by_buyer")
    if found_lines:
        event_note = message("delivery.with_lines", how=event_note, lines=joined(found_lines, "；"))
    if note:
        event_note = message("delivery.with_note", text=event_note, note=note)
    order = lifecycle.transition(order.id, S.DELIVERED.value, actor_id, event_note, expected={S.SHIPPED.value})
    for kind in KINDS:
        found = [d for d in sign_off.discrepancies if d.kind == kind]
        amount = sum(d.amount_fen for d in found)
        credit_note = issue_credit(order, actor_id, amount, CREDIT_REASONS[kind], f"delivery:{sign_off.id}",
                                   summary)
        for d in found:
            d.credit_note_id = credit_note.id if credit_note else None
    earn_for_order(order)  # points on what was delivered and paid (services/loyalty/earning.py)
    booked = receiving.stock_delivery(order, sign_off, actor_id, warehouse_id)  # a dealer's goods in from the brand
    audit.record(actor_id, "delivery.sign_off", "order", order.id, None, {
        "method": method, "discrepancies": [[d.order_line_id, d.kind, d.qty] for d in sign_off.discrepancies],
        **({"stocked": {"warehouse_id": booked.warehouse.id if booked.warehouse else None, "qty": booked.qty,
                        "not_booked": booked.not_booked}} if booked else {})})
    db.session.flush()
    return sign_off
