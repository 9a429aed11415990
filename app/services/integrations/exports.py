"""ERP export: orders, shipments, invoices and credit notes of an organisation, in pages that
continue where the last one stopped (`since` a cursor), for ERPs that pull instead of receiving
webhooks. Every row is flat (CSV-friendly): an order or a shipment is one row per line, its
header fields repeated.

The keyset: orders by (updated_at, id), so an order that changed comes again with its new
status; shipments by (shipped_at, id); invoices by (issued_at, id); credit notes by id. Rows
younger than EXPORT_SETTLE_SECONDS are held back until the next pull: a transaction that
stamped its row earlier but committed later would otherwise fall behind a cursor already given
out. (Credit notes have no time of day; their ids are handed out in the transaction too, so the
same caveat holds for a credit note committed long after a later one.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import CreditNote, Invoice, Order, OrderLine, Organisation, Shipment, utcnow
from app.models.fulfilment import ShipmentLine
from app.services.core.errors import DomainError
from app.services.core.paging import decode_cursor, encode_cursor

KINDS = ("orders", "shipments", "invoices", "credit-notes")
MAX_LIMIT = 1000


@dataclass
class ExportPage:
    rows: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _order_rows(orders: list[Order]) -> list[dict]:
    rows = []
    for order in orders:
        head = {"order_id": order.id, "order_number": order.number, "status": order.status,
                "buyer_code": order.buyer.code, "seller_code": order.seller.code, "order_total_fen": order.total_fen,
                "order_tax_fen": order.tax_fen, "created_at": _iso(order.created_at),
                "updated_at": _iso(order.updated_at)}
        for line in order.lines:
            rows.append(head | {"line_id": line.id, "product_code": line.product.code, "qty": line.qty,
                                "unit_price_fen": line.unit_price_fen, "line_total_fen": line.line_total_fen,
                                "tax_fen": line.tax_fen})
    return rows


def _shipment_rows(shipments: list[Shipment]) -> list[dict]:
    rows = []
    for shipment in shipments:
        head = {"shipment_id": shipment.id, "shipment_number": shipment.number, "order_id": shipment.order_id,
                "order_number": shipment.order.number, "carrier": shipment.carrier,
                "tracking_no": shipment.tracking_no, "shipped_at": _iso(shipment.shipped_at)}
        for line in shipment.lines:
            rows.append(head | {"order_line_id": line.order_line_id, "product_code": line.product.code,
                                "qty": line.qty})
    return rows


def _invoice_rows(invoices: list[Invoice]) -> list[dict]:
    codes = _codes({i.buyer_id for i in invoices} | {i.seller_id for i in invoices})
    return [{"invoice_id": i.id, "invoice_number": i.number, "order_id": i.order_id, "buyer_code": codes[i.buyer_id],
             "seller_code": codes[i.seller_id], "total_fen": i.total_fen, "tax_fen": i.tax_fen,
             "paid_fen": i.paid_fen, "status": i.status, "issued_at": _iso(i.issued_at), "due_on": _iso(i.due_on)}
            for i in invoices]


def _credit_note_rows(notes: list[CreditNote]) -> list[dict]:
    codes = _codes({n.customer_id for n in notes} | {n.seller_id for n in notes})
    return [{"credit_note_id": n.id, "credit_note_number": n.number, "customer_code": codes[n.customer_id],
             "seller_code": codes[n.seller_id], "order_id": n.order_id, "invoice_id": n.invoice_id,
             "reason": n.reason, "amount_fen": n.amount_fen, "remaining_fen": n.remaining_fen,
             "issued_on": _iso(n.issued_on)} for n in notes]


def _codes(org_ids: set[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.code).where(Organisation.id.in_(org_ids))).tuples().all())


@dataclass(frozen=True)
class Kind:
    model: Any
    time: Any  # the time column of the keyset, or None (id only)
    scope: Callable[[int], Any]  # org id → the WHERE clause of what that organisation may see
    options: tuple
    rows: Callable[[list], list[dict]]


def _order_visible(org_id: int):
    return or_(Order.buyer_id == org_id, Order.seller_id == org_id)


KIND: dict[str, Kind] = {
    "orders": Kind(Order, Order.updated_at, _order_visible,
                   (joinedload(Order.buyer), joinedload(Order.seller),
                    selectinload(Order.lines).joinedload(OrderLine.product)), _order_rows),
    "shipments": Kind(Shipment, Shipment.shipped_at,
                      lambda org_id: Shipment.order_id.in_(select(Order.id).where(_order_visible(org_id))),
                      (joinedload(Shipment.order), selectinload(Shipment.lines).joinedload(ShipmentLine.product)),
                      _shipment_rows),
    "invoices": Kind(Invoice, Invoice.issued_at,
                     lambda org_id: or_(Invoice.buyer_id == org_id, Invoice.seller_id == org_id), (), _invoice_rows),
    "credit-notes": Kind(CreditNote, None,
                         lambda org_id: or_(CreditNote.customer_id == org_id, CreditNote.seller_id == org_id), (),
                         _credit_note_rows),
}


def _decode(kind: Kind, cursor: str) -> tuple[datetime | None, int]:
    """(time, id) from a cursor: [time, id] for a kind with a time column, [id] without."""
    try:
        if kind.time is None:
            [last_id], at = decode_cursor(cursor, 1), None
        else:
            at_text, last_id = decode_cursor(cursor, 2)
            at = datetime.fromisoformat(at_text)
    except (DomainError, ValueError, TypeError):
        raise DomainError(_("cursor 无效。"), field="since") from None
    if not isinstance(last_id, int) or (at is not None and at.tzinfo is None):
        raise DomainError(_("cursor 无效。"), field="since")
    return at, last_id


def _cursor(kind: Kind, at: datetime | None, last_id: int) -> str:
    return encode_cursor([last_id] if kind.time is None else [_iso(at), last_id])


def export_page(kind_name: str, org_id: int | None, since: str | None, limit: int) -> ExportPage:
    """The next `limit` documents of `kind_name` after the cursor `since` (from the start without
    it), visible to `org_id` (None: the brand, everything). `next_cursor` continues after them,
    or stays where it was when nothing new came: keep it and pull again later."""
    kind = KIND[kind_name]
    model = kind.model
    query = select(model).options(*kind.options)
    if org_id is not None:
        query = query.where(kind.scope(org_id))
    if kind.time is not None:
        query = query.where(kind.time <= utcnow() - timedelta(seconds=current_app.config["EXPORT_SETTLE_SECONDS"]))
    if since:
        at, last_id = _decode(kind, since)
        if kind.time is not None:
            query = query.where(or_(kind.time > at, and_(kind.time == at, model.id > last_id)))
        else:
            query = query.where(model.id > last_id)
    order_by = (kind.time, model.id) if kind.time is not None else (model.id,)
    documents = list(db.session.scalars(query.order_by(*order_by).limit(limit + 1)).unique())
    has_more = len(documents) > limit
    documents = documents[:limit]
    if documents:
        last = documents[-1]
        next_cursor = _cursor(kind, getattr(last, kind.time.key) if kind.time is not None else None, last.id)
    else:
        next_cursor = since or _cursor(kind, datetime(1970, 1, 1, tzinfo=timezone.utc), 0)
    return ExportPage(kind.rows(documents), next_cursor, has_more)
