"""Accruals: each source document adds its share to the basis of the agreements that cover its
dealer, in the transaction that creates the document (the credit services and shipping call
`on_invoice`, `on_credit_note`, `on_payment`, `on_shipment`). Only brand → dealer documents
count. `rebuild` recomputes a date range from the documents (the demo, or after an agreement
changed): it deletes the range's accruals and writes them again, so it is idempotent.

Both paths go through `_rows_for`, one computation: what each document adds to each agreement
(package docstring: bases and scope)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, delete, insert, or_, select

from app.extensions import db
from app.models import Invoice, Order, OrderLine, Organisation, OrgKind, Product
from app.models.credit import CreditNote, Payment, PaymentAllocation
from app.models.fulfilment import ReturnLine, Shipment, ShipmentLine
from app.models.promotions import OrderLineAdjustment, Promotion
from app.models.rebates import AgreementStatus, RebateAccrual, RebateAgreement
from app.services.core.clock import LOCAL
from app.services.rebates.maths import half_up, period_bounds

COUNTED_PAYMENT_METHODS = ("bank_transfer", "cod", "prepayment")
REBUILD_BATCH = 100  # dealers per batch of a rebuild


@dataclass(frozen=True)
class LineFact:
    order_id: int
    product_id: int
    category_id: int | None
    fen: int
    qty: int
    gift: bool
    promoted: bool


@dataclass(frozen=True)
class Document:
    """A source document as the maths sees it: `lines` the order lines it concerns with the
    quantity it moves ({order line id: qty}, shipments and returns), `amounts` {order id: fen}
    the money it moves per order (invoices, credit notes, payments; a shipment names its order
    with 0)."""
    kind: str
    id: int
    ref: str
    dealer_id: int
    on: date
    amounts: tuple[tuple[int, int], ...] = ()
    lines: tuple[tuple[int, int], ...] = ()
    negative: bool = False


def agreements_for(dealers: list[Organisation]) -> dict[int, list[RebateAgreement]]:
    """{dealer id: the agreements (active or ended) that name it or its tier} in one query."""
    if not dealers:
        return {}
    tiers = {d.tier for d in dealers if d.tier}
    rows = list(db.session.scalars(select(RebateAgreement).where(
        RebateAgreement.status != AgreementStatus.DRAFT.value,
        or_(RebateAgreement.dealer_id.in_([d.id for d in dealers]), RebateAgreement.dealer_tier.in_(tiers or {"-"})))))
    return {d.id: [a for a in rows if a.dealer_id == d.id or (a.dealer_id is None and a.dealer_tier == d.tier)]
            for d in dealers}


def _covers(agreement: RebateAgreement, on: date) -> bool:
    return agreement.starts_on <= on and (agreement.ends_on is None or on <= agreement.ends_on)


def _in_scope(agreement: RebateAgreement, line: LineFact) -> bool:
    if line.gift or (agreement.exclude_promoted and line.promoted):
        return False
    if agreement.scope == "products":
        return line.product_id in set(agreement.product_ids or [])
    if agreement.scope == "categories":
        return line.category_id in set(agreement.category_ids or [])
    return True


def line_facts(order_ids) -> dict[int, LineFact]:
    """{order line id: fact} for the orders, one query (brand-funded promotions flag a line)."""
    if not order_ids:
        return {}
    promoted = (select(OrderLineAdjustment.order_line_id).join(Promotion, Promotion.id == OrderLineAdjustment.promotion_id)
                .where(Promotion.funding.in_(("brand", "shared")), OrderLineAdjustment.amount_fen > 0))
    rows = db.session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, Product.category_id, OrderLine.line_total_fen,
               OrderLine.qty, OrderLine.is_gift, OrderLine.id.in_(promoted))
        .join(Product, Product.id == OrderLine.product_id).where(OrderLine.order_id.in_(list(order_ids))))
    return {r[0]: LineFact(r[1], r[2], r[3], int(r[4]), int(r[5]), bool(r[6]), bool(r[7])) for r in rows}


def _rows_for(docs: list[Document], agreements: dict[int, list[RebateAgreement]],
              facts: dict[int, LineFact]) -> list[dict]:
    """The accrual rows the documents make (see the module docstring)."""
    by_order: dict[int, list[LineFact]] = {}
    for fact in facts.values():
        by_order.setdefault(fact.order_id, []).append(fact)
    kinds = {"invoiced": ("invoice", "credit_note"), "payments": ("payment",), "cases": ("shipment", "credit_note")}
    rows = []
    for doc in docs:
        for agreement in agreements.get(doc.dealer_id, []):
            if doc.kind not in kinds[agreement.basis] or not _covers(agreement, doc.on):
                continue
            if agreement.basis == "cases":
                value = sum(qty for line_id, qty in doc.lines
                            if line_id in facts and _in_scope(agreement, facts[line_id]))
            else:
                value = 0
                for order_id, amount in doc.amounts:
                    lines = by_order.get(order_id, [])
                    whole = sum(f.fen for f in lines)
                    scoped = sum(f.fen for f in lines if _in_scope(agreement, f))
                    if whole > 0 and scoped > 0:
                        value += amount if scoped == whole else half_up(amount * scoped, whole)
            if value == 0:
                continue
            rows.append(dict(agreement_id=agreement.id, dealer_id=doc.dealer_id,
                             period_start=period_bounds(agreement.period, doc.on)[0], occurred_on=doc.on,
                             source_kind=doc.kind, source_id=doc.id, source_ref=doc.ref[:30],
                             base_value=-value if doc.negative else value))
    return rows


def _record(docs: list[Document]) -> int:
    """Write the documents' accruals (live path: a handful of rows; a document already recorded
    is left alone)."""
    docs = [d for d in docs if d.amounts or d.lines]
    if not docs:
        return 0
    dealers = list(db.session.scalars(select(Organisation).where(
        Organisation.id.in_({d.dealer_id for d in docs}), Organisation.kind == OrgKind.DEALER.value)))
    agreements = agreements_for(dealers)
    if not any(agreements.values()):
        return 0
    order_ids = {o for d in docs for o, _a in d.amounts}
    rows = _rows_for(docs, agreements, line_facts(order_ids))
    existing = set(db.session.execute(select(RebateAccrual.agreement_id, RebateAccrual.dealer_id,
                                             RebateAccrual.source_kind, RebateAccrual.source_id).where(
        or_(*[and_(RebateAccrual.source_kind == d.kind, RebateAccrual.source_id == d.id) for d in docs]))).all())
    rows = [r for r in rows if (r["agreement_id"], r["dealer_id"], r["source_kind"], r["source_id"]) not in existing]
    if rows:
        db.session.execute(insert(RebateAccrual), rows)
    return len(rows)


def _is_brand_to_dealer(seller_id: int, buyer_id: int) -> bool:
    kinds = dict(db.session.execute(select(Organisation.id, Organisation.kind)
                                    .where(Organisation.id.in_((seller_id, buyer_id)))).all())
    return kinds.get(seller_id) == OrgKind.BRAND.value and kinds.get(buyer_id) == OrgKind.DEALER.value


def _local_day(at: datetime) -> date:
    return at.astimezone(LOCAL).date()


# --- the live hooks (one line each in the services that create the documents) ----------------

def on_invoice(invoice: Invoice) -> int:
    if not _is_brand_to_dealer(invoice.seller_id, invoice.buyer_id):
        return 0
    return _record([Document("invoice", invoice.id, invoice.number, invoice.buyer_id, _local_day(invoice.issued_at),
                             amounts=((invoice.order_id, invoice.total_fen),))])


def _credit_note_document(note: CreditNote, returned: dict[int, list[tuple[int, int]]]) -> Document:
    return Document("credit_note", note.id, note.number or "", note.customer_id, note.issued_on,
                    amounts=((note.order_id, note.amount_fen),), lines=tuple(returned.get(note.id, ())), negative=True)


def _returned_lines(notes: list[CreditNote]) -> dict[int, list[tuple[int, int]]]:
    """{credit note id: [(order line id, qty)]} of the returns the notes credit ("return:<id>")."""
    ids = {}
    for note in notes:
        ref = note.source_ref or ""
        if note.reason == "return" and ref.startswith("return:") and ref[7:].isdigit():
            ids[int(ref[7:])] = note.id
    if not ids:
        return {}
    out: dict[int, list[tuple[int, int]]] = {}
    for return_id, line_id, qty in db.session.execute(select(ReturnLine.return_id, ReturnLine.order_line_id,
                                                             ReturnLine.qty).where(ReturnLine.return_id.in_(ids))):
        out.setdefault(ids[return_id], []).append((line_id, qty))
    return out


def on_credit_note(note: CreditNote) -> int:
    if note.order_id is None or not _is_brand_to_dealer(note.seller_id, note.customer_id):
        return 0
    return _record([_credit_note_document(note, _returned_lines([note]))])


def on_payment(payment: Payment) -> int:
    if payment.method not in COUNTED_PAYMENT_METHODS or not _is_brand_to_dealer(payment.seller_id, payment.customer_id):
        return 0
    amounts = db.session.execute(select(Invoice.order_id, PaymentAllocation.amount_fen)
                                 .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                                 .where(PaymentAllocation.payment_id == payment.id)).all()
    return _record([Document("payment", payment.id, payment.number or "", payment.customer_id, payment.received_on,
                             amounts=tuple((o, int(a)) for o, a in amounts))])


def on_shipment(shipment: Shipment) -> int:
    order = db.session.get(Order, shipment.order_id)
    if not _is_brand_to_dealer(order.seller_id, order.buyer_id):
        return 0
    return _record([Document("shipment", shipment.id, shipment.number or "", order.buyer_id,
                             _local_day(shipment.shipped_at), amounts=((order.id, 0),),
                             lines=tuple((line.order_line_id, line.qty) for line in shipment.lines))])


# --- rebuilding a range from the documents -----------------------------------------------------

def _utc_bounds(start: date, end: date):
    return (datetime.combine(start, time(), LOCAL), datetime.combine(end + timedelta(days=1), time(), LOCAL))


def documents_between(start: date, end: date, dealer_ids: set[int]) -> list[Document]:
    """Every brand → dealer source document of the days start..end (a few grouped queries)."""
    lo, hi = _utc_bounds(start, end)
    docs: list[Document] = []
    dealers = list(dealer_ids) or [-1]
    for inv in db.session.execute(select(Invoice.id, Invoice.number, Invoice.buyer_id, Invoice.issued_at,
                                         Invoice.order_id, Invoice.total_fen)
                                  .join(Organisation, Organisation.id == Invoice.seller_id)
                                  .where(Organisation.kind == OrgKind.BRAND.value, Invoice.buyer_id.in_(dealers),
                                         Invoice.issued_at >= lo, Invoice.issued_at < hi)):
        docs.append(Document("invoice", inv.id, inv.number, inv.buyer_id, _local_day(inv.issued_at),
                             amounts=((inv.order_id, int(inv.total_fen)),)))
    notes = list(db.session.scalars(select(CreditNote).join(Organisation, Organisation.id == CreditNote.seller_id)
                                    .where(Organisation.kind == OrgKind.BRAND.value, CreditNote.order_id.is_not(None),
                                           CreditNote.customer_id.in_(dealers),
                                           CreditNote.issued_on >= start, CreditNote.issued_on <= end)))
    returned = _returned_lines(notes)
    docs += [_credit_note_document(n, returned) for n in notes]
    payments: dict[int, tuple] = {}
    for pid, number, customer, on, order_id, amount in db.session.execute(
            select(Payment.id, Payment.number, Payment.customer_id, Payment.received_on, Invoice.order_id,
                   PaymentAllocation.amount_fen)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .join(Organisation, Organisation.id == Payment.seller_id)
            .where(Organisation.kind == OrgKind.BRAND.value, Payment.customer_id.in_(dealers),
                   Payment.method.in_(COUNTED_PAYMENT_METHODS), Payment.received_on >= start, Payment.received_on <= end)):
        if pid not in payments:
            payments[pid] = (number or "", customer, on, [])
        payments[pid][3].append((order_id, int(amount)))
    docs += [Document("payment", pid, n, c, on, amounts=tuple(a)) for pid, (n, c, on, a) in payments.items()]
    shipments: dict[int, tuple] = {}
    for sid, number, buyer, at, line_id, qty, order_id in db.session.execute(
            select(Shipment.id, Shipment.number, Order.buyer_id, Shipment.shipped_at, ShipmentLine.order_line_id,
                   ShipmentLine.qty, Shipment.order_id)
            .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id).join(Order, Order.id == Shipment.order_id)
            .join(Organisation, Organisation.id == Order.seller_id)
            .where(Organisation.kind == OrgKind.BRAND.value, Order.buyer_id.in_(dealers),
                   Shipment.shipped_at >= lo, Shipment.shipped_at < hi)):
        if sid not in shipments:
            shipments[sid] = (number or "", buyer, _local_day(at), [], order_id)
        shipments[sid][3].append((line_id, int(qty)))
    docs += [Document("shipment", sid, n, b, on, amounts=((o, 0),), lines=tuple(ls))
             for sid, (n, b, on, ls, o) in shipments.items()]
    return docs


def rebuild(start: date, end: date, agreement_ids: list[int] | None = None) -> int:
    """Recompute the accruals of the days start..end for the agreements (all by default):
    delete them, then write what the documents say. Returns the rows written."""
    query = select(RebateAgreement).where(RebateAgreement.status != AgreementStatus.DRAFT.value)
    if agreement_ids is not None:
        query = query.where(RebateAgreement.id.in_(agreement_ids or [-1]))
    chosen = list(db.session.scalars(query))
    wipe = delete(RebateAccrual).where(RebateAccrual.occurred_on >= start, RebateAccrual.occurred_on <= end)
    if agreement_ids is not None:
        wipe = wipe.where(RebateAccrual.agreement_id.in_(agreement_ids or [-1]))
    db.session.execute(wipe.execution_options(synchronize_session=False))
    if not chosen:
        return 0
    dealers = list(db.session.scalars(select(Organisation).where(
        Organisation.kind == OrgKind.DEALER.value,
        or_(Organisation.id.in_([a.dealer_id for a in chosen if a.dealer_id] or [-1]),
            Organisation.tier.in_([a.dealer_tier for a in chosen if a.dealer_tier] or ["-"])))))
    wanted = {a.id for a in chosen}
    agreements = {d: [a for a in rows if a.id in wanted] for d, rows in agreements_for(dealers).items()}
    written = 0
    # A batch of dealers at a time keeps memory flat whatever the number of dealers.
    for first in range(0, len(dealers), REBUILD_BATCH):
        docs = documents_between(start, end, {d.id for d in dealers[first:first + REBUILD_BATCH]})
        ids = sorted({o for d in docs for o, _a in d.amounts})  # a shipment names its order with amount 0
        facts: dict[int, LineFact] = {}
        for i in range(0, len(ids), 5000):
            facts.update(line_facts(ids[i:i + 5000]))
        rows = _rows_for(docs, agreements, facts)
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(RebateAccrual), rows[i:i + 5000])
        written += len(rows)
    return written
