"""Document routes: only the parties to an order see its documents (404 for everyone else),
the status fragment polls while the PDF is made, the button asks for it, admins retry failures."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, Invoice
from app.services.documents import requests as documents
from tests.builders_documents import order_with_lines, run_queued_jobs

PARTIES = ["retailer", "dealer", "admin"]
OUTSIDERS = ["retailer_b", "dealer_b", "rep", "rep_b", "admin_b"]


@pytest.fixture
def shipped(world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    db.session.commit()
    return order


@pytest.fixture
def ready_invoice(app, shipped) -> Document:
    document = documents.request_order_document(shipped.id, "invoice")
    db.session.commit()
    run_queued_jobs(app)
    document = db.session.get(Document, document.id)
    assert document.status == "ready"
    return document


def _status_url(order_id, kind="invoice"):
    return f"/documents/orders/{order_id}/{kind}/status"


@pytest.mark.parametrize("who", PARTIES)
def test_parties_download_the_invoice(login_as, ready_invoice, who):
    response = login_as(who).get(f"/documents/{ready_invoice.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f'filename={ready_invoice.filename}' in response.headers["Content-Disposition"]
    assert "private" in response.headers["Cache-Control"]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_get_404_for_download_status_and_request(login_as, ready_invoice, shipped, who):
    c = login_as(who)
    assert c.get(f"/documents/{ready_invoice.id}").status_code == 404
    assert c.get(_status_url(shipped.id)).status_code == 404
    assert c.hx_get(_status_url(shipped.id)).status_code == 404
    assert c.get(f"/documents/{ready_invoice.id}/status").status_code == 404
    assert c.post(f"/documents/orders/{shipped.id}/delivery_note").status_code == 404
    assert db.session.scalar(select(func.count(Document.id))) == 1


def test_anonymous_is_sent_to_login(client, ready_invoice, shipped):
    for url in (f"/documents/{ready_invoice.id}", _status_url(shipped.id)):
        response = client.get(url)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    response = client.hx_get(_status_url(shipped.id))
    assert response.headers.get("HX-Redirect", "").startswith("/login?next=")


def test_unknown_document_order_or_kind_is_404(login_as, shipped):
    c = login_as("admin")
    assert c.get("/documents/999999").status_code == 404
    assert c.get(_status_url(999999)).status_code == 404
    assert c.get(_status_url(shipped.id, "receipt")).status_code == 404
    assert c.post(f"/documents/orders/{shipped.id}/receipt").status_code == 404


def test_status_fragment_and_full_page(login_as, ready_invoice, shipped):
    c = login_as("retailer")
    page = c.get(_status_url(shipped.id))
    fragment = c.hx_get(_status_url(shipped.id))
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    for body in (page.get_data(as_text=True), fragment.get_data(as_text=True)):
        assert "销售发票" in body and f"/documents/{ready_invoice.id}" in body
        assert 'hx-trigger="every 2s"' not in body  # ready: polling stops


def test_status_polls_while_pending(login_as, shipped):
    db.session.add(Document(kind="delivery_note", order_id=shipped.id, status="pending", attempts=0, last_error=""))
    db.session.commit()
    body = login_as("dealer").hx_get(_status_url(shipped.id, "delivery_note")).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in body and _status_url(shipped.id, "delivery_note") in body
    assert "排队中" in body
    assert "/documents/" in body and "下载" not in body


def test_download_of_a_document_not_ready_goes_to_its_status(login_as, shipped):
    document = Document(kind="order_sheet", order_id=shipped.id, status="running", attempts=1, last_error="")
    db.session.add(document)
    db.session.commit()
    response = login_as("retailer").get(f"/documents/{document.id}")
    assert response.status_code == 303 and response.headers["Location"].endswith(_status_url(shipped.id, "order_sheet"))


def test_status_offers_the_button_then_the_button_builds_it(app, login_as, shipped):
    c = login_as("dealer")
    body = c.get(_status_url(shipped.id, "delivery_note")).get_data(as_text=True)
    assert "生成 PDF" in body and f'action="/documents/orders/{shipped.id}/delivery_note"' in body

    response = c.post(f"/documents/orders/{shipped.id}/delivery_note")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_status_url(shipped.id, "delivery_note"))
    run_queued_jobs(app)
    document = db.session.scalar(select(Document).where(Document.kind == "delivery_note"))
    assert document.status == "ready" and document.order_id == shipped.id
    assert "下载 PDF" in c.get(response.headers["Location"]).get_data(as_text=True)


def test_button_by_htmx_answers_with_the_fragment(login_as, shipped):
    response = login_as("retailer").post(f"/documents/orders/{shipped.id}/order_sheet", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'class="doc-status"' in body
    assert db.session.scalar(select(func.count(Document.id)).where(Document.kind == "order_sheet")) == 1


def test_invoice_before_shipment_is_refused_next_to_the_button(login_as, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], status="approved")
    db.session.commit()
    c = login_as("dealer")
    assert "订单发货后可生成" in c.get(_status_url(order.id)).get_data(as_text=True)
    for htmx in (False, True):
        response = c.post(f"/documents/orders/{order.id}/invoice", htmx=htmx)
        assert response.status_code == 422
        assert "订单发货后才能开具发票" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Document.id))) == 0
    assert db.session.scalar(select(func.count(Invoice.id))) == 0


def test_button_without_csrf_is_refused(login_as, shipped):
    response = login_as("dealer").post(f"/documents/orders/{shipped.id}/delivery_note", csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Document.id))) == 0


def test_pick_list_belongs_to_the_seller_that_asked(app, login_as, world, shipped):
    document = documents.request_pick_list(world.orgs["dealer"].id, [shipped.id])
    db.session.commit()
    run_queued_jobs(app)
    for who, code in (("dealer", 200), ("admin", 200), ("retailer", 404), ("dealer_b", 404), ("rep", 404)):
        c = login_as(who)
        assert c.get(f"/documents/{document.id}").status_code == code, who
        assert c.get(f"/documents/{document.id}/status").status_code == code, who


# ---- admin: failed documents ---------------------------------------------------------------

@pytest.fixture
def failed_document(shipped) -> Document:
    document = Document(kind="delivery_note", order_id=shipped.id, status="failed", attempts=4,
                        last_error="OSError: 磁盘已满")
    db.session.add(document)
    db.session.commit()
    return document


def test_admin_sees_failed_documents_with_their_error(login_as, failed_document, shipped):
    c = login_as("admin")
    for response in (c.get("/admin/documents/failed"), c.hx_get("/admin/documents/failed")):
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "OSError: 磁盘已满" in body and shipped.number in body and "送货单" in body
    assert "<html" not in c.hx_get("/admin/documents/failed").get_data(as_text=True)


def test_admin_retry_builds_the_document(app, login_as, failed_document):
    c = login_as("admin")
    c.get("/admin/documents/failed")
    response = c.post(f"/admin/documents/{failed_document.id}/retry")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/documents/failed")
    run_queued_jobs(app)
    document = db.session.get(Document, failed_document.id)
    assert document.status == "ready" and document.attempts == 5
    assert "OSError" not in c.get("/admin/documents/failed").get_data(as_text=True)

    # Nothing left to retry: a message, no change.
    response = c.post(f"/admin/documents/{failed_document.id}/retry")
    assert response.status_code == 303
    assert "无需重试" in c.get(response.headers["Location"]).get_data(as_text=True)
    assert c.post("/admin/documents/999999/retry").status_code == 404


@pytest.mark.parametrize("who, code", [("admin_b", 403), ("dealer", 403), ("retailer", 403), ("rep", 403)])
def test_failed_documents_need_the_orders_permission(login_as, failed_document, who, code):
    c = login_as(who)
    assert c.get("/admin/documents/failed").status_code == code
    assert c.post(f"/admin/documents/{failed_document.id}/retry").status_code == code
    assert db.session.get(Document, failed_document.id).status == "failed"


def test_order_page_panel_shows_every_kind(app, ready_invoice, shipped):
    from flask import render_template

    with app.test_request_context("/"):
        html = render_template("documents/_panel.html", document_slots=documents.document_slots(shipped))
    assert html.count('class="doc-status"') == 3
    assert f"/documents/{ready_invoice.id}" in html                   # the invoice is ready
    assert f"/documents/orders/{shipped.id}/delivery_note" in html   # the others offer the button
    assert f"/documents/orders/{shipped.id}/order_sheet" in html
