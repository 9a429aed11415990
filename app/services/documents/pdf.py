"""The PDF documents' content: what each template needs, and HTML → PDF with WeasyPrint.

Documents are always in Chinese (they are commercial papers), whatever the reader's language.
The font is named in templates/pdf/_pdf.css; WeasyPrint embeds the subset it uses."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.config import ROOT
from app.extensions import db
from app.models import Document, DocumentKind, Invoice, Order, OrderLine, Organisation
from app.services.documents.chinese_numerals import amount_in_words
from app.services.core.errors import DomainError, NotFound
from app.services.credit.invoicing import ensure_invoice
from app.services.core.clock import today_local

DOCUMENT_LOCALE = "zh"


@dataclass(frozen=True)
class TaxRow:
    """One VAT rate's share of an order: amount before tax, tax, and both together."""

    rate: int
    net_fen: int
    tax_fen: int
    gross_fen: int


def tax_rows(lines: Iterable[OrderLine]) -> list[TaxRow]:
    """Subtotals per tax rate, highest rate first (13% then 9%)."""
    gross: dict[int, int] = defaultdict(int)
    tax: dict[int, int] = defaultdict(int)
    for line in lines:
        gross[line.tax_rate] += line.line_total_fen
        tax[line.tax_rate] += line.tax_fen
    return [TaxRow(rate, gross[rate] - tax[rate], tax[rate], gross[rate]) for rate in sorted(gross, reverse=True)]


def load_order(order_id: int) -> Order:
    """The order with its lines, products and both parties, in three queries."""
    order = db.session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines).joinedload(OrderLine.product),
                 joinedload(Order.buyer).joinedload(Organisation.region), joinedload(Order.seller)))
    if order is None:
        raise NotFound(_("订单不存在。"))
    return order


def order_label(order: Order) -> str:
    return order.number or f"#{order.id}"


def _file_part(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in text).strip("-")


# ---- one order ---------------------------------------------------------------------------

def invoice_context(order: Order, invoice: Invoice) -> dict[str, Any]:
    lines_total = sum(line.line_total_fen for line in order.lines)
    return dict(order=order, invoice=invoice, lines=order.lines, tax_rows=tax_rows(order.lines),
                adjustment_fen=invoice.total_fen - lines_total, total_words=amount_in_words(invoice.total_fen),
                order_label=order_label(order))


def delivery_note_context(order: Order) -> dict[str, Any]:
    return dict(order=order, lines=order.lines,
                total_qty=sum(line.qty for line in order.lines), printed_on=today_local(),
                order_label=order_label(order))


def order_sheet_context(order: Order) -> dict[str, Any]:
    return dict(order=order, lines=order.lines, tax_rows=tax_rows(order.lines),
                total_qty=sum(line.qty for line in order.lines), total_words=amount_in_words(order.total_fen),
                printed_on=today_local(), order_label=order_label(order))


# ---- pick list for a set of orders ---------------------------------------------------------

@dataclass
class PickProduct:
    """A product to take off the shelves for the whole batch, with the lots to take it from."""

    product: Any
    qty: int = 0
    lots: list[dict] = field(default_factory=list)


@dataclass
class PickRetailer:
    buyer: Organisation
    orders: list[Order] = field(default_factory=list)


@dataclass
class PickRoute:
    name: str
    retailers: list[PickRetailer] = field(default_factory=list)


def normalise_lots(lots: Iterable[dict] | None) -> list[dict]:
    """The lots to pick as plain JSON-safe dicts: product_id, lot, qty, and optionally
    expires_on (a date or ISO text) and location. The caller (inventory's allocation) decides
    which lots; the pick list only prints them."""
    result = []
    for lot in lots or ():
        try:
            expires = lot.get("expires_on")
            result.append({"product_id": int(lot["product_id"]), "lot": str(lot["lot"]), "qty": int(lot["qty"]),
                           "expires_on": expires.isoformat() if isinstance(expires, date) else (expires or ""),
                           "location": str(lot.get("location") or "")})
        except (KeyError, TypeError, ValueError) as error:
            raise DomainError(_("批次信息不完整：%(error)s", error=error)) from error
    return result


def pick_list_context(seller_id: int, order_ids: Iterable[int], routes: dict | None = None,
                      lots: Iterable[dict] | None = None) -> dict[str, Any]:
    """Orders of `seller_id` grouped by route, then retailer; a batch summary per product with
    its lots. `routes` maps order id → route name (default: the buyer's region)."""
    routes = {int(key): value for key, value in (routes or {}).items()}
    orders = list(db.session.scalars(
        select(Order).where(Order.id.in_(list(order_ids)), Order.seller_id == seller_id)
        .options(selectinload(Order.lines).joinedload(OrderLine.product),
                 joinedload(Order.buyer).joinedload(Organisation.region))))
    if not orders:
        raise DomainError(_("请选择至少一个订单。"))
    unassigned = _("未分配线路")
    grouped: dict[str, dict[int, PickRetailer]] = defaultdict(dict)
    products: dict[int, PickProduct] = {}
    for order in sorted(orders, key=lambda o: (o.buyer.name, order_label(o))):
        route = routes.get(order.id) or (order.buyer.region.name if order.buyer.region else unassigned)
        grouped[route].setdefault(order.buyer_id, PickRetailer(order.buyer)).orders.append(order)
        for line in order.lines:
            products.setdefault(line.product_id, PickProduct(line.product)).qty += line.qty
    for lot in normalise_lots(lots):
        if lot["product_id"] in products:
            products[lot["product_id"]].lots.append(lot)
    route_list = [PickRoute(name, list(retailers.values())) for name, retailers in sorted(grouped.items())]
    summary = sorted(products.values(), key=lambda p: p.product.code)
    return dict(routes=route_list, products=summary, order_count=len(orders),
                total_qty=sum(p.qty for p in summary), printed_on=today_local(),
                seller=db.session.get(Organisation, seller_id))


# ---- rendering -----------------------------------------------------------------------------

def render_pdf(template: str, **context) -> bytes:
    """HTML from a template in templates/pdf/, then PDF bytes. No network: the page uses only
    the inline stylesheet and installed fonts."""
    from weasyprint import HTML  # heavy import: only processes that render pay for it

    with force_locale(DOCUMENT_LOCALE):
        html = render_template(template, **context)
    return HTML(string=html, base_url=str(ROOT / "templates" / "pdf")).write_pdf()


def build_pdf(document: Document) -> tuple[bytes, str]:
    """The file for a document row: (PDF bytes, download file name)."""
    if document.kind == DocumentKind.PICK_LIST.value:
        params = document.params or {}
        context = pick_list_context(document.owner_org_id, params.get("order_ids", []), params.get("routes"),
                                    params.get("lots"))
        name = f"pick-list-{context['printed_on']:%Y%m%d}-{document.id}.pdf"
        return render_pdf("pdf/pick_list.html", **context), name
    order = load_order(document.order_id)
    label = _file_part(order_label(order)) or str(order.id)
    if document.kind == DocumentKind.INVOICE.value:
        invoice = ensure_invoice(order.id)
        return render_pdf("pdf/invoice.html", **invoice_context(order, invoice)), f"invoice-{invoice.number}.pdf"
    if document.kind == DocumentKind.DELIVERY_NOTE.value:
        return render_pdf("pdf/delivery_note.html", **delivery_note_context(order)), f"delivery-note-{label}.pdf"
    if document.kind == DocumentKind.ORDER_SHEET.value:
        return render_pdf("pdf/order_sheet.html", **order_sheet_context(order)), f"order-sheet-{label}.pdf"
    raise DomainError(_("未知的文档类型。"))


def warm_up() -> None:
    """Render a one-line CJK page so fonts and layout code are loaded before the first job
    (a worker calls this once, before it forks work horses)."""
    render_pdf("pdf/warm_up.html")
