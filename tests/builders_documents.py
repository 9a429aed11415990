"""Orders ready for documents: lines with both VAT rates, totals that add up."""
from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Order, OrderLine, Organisation
from tests import factories

_numbers = itertools.count(1)


def tax_in(gross_fen: int, rate: int) -> int:
    """The VAT contained in a tax-inclusive amount, rounded half up to the fen."""
    return (gross_fen * rate * 2 + (100 + rate)) // ((100 + rate) * 2)


def order_with_lines(buyer: Organisation, seller: Organisation, lines: list[tuple[str, int, int, int]] | None = None,
                     status: str = "shipped", note: str = "") -> Order:
    """`lines` are (product name, tax rate, qty, unit price in fen); each gets its own product."""
    lines = lines or [("农夫山泉饮用天然水550ml", 13, 3, 2400), ("康师傅红烧牛肉面", 9, 2, 5650)]
    order = Order(number=f"SO{next(_numbers):08d}", buyer_id=buyer.id, seller_id=seller.id, status=status,
                  channel="web", note=note)
    category = factories.category()
    for name, rate, qty, price in lines:
        product = factories.product(category, name_zh=name, tax_rate=rate, base_price_fen=price)
        gross = qty * price
        order.lines.append(OrderLine(product_id=product.id, qty=qty, unit_price_fen=price, tax_rate=rate,
                                     line_total_fen=gross, tax_fen=tax_in(gross, rate)))
    order.line_count = len(order.lines)
    order.total_fen = sum(line.line_total_fen for line in order.lines)
    order.tax_fen = sum(line.tax_fen for line in order.lines)
    db.session.add(order)
    db.session.flush()
    return order


def many_lines(count: int) -> list[tuple[str, int, int, int]]:
    return [(f"测试饮料{i:03d}号 橙味汽水", 13 if i % 3 else 9, 1 + i % 7, 1200 + 37 * i) for i in range(count)]


def run_queued_jobs(app) -> None:
    """With Redis, work the queue in this process until it is empty: a real RQ worker, retries
    included. Without Redis the jobs already ran inline after the commit."""
    if app.config.get("REDIS_URL"):
        from app.queue import run_worker

        run_worker(["default"], burst=True, simple=True)
    db.session.expire_all()


def pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def embedded_fonts(data: bytes) -> list[tuple[str, str]]:
    """(base font name, font file key) for every font on every page."""
    from io import BytesIO

    from pypdf import PdfReader

    found = []
    for page in PdfReader(BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor_owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descriptor_owner["/FontDescriptor"].get_object()
            files = [key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor]
            found.append((str(font["/BaseFont"]), files[0] if files else ""))
    return found


CALLS: list = []


def record_call(value) -> None:
    """A job for tests of the queue itself: remembers that it ran (in this process: inline, or
    on the in-process worker of run_queued_jobs)."""
    CALLS.append(value)
