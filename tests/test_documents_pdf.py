"""The PDFs themselves: real WeasyPrint, the real CJK font, text read back with pypdf."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, Invoice
from app.services.documents import pdf as document_pdf
from app.services.documents import requests as documents
from app.services.documents.chinese_numerals import amount_in_words
from app.services.core.errors import DomainError
from app.web.common.filters import yuan
from tests import factories
from tests.builders_documents import embedded_fonts, order_with_lines, pdf_text, run_queued_jobs


def _ready_document(app, order_id, kind) -> Document:
    documents.request_order_document(order_id, kind)
    db.session.commit()
    run_queued_jobs(app)
    document = db.session.scalar(select(Document).where(Document.order_id == order_id, Document.kind == kind))
    assert document.status == "ready", document.last_error
    return document


def test_invoice_pdf_has_parties_lines_totals_and_capitals(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], [
        ("农夫山泉饮用天然水550ml", 13, 10, 2400), ("康师傅红烧牛肉面", 9, 3, 5650), ("王老吉凉茶310ml", 13, 2, 6000)])
    db.session.commit()
    document = _ready_document(app, order.id, "invoice")
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))

    text = pdf_text(document.pdf)
    assert document.pdf.startswith(b"%PDF")
    assert document.filename == f"invoice-{invoice.number}.pdf"
    assert "销售发票" in text and invoice.number in text
    assert "西湖小卖部" in text and "杭州经销商" in text
    for name in ("农夫山泉饮用天然水550ml", "康师傅红烧牛肉面", "王老吉凉茶310ml"):
        assert name in text
    assert invoice.total_fen == 24000 + 16950 + 12000
    assert yuan(invoice.total_fen) in text                 # ¥529.50
    assert amount_in_words(invoice.total_fen) in text
    assert "¥529.50" in text and "伍佰贰拾玖元伍角整" in text


def test_invoice_pdf_subtotals_per_tax_rate(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], [
        ("矿泉水", 13, 1, 11300), ("方便面", 9, 1, 10900)])
    db.session.commit()
    text = pdf_text(_ready_document(app, order.id, "invoice").pdf)
    # 113.00 at 13% is 100.00 + 13.00; 109.00 at 9% is 100.00 + 9.00
    assert "13%" in text and "9%" in text
    assert "¥13.00" in text and "¥9.00" in text and "¥22.00" in text
    assert document_pdf.tax_rows(order.lines) == [
        document_pdf.TaxRow(13, 10000, 1300, 11300), document_pdf.TaxRow(9, 10000, 900, 10900)]


def test_invoice_pdf_embeds_the_cjk_font(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    db.session.commit()
    fonts = embedded_fonts(_ready_document(app, order.id, "invoice").pdf)
    assert fonts, "no fonts in the PDF"
    assert any("WenQuanYi" in name for name, _ in fonts), fonts
    # Every font carries its own glyphs (a subset, name prefixed "ABCDEF+"): nothing depends on
    # the reader's machine having a Chinese font.
    assert all(key for _, key in fonts), fonts
    assert all("+" in name for name, _ in fonts), fonts


def test_delivery_note_lists_lines_and_signature_box(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], note="请送到后门")
    db.session.commit()
    document = _ready_document(app, order.id, "delivery_note")
    text = pdf_text(document.pdf)
    assert "送货单" in text and order.number in text
    assert "农夫山泉饮用天然水550ml" in text and "康师傅红烧牛肉面" in text
    assert "收货人签字" in text and "送货人签字" in text
    assert "请送到后门" in text
    assert "收货码" not in text  # the buyer's proof of receipt never travels on the driver's paper
    assert db.session.scalar(select(func.count(Invoice.id))) == 0  # a delivery note issues no invoice


def test_order_sheet_for_a_submitted_order(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], status="submitted")
    db.session.commit()
    text = pdf_text(_ready_document(app, order.id, "order_sheet").pdf)
    assert "订货单" in text and "西湖小卖部" in text
    assert yuan(order.total_fen) in text and amount_in_words(order.total_fen) in text


def test_order_sheet_shows_what_checkout_asked(app, world):
    from datetime import date

    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], status="submitted")
    order.delivery_date, order.delivery_address, order.payment_method = date(2026, 12, 14), "文三路仓库后门", "cod"
    db.session.commit()
    text = pdf_text(_ready_document(app, order.id, "order_sheet").pdf)
    assert "2026-12-14" in text and "文三路仓库后门" in text and "货到付款" in text


def test_pick_list_groups_by_route_then_retailer_and_prints_given_lots(app, world):
    dealer = world.orgs["dealer"]
    shop_a = world.orgs["retailer"]
    shop_b = factories.org("retailer", "拱墅烟酒店", region_id=world.regions["hz"].id, dealer_id=dealer.id)
    first = order_with_lines(shop_a, dealer, [("可口可乐330ml", 13, 5, 3600)], status="approved")
    second = order_with_lines(shop_b, dealer, [("雪碧330ml", 13, 2, 3600)], status="approved")
    third = order_with_lines(shop_a, dealer, [("芬达330ml", 13, 1, 3600)], status="approved")
    db.session.commit()
    lots = [{"product_id": first.lines[0].product_id, "lot": "L240501", "qty": 5, "expires_on": "2026-05-01",
             "location": "A-03"}]
    routes = {first.id: "东线", third.id: "东线", second.id: "西线"}
    document = documents.request_pick_list(dealer.id, [first.id, second.id, third.id], routes, lots)
    db.session.commit()
    run_queued_jobs(app)
    document = db.session.get(Document, document.id)
    assert document.status == "ready", document.last_error
    text = pdf_text(document.pdf)
    assert "拣货单" in text and "3 个订单" in text
    assert text.index("东线") < text.index("西湖小卖部") < text.index("西线") < text.rindex("拱墅烟酒店")
    assert "L240501" in text and "2026-05-01" in text and "A-03" in text
    for name in ("可口可乐330ml", "雪碧330ml", "芬达330ml"):
        assert name in text


def test_pick_list_refuses_other_sellers_orders(app, world):
    theirs = order_with_lines(world.orgs["retailer_b"], world.orgs["dealer_b"], status="approved")
    db.session.commit()
    with pytest.raises(DomainError):
        documents.request_pick_list(world.orgs["dealer"].id, [theirs.id])
    db.session.rollback()
    assert db.session.scalar(select(func.count(Document.id))) == 0
