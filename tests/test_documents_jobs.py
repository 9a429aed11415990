"""Document jobs: exactly one invoice number however often they run, failures retried and then
shown to admins, stale documents requeued, jobs sent only after a real commit. With REDIS_URL
the jobs go through Redis and a real RQ worker; without it they run inline."""
from datetime import timedelta

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Document, Invoice, utcnow
from app.services.documents import pdf as document_pdf
from app.services.documents import requests as documents
from app.services.core.errors import DomainError
from app.services.credit.invoicing import ensure_invoice
from app.services.core.redis_conn import redis_connection
from app.services.core.clock import LOCAL
from jobs.documents import build_order_document
from app.queue import enqueue_after_commit
from tests import builders_documents
from tests.builders_documents import order_with_lines, run_queued_jobs


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def _document(order_id, kind="invoice") -> Document:
    return db.session.scalar(select(Document).where(Document.order_id == order_id, Document.kind == kind))


def test_invoice_job_run_twice_gives_one_number_and_one_document(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    db.session.commit()
    documents.request_order_document(order.id, "invoice")
    db.session.commit()
    run_queued_jobs(app)
    first = db.session.scalar(select(Invoice.number))

    # A retried or duplicated job: it finds the ready document and leaves it alone.
    assert build_order_document("invoice", order.id) is None
    documents.request_order_document(order.id, "invoice")
    db.session.commit()
    run_queued_jobs(app)

    assert _count(Invoice) == 1 and _count(Document) == 1
    document = _document(order.id)
    assert document.status == "ready" and document.attempts == 1
    assert db.session.scalar(select(Invoice.number)) == first


def test_rebuilding_an_invoice_keeps_its_number(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    db.session.commit()
    documents.request_order_document(order.id, "invoice")
    db.session.commit()
    run_queued_jobs(app)
    number = db.session.scalar(select(Invoice.number))
    documents.request_order_document(order.id, "invoice", rebuild=True)
    db.session.commit()
    run_queued_jobs(app)
    document = _document(order.id)
    assert document.status == "ready" and document.attempts == 2
    assert _count(Invoice) == 1 and db.session.scalar(select(Invoice.number)) == number
    assert number in builders_documents.pdf_text(document.pdf)


def test_ensure_invoice_is_idempotent_with_due_date_from_payment_terms(world):
    world.orgs["retailer"].payment_terms_days = 30
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    first = ensure_invoice(order.id)
    again = ensure_invoice(order.id)
    db.session.commit()
    assert again.id == first.id and _count(Invoice) == 1
    assert first.due_on == first.issued_at.astimezone(LOCAL).date() + timedelta(days=30)
    assert (first.total_fen, first.tax_fen, first.status) == (order.total_fen, order.tax_fen, "open")
    assert first.number.startswith("INV") and first.number.endswith(f"{order.id:08d}")
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "invoice.issue")) == 1


def test_no_invoice_before_shipment(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], status="approved")
    db.session.commit()
    with pytest.raises(DomainError):
        documents.request_order_document(order.id, "invoice")
    db.session.rollback()
    assert _count(Document) == 0

    # A job that runs anyway (e.g. enqueued by hand) fails for good at once: retrying cannot help.
    assert build_order_document("invoice", order.id) is None
    document = _document(order.id)
    assert document.status == "failed" and document.attempts == 1 and "发货" in document.last_error
    assert _count(Invoice) == 0


def test_failing_render_is_retried_then_failed_with_its_error(app, world, monkeypatch):
    def broken_render(template, **context):
        raise RuntimeError("字体文件缺失")

    monkeypatch.setattr(document_pdf, "render_pdf", broken_render)
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    db.session.commit()
    documents.request_order_document(order.id, "invoice")
    db.session.commit()
    run_queued_jobs(app)

    document = _document(order.id)
    assert document.status == "failed"
    assert "RuntimeError: 字体文件缺失" in document.last_error
    connection = redis_connection()
    if connection is not None:
        # 1 attempt + 3 retries, then RQ keeps the job in its failed registry.
        assert document.attempts == 4
        assert documents.job_id_for("invoice", order.id) in FailedJobRegistry("default", connection=connection)
    else:
        assert document.attempts == 1  # inline: one attempt, failure recorded at once
    # The number was committed before the render failed: still exactly one invoice.
    assert _count(Invoice) == 1

    monkeypatch.undo()
    documents.retry_document(document.id)
    db.session.commit()
    run_queued_jobs(app)
    document = _document(order.id)
    assert document.status == "ready" and document.last_error == ""
    assert _count(Invoice) == 1


def test_stale_running_document_is_requeued_and_built_once(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    fresh = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    stale_since = utcnow() - timedelta(seconds=app.config["DOCUMENT_STALE_SECONDS"] + 30)
    for each, started in ((order, stale_since), (fresh, utcnow())):
        db.session.add(Document(kind="invoice", order_id=each.id, status="running", attempts=1, last_error="",
                                started_at=started))
    db.session.commit()
    assert ensure_invoice(order.id).number  # the dead worker had already issued it
    db.session.commit()

    assert documents.requeue_stale_documents() == [_document(order.id).id]
    db.session.commit()
    run_queued_jobs(app)

    assert _document(order.id).status == "ready" and _document(order.id).attempts == 2
    assert _document(fresh.id).status == "running"  # its worker may still be alive
    assert db.session.scalar(select(func.count(Invoice.id)).where(Invoice.order_id == order.id)) == 1


def test_claim_lets_one_worker_in(world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    document = documents.get_or_create_order_document(order.id, "delivery_note")
    db.session.commit()
    assert documents.claim(document.id) is True
    assert documents.claim(document.id) is False
    db.session.commit()
    assert db.session.get(Document, document.id).status == "running"


def test_asking_twice_before_a_worker_runs_builds_once(app, world):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], status="submitted")
    db.session.commit()
    for _ in range(2):
        documents.request_order_document(order.id, "order_sheet")
        db.session.commit()
    connection = redis_connection()
    if connection is not None:
        assert connection.llen("rq:queue:default") == 1  # the job id is deterministic
    run_queued_jobs(app)
    document = _document(order.id, "order_sheet")
    assert document.status == "ready" and document.attempts == 1 and _count(Document) == 1


def test_jobs_leave_only_after_a_real_commit(app, world):
    builders_documents.CALLS.clear()
    enqueue_after_commit(builders_documents.record_call, "rolled back", job_id="test-rolled-back")
    db.session.rollback()
    enqueue_after_commit(builders_documents.record_call, "committed", job_id="test-committed")
    with db.session.begin_nested():
        world.orgs["retailer"].phone = "13800000000"
    run_queued_jobs(app)
    assert builders_documents.CALLS == []  # a savepoint is not a commit
    db.session.commit()
    db.session.commit()  # a second commit sends nothing again
    run_queued_jobs(app)
    assert builders_documents.CALLS == ["committed"]


def test_redis_down_at_commit_leaves_the_document_for_the_sweep(app, world, monkeypatch):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"])
    db.session.commit()
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    monkeypatch.delitem(app.extensions, "lianying-redis", raising=False)
    documents.request_order_document(order.id, "invoice")
    db.session.commit()  # committed; the failed enqueue is logged, not raised
    document = _document(order.id)
    assert document.status == "pending" and document.attempts == 0
    monkeypatch.undo()
    app.extensions.pop("lianying-redis", None)

    document.updated_at = utcnow() - timedelta(seconds=app.config["DOCUMENT_STALE_SECONDS"] + 30)
    db.session.commit()
    assert documents.requeue_stale_documents() == [document.id]
    db.session.commit()
    run_queued_jobs(app)
    assert _document(order.id).status == "ready" and _count(Invoice) == 1
