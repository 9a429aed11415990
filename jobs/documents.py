"""Document jobs: build an order's invoice / delivery note / order sheet, or a pick list.

They take ids, run in an app context (app.queue.AppContextJob) and are safe to run twice or
at once: the document row is claimed with one UPDATE, the invoice number is issued once
(app.services.credit.invoicing), and a ready document is left alone. Like a view, a job commits:
the claim first (so the page shows "running"), then the invoice, then the file."""
from __future__ import annotations

import time

from flask import current_app
from rq import get_current_job

from app.extensions import db
from app.models import Document, DocumentKind
from app.services.documents import pdf as document_pdf
from app.services.documents import requests as documents
from app.services.core.errors import DomainError
from app.services.credit.invoicing import ensure_invoice


def build_order_document(kind: str, order_id: int) -> int | None:
    """Job `doc-<kind>-<order_id>`: the order's document of that kind, ready."""
    document = documents.get_or_create_order_document(order_id, kind)
    db.session.commit()
    return build_document(document.id)


def build_pick_list(document_id: int) -> int | None:
    """Job `doc-pick_list-<document_id>`: the pick list row's orders and lots, as a PDF."""
    return build_document(document_id)


def build_document(document_id: int) -> int | None:
    """Claim, build and store one document. Returns its id when this run built it, None when
    there was nothing to do (ready, or another worker holds it) or it failed for good."""
    if not documents.claim(document_id):
        db.session.rollback()
        return None
    db.session.commit()
    try:
        document = db.session.get(Document, document_id)
        if document.kind == DocumentKind.INVOICE.value:
            # The number is a business fact (it counts towards the buyer's balance): commit it
            # before rendering, so a failed or killed render never loses or repeats it.
            ensure_invoice(document.order_id)
            db.session.commit()
        delay = current_app.config.get("DOCUMENT_RENDER_DELAY") or 0
        if delay:
            time.sleep(delay)
        data, filename = document_pdf.build_pdf(document)
        documents.store_pdf(document, data, filename)
        db.session.commit()
        return document_id
    except DomainError as error:
        # A broken rule (order gone, not shipped): retrying cannot help.
        db.session.rollback()
        documents.record_failure(document_id, error.message, final=True)
        db.session.commit()
        return None
    except Exception as error:
        db.session.rollback()
        documents.record_failure(document_id, f"{type(error).__name__}: {error}", final=_last_attempt())
        db.session.commit()
        raise  # RQ retries it, or records it failed after the last retry


def _last_attempt() -> bool:
    """Inline (no RQ job) there is one attempt; on RQ, the last is the one with no retry left."""
    job = get_current_job()
    return job is None or not job.retries_left
