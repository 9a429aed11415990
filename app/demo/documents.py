"""The documents each seeded order's status implies, written alongside the order by the "orders"
step (app/demo/orders.py), with the rows the real services write (app/services/fulfilment,
app/services/credit):

- shipped, delivered, completed: one shipment of every line in full (ShipmentLine) with the lot
  it left in (ShipmentLot: batch and expiry copied, lot_id empty: the stock ledger only covers
  the last weeks), and the invoice issued at shipping (due after the buyer's payment terms);
- delivered, completed: the buyer's sign-off; about one in forty records a damaged case, with
  the credit note that settles that part of the invoice (a `credit` payment), as delivery.py does;
- payments: shops pay cash on delivery (the rest of the invoice, the day they sign); dealers pay
  the brand by bank transfer before the due date, so only invoices not yet due are open, except
  for a few dealers whose invoices that fell due in the last 20 days are overdue (the hold case);
- returns: a few completed orders have an accepted return (credit note kept as unused credit,
  as the invoice was already paid) or a refused one; a few recent deliveries have one waiting.

Events: submitted, then approved (78 % by the automatic review: no actor), shipped, delivered,
completed as far as the status goes, or cancelled / rejected with a note; the order-cycle
report (app/services/approval/reports.py) reads them. Random choices come from a generator of
their own, so the orders are the same with or without the documents.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import text

from app.extensions import db
from app.services.fulfilment.progress import line_value

SHANGHAI = timezone(timedelta(hours=8))
CARRIERS = ("自有车辆", "自有车辆", "顺丰速运", "德邦物流", "安能物流")
DAMAGED_SHARE = 1 / 40
RETURN_SHARE = 1 / 150          # of completed orders
PENDING_RETURN_SHARE = 1 / 8    # of orders delivered in the last days (the dealers have returns to decide)
OVERDUE_DEALER_EVERY = 12       # every twelfth dealer (never dealer001) leaves its invoices of the last 20 days overdue
RETURN_REASONS = ("包装破损", "临期商品", "发错货", "滞销退回")
DELIVERY_NOTES = ("外箱压坏", "一箱破损", "")
DONE = ("delivered", "completed")
AUTO_APPROVED_SHARE = 0.78      # the rest a person approved (the automatic review held nothing in the demo)
REJECT_NOTES = ("库存不足", "超出信用额度", "地址超出配送范围")
CANCEL_NOTES = ("客户取消", "重复下单", "改为下次一起送")

EVENT_COLUMNS = ("id", "order_id", "at", "actor_id", "from_status", "to_status", "note")
SHIPMENT_COLUMNS = ("id", "number", "order_id", "seller_id", "carrier", "tracking_no", "note", "shipped_at",
                    "shipped_by_id")
INVOICE_COLUMNS = ("id", "number", "order_id", "seller_id", "buyer_id", "total_fen", "tax_fen", "paid_fen", "status",
                   "issued_at", "due_on")
SIGN_OFF_COLUMNS = ("id", "order_id", "method", "note", "signed_at", "signed_by_id")
DISCREPANCY_COLUMNS = ("id", "sign_off_id", "order_line_id", "product_id", "kind", "qty", "amount_fen",
                       "credit_note_id")
PAYMENT_COLUMNS = ("id", "number", "customer_id", "seller_id", "method", "amount_fen", "received_on", "reference",
                   "note", "recorded_by_id", "recorded_at")
ALLOCATION_COLUMNS = ("id", "payment_id", "invoice_id", "amount_fen")
CREDIT_NOTE_COLUMNS = ("id", "number", "customer_id", "seller_id", "order_id", "invoice_id", "reason", "source_ref",
                       "note", "amount_fen", "remaining_fen", "issued_on", "issued_at", "issued_by_id")
RETURN_COLUMNS = ("id", "number", "order_id", "buyer_id", "seller_id", "status", "reason", "amount_fen",
                  "requested_at", "requested_by_id", "disposition", "decision_note", "decided_at", "decided_by_id",
                  "credit_note_id")
RETURN_LINE_COLUMNS = ("id", "return_id", "order_line_id", "product_id", "qty")

TABLES = (("order_events", EVENT_COLUMNS), ("shipments", SHIPMENT_COLUMNS), ("invoices", INVOICE_COLUMNS),
          ("credit_notes", CREDIT_NOTE_COLUMNS), ("delivery_sign_offs", SIGN_OFF_COLUMNS),
          ("delivery_discrepancies", DISCREPANCY_COLUMNS), ("payments", PAYMENT_COLUMNS),
          ("payment_allocations", ALLOCATION_COLUMNS), ("return_requests", RETURN_COLUMNS),
          ("return_lines", RETURN_LINE_COLUMNS))
BULK_TABLES = tuple(name for name, _columns in TABLES if name != "order_events") + ("shipment_lines", "shipment_lots")


class DocumentWriter:
    """Rows for every table in TABLES, with ids from local counters; `flush` loads them (after
    the orders they refer to)."""

    def __init__(self, ctx, rng):
        self.ctx, self.rng = ctx, rng
        self.loader = ctx.loader
        self.rows = {name: [] for name, _columns in TABLES}
        self.next_id = {name: self.loader.allocate_ids(name, 0).start for name, _columns in TABLES}
        self.today = ctx.today
        self.now = ctx.started_at - timedelta(minutes=5)

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def flush(self) -> None:
        for name, columns in TABLES:
            rows = self.rows[name]
            if rows:
                self.loader.allocate_ids(name, len(rows))  # the ids the rows already carry
                self.loader.load(name, columns, (tuple(row) for row in rows))
                self.rows[name] = []

    def add(self, *, order_id: int, status: str, created: datetime, placed_by: int, buyer_id: int, seller_id: int,
            seller_user: int, buyer_user: int, lines: list[tuple], total: int, tax: int, terms_days: int,
            dealer_index: int | None) -> datetime:
        """The order's status events and documents; returns the time of its last event.
        `lines` are the order_lines rows just written; `dealer_index` is set for a dealer's
        replenishment order."""
        by_code = dealer_index is None and self.rng.random() < 0.3  # the driver types the shop's code
        times = self._events(order_id, status, created, placed_by, seller_user,
                             seller_user if by_code else buyer_user, buyer_user)
        if "shipped" in times:
            self._documents(order_id, status, times, buyer_id, seller_id, seller_user, buyer_user, lines, total, tax,
                            terms_days, dealer_index, by_code)
        return max(times.values())

    def _events(self, order_id, status, created, placed_by, seller_user, signer, buyer_user) -> dict[str, datetime]:
        """submitted → approved (by the automatic review, or by a person) → shipped → delivered →
        completed, as far as `status`; or submitted → cancelled / rejected. At most now."""
        rng = self.rng
        auto = rng.random() < AUTO_APPROVED_SHARE
        steps = [("submitted", timedelta(0), placed_by, "")]
        if status in ("cancelled", "rejected"):
            cancelled = status == "cancelled"
            steps.append((status, timedelta(hours=0.2 + rng.random() * (4 if cancelled else 6)),
                          placed_by if cancelled else seller_user,
                          rng.choice(CANCEL_NOTES if cancelled else REJECT_NOTES)))
        elif status != "submitted":
            steps.append(("approved", timedelta(minutes=1 + rng.random() * 2) if auto
                          else timedelta(hours=0.5 + rng.random() * 6), None if auto else seller_user, ""))
            for next_status, low, spread, actor in (("shipped", 2, 18, seller_user), ("delivered", 4, 22, signer),
                                                    ("completed", 20, 50, buyer_user)):
                if status == steps[-1][0]:
                    break
                steps.append((next_status, timedelta(hours=low + rng.random() * spread), actor, ""))
        times: dict[str, datetime] = {}
        at, previous = created, None
        for n, (to_status, delay, actor, note) in enumerate(steps):
            if n:  # before now (a minute left for each later step), after the previous event
                at = max(min(at + delay, self.now - timedelta(minutes=len(steps) - n)), at + timedelta(seconds=30))
            times[to_status] = at
            self.rows["order_events"].append((self._id("order_events"), order_id, at, actor, previous, to_status,
                                              note))
            previous = to_status
        return times

    def _documents(self, order_id, status, times, buyer_id, seller_id, seller_user, buyer_user, lines, total, tax,
                   terms_days, dealer_index, by_code) -> None:
        rng, rows = self.rng, self.rows
        shipped_at = times["shipped"]
        shipment_id = self._id("shipments")
        carrier = rng.choice(CARRIERS)
        tracking = "" if carrier == "自有车辆" else f"{rng.randrange(10 ** 11, 10 ** 12)}"
        rows["shipments"].append((shipment_id, f"SH{shipment_id:08d}", order_id, seller_id, carrier, tracking, "",
                                  shipped_at, seller_user))
        ship_day = shipped_at.astimezone(SHANGHAI).date()  # its lines and lots: add_shipment_lines_and_lots

        invoice_id = self._id("invoices")
        due_on = ship_day + timedelta(days=terms_days)
        invoice = [invoice_id, f"INV{ship_day:%Y%m%d}{order_id:08d}", order_id, seller_id, buyer_id, total, tax,
                   0, "open", shipped_at, due_on]
        rows["invoices"].append(invoice)
        signed_day = None
        if status in DONE:
            signed_at = times["delivered"]
            signed_day = signed_at.astimezone(SHANGHAI).date()
            self._sign_off(order_id, signed_at, buyer_id, seller_id, buyer_user, seller_user, lines, invoice,
                           by_code)
        self._pay(invoice, buyer_id, seller_id, signed_day, ship_day, terms_days, dealer_index)
        if status in DONE:
            self._maybe_return(order_id, status, max(times.values()), buyer_id, seller_id, buyer_user, seller_user,
                               lines, invoice_id)

    def _sign_off(self, order_id, signed_at, buyer_id, seller_id, buyer_user, seller_user, lines, invoice,
                  by_code) -> None:
        rng, rows = self.rng, self.rows
        sign_off_id = self._id("delivery_sign_offs")
        damaged = rng.random() < DAMAGED_SHARE
        note = rng.choice(DELIVERY_NOTES) if damaged else ""
        rows["delivery_sign_offs"].append((sign_off_id, order_id, "code" if by_code else "portal", note, signed_at,
                                           seller_user if by_code else buyer_user))
        if not damaged:
            return
        line = rng.choice(lines)
        amount = _value(line, 1)
        note_id = self._credit_note(buyer_id, seller_id, order_id, invoice[0], "damaged",
                                    f"delivery:{sign_off_id}", "破损 1", amount, 0, signed_at, seller_user)
        rows["delivery_discrepancies"].append((self._id("delivery_discrepancies"), sign_off_id, line[0], line[2],
                                               "damaged", 1, amount, note_id))
        # The note settles that much of the invoice at once (issue_credit_note → a `credit` payment).
        self._payment(buyer_id, seller_id, "credit", amount, signed_at.astimezone(SHANGHAI).date(),
                      f"CN{note_id:08d}", invoice)

    def _pay(self, invoice, buyer_id, seller_id, signed_day, ship_day, terms_days, dealer_index) -> None:
        unpaid = invoice[5] - invoice[7]
        if unpaid <= 0:
            return
        if dealer_index is None:  # shops pay the driver when they sign
            if signed_day is not None:
                self._payment(buyer_id, seller_id, "cod", unpaid, signed_day, "", invoice)
            return
        due_on = invoice[10]
        paid_on = ship_day + timedelta(days=int(terms_days * self.rng.uniform(0.5, 1.0)))
        overdue_case = dealer_index % OVERDUE_DEALER_EVERY == OVERDUE_DEALER_EVERY - 1 and \
            self.today - timedelta(days=20) <= due_on < self.today
        if paid_on < self.today and not overdue_case:
            self._payment(buyer_id, seller_id, "bank_transfer", unpaid, paid_on,
                          f"BK{paid_on:%Y%m%d}{invoice[2] % 100000:05d}", invoice)

    def _payment(self, customer_id, seller_id, method, amount, received_on, reference, invoice) -> None:
        received_on = min(received_on, self.today)
        payment_id = self._id("payments")
        recorded_at = min(datetime(received_on.year, received_on.month, received_on.day, 10,
                                   tzinfo=SHANGHAI).astimezone(timezone.utc), self.now)
        self.rows["payments"].append((payment_id, f"SK{payment_id:08d}", customer_id, seller_id, method, amount,
                                      received_on, reference, "", None, recorded_at))
        self.rows["payment_allocations"].append((self._id("payment_allocations"), payment_id, invoice[0], amount))
        invoice[7] += amount
        if invoice[7] == invoice[5]:
            invoice[8] = "paid"

    def _credit_note(self, customer_id, seller_id, order_id, invoice_id, reason, source_ref, note, amount,
                     remaining, at, actor_id) -> int:
        note_id = self._id("credit_notes")
        self.rows["credit_notes"].append((note_id, f"CN{note_id:08d}", customer_id, seller_id, order_id, invoice_id,
                                          reason, source_ref, note, amount, remaining,
                                          at.astimezone(SHANGHAI).date(), at, actor_id))
        return note_id

    def _maybe_return(self, order_id, status, final_at, buyer_id, seller_id, buyer_user, seller_user, lines,
                      invoice_id) -> None:
        rng = self.rng
        recent = (self.today - final_at.astimezone(SHANGHAI).date()).days <= 5
        if status == "completed" and not recent and rng.random() < RETURN_SHARE:
            decision = "accepted" if rng.random() < 0.8 else "refused"
        elif recent and rng.random() < PENDING_RETURN_SHARE:
            decision = "requested"
        else:
            return
        line = rng.choice(lines)
        qty = max(1, line[3] // 3)
        amount = _value(line, qty)
        requested_at = min(final_at + timedelta(hours=6 + rng.random() * 48), self.now)
        decided_at = min(requested_at + timedelta(hours=4 + rng.random() * 24), self.now)
        return_id = self._id("return_requests")
        number = f"RT{return_id:08d}"
        reason = rng.choice(RETURN_REASONS)
        note_id = None
        disposition, decision_note = None, ""
        if decision == "accepted":
            disposition = "write_off" if reason == "包装破损" else "restock"
            # The invoice was paid by then: the credit stays on the note for later invoices.
            note_id = self._credit_note(buyer_id, seller_id, order_id, invoice_id, "return", f"return:{return_id}",
                                        f"退货 {number}：{reason}", amount, amount, decided_at, seller_user)
        elif decision == "refused":
            decision_note = "超过退货期限"
        self.rows["return_requests"].append((
            return_id, number, order_id, buyer_id, seller_id, decision, reason, amount, requested_at, buyer_user,
            disposition, decision_note, decided_at if decision != "requested" else None,
            seller_user if decision != "requested" else None, note_id))
        self.rows["return_lines"].append((self._id("return_lines"), return_id, line[0], line[2], qty))


def _value(line: tuple, qty: int) -> int:
    """progress.line_value of an order_lines row tuple (id, order, product, qty, unit, basis, rate, total, tax)."""
    return line_value(SimpleNamespace(qty=line[3], line_total_fen=line[7]), qty)


# Every line of a shipped order went out in its one shipment, from a lot produced a few days to
# four weeks (at most a quarter of the shelf life) before; derived in the database, as millions of
# rows need not travel through Python. Batch numbers look like the inventory step's.
SHIPMENT_LINES_SQL = """
INSERT INTO shipment_lines (shipment_id, order_line_id, product_id, qty)
SELECT s.id, l.id, l.product_id, l.qty FROM shipments s JOIN order_lines l ON l.order_id = s.order_id
WHERE s.id >= :first"""
SHIPMENT_LOTS_SQL = {
    "postgresql": """
INSERT INTO shipment_lots (shipment_id, product_id, lot_id, batch_no, expiry_date, qty)
SELECT x.shipment_id, x.product_id, NULL, to_char(x.produced, 'YYMMDD') || '-' || lpad((x.product_id % 1000)::text, 3, '0')
       || '-1', x.produced + x.shelf, x.qty
FROM (SELECT sl.shipment_id, sl.product_id, sl.qty, p.shelf_life_days AS shelf,
             (s.shipped_at AT TIME ZONE 'Asia/Shanghai')::date
             - (3 + sl.product_id * 7 % GREATEST(1, LEAST(28, p.shelf_life_days / 4)))::int AS produced
      FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id JOIN products p ON p.id = sl.product_id
      WHERE s.id >= :first) x""",
    "sqlite": """
INSERT INTO shipment_lots (shipment_id, product_id, lot_id, batch_no, expiry_date, qty)
SELECT x.shipment_id, x.product_id, NULL,
       substr(x.produced, 3, 2) || substr(x.produced, 6, 2) || substr(x.produced, 9, 2) || '-'
       || substr('00' || (x.product_id % 1000), -3) || '-1', date(x.produced, '+' || x.shelf || ' days'), x.qty
FROM (SELECT sl.shipment_id, sl.product_id, sl.qty, p.shelf_life_days AS shelf,
             date(s.shipped_at, '+8 hours',
                  '-' || (3 + sl.product_id * 7 % max(1, min(28, p.shelf_life_days / 4))) || ' days') AS produced
      FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id JOIN products p ON p.id = sl.product_id
      WHERE s.id >= :first) x""",
}


def add_shipment_lines_and_lots(writer: DocumentWriter, first_shipment_id: int) -> None:
    """The lines and lots of the shipments from `first_shipment_id` on (after the last flush)."""
    session, loader = db.session, writer.loader
    for table, sql in (("shipment_lines", SHIPMENT_LINES_SQL), ("shipment_lots", SHIPMENT_LOTS_SQL[loader.dialect])):
        loader.rows_loaded[table] += session.execute(text(sql), {"first": first_shipment_id}).rowcount
