"""PDF documents of orders (invoice, delivery note, order sheet) and pick lists: who may see
them, asking for them, and the state a job moves them through.

    request_order_document(order_id, kind)   → Document (pending), job enqueued after commit
    request_pick_list(seller_id, order_ids, routes, lots) → the same for a batch of orders
    claim → build (app.services.documents.pdf) → store_pdf | record_failure   (jobs/documents.py)
    requeue_stale_documents()                 → documents whose worker died go back on the queue

A document is one row per (order, kind): asking twice, or a job running twice, finds the same
row; a ready document is not built again unless `rebuild=True`."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, false, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.queue import enqueue_after_commit
from app.models import (ORDER_DOCUMENT_KINDS, Document, DocumentKind, DocumentStatus, Order, Role, User,
                        utcnow)
from app.services.documents.pdf import normalise_lots
from app.services.core.errors import DomainError, NotFound
from app.services.credit.invoicing import INVOICEABLE_STATUSES

PENDING, RUNNING, READY, FAILED = (s.value for s in DocumentStatus)
MAX_ERROR_CHARS = 2000


# ---- who may see what ----------------------------------------------------------------------

def party_condition(user: User, buyer_column, seller_column):
    """SQL condition: `user` is a party to the order whose buyer and seller are these columns.
    Buyer and seller organisations' dealer and retailer users, and brand admins holding the
    "orders" permission; nobody else (sales reps included)."""
    if user.role == Role.ADMIN.value:
        return true() if user.can("orders") else false()
    if user.role in (Role.DEALER.value, Role.RETAILER.value):
        return or_(buyer_column == user.org_id, seller_column == user.org_id)
    return false()


def visible_order(user: User, order_id: int, kind: str | None = None) -> Order:
    """An order `user` is a party to (and, with `kind`, a document kind orders have); NotFound else."""
    order = None
    if kind is None or kind in ORDER_DOCUMENT_KINDS:
        order = db.session.scalar(select(Order).where(Order.id == order_id,
                                                      party_condition(user, Order.buyer_id, Order.seller_id)))
    if order is None:
        raise NotFound(_("订单不存在。"))
    return order


def is_party(user: User, buyer_id: int | None, seller_id: int | None) -> bool:
    """The same rule as `party_condition`, for an order already loaded."""
    if user.role == Role.ADMIN.value:
        return user.can("orders")
    if user.role in (Role.DEALER.value, Role.RETAILER.value):
        return user.org_id in (buyer_id, seller_id)
    return False


def visible_document(user: User, document_id: int) -> Document:
    """The document if `user` is a party to its order (for a pick list: belongs to the
    organisation that asked for it, or is a brand admin with "orders"); NotFound otherwise."""
    document = db.session.scalar(select(Document).options(joinedload(Document.order))
                                 .where(Document.id == document_id))
    if document is not None:
        if document.order is not None:
            allowed = is_party(user, document.order.buyer_id, document.order.seller_id)
        else:
            allowed = is_party(user, document.owner_org_id, document.owner_org_id)
        if allowed:
            return document
    raise NotFound(_("文档不存在。"))


# ---- what the order page shows -------------------------------------------------------------

@dataclass(frozen=True)
class DocumentSlot:
    """One kind of document of one order, as templates/documents/_status.html shows it."""

    order_id: int
    kind: str
    document: Document | None
    available: bool  # may be generated now (an invoice waits for the shipment)
    error: str = ""


def kind_available(order: Order, kind: str) -> bool:
    return kind != DocumentKind.INVOICE.value or order.status in INVOICEABLE_STATUSES


def document_slots(order: Order, kinds: tuple[str, ...] = ORDER_DOCUMENT_KINDS) -> list[DocumentSlot]:
    """The order's documents, one query for all kinds."""
    found = {d.kind: d for d in db.session.scalars(
        select(Document).where(Document.order_id == order.id, Document.kind.in_(kinds)))}
    return [DocumentSlot(order.id, kind, found.get(kind), kind_available(order, kind)) for kind in kinds]


def document_slot(order: Order, kind: str, error: str = "") -> DocumentSlot:
    check_kind(kind)
    document = db.session.scalar(select(Document).where(Document.order_id == order.id, Document.kind == kind))
    return DocumentSlot(order.id, kind, document, kind_available(order, kind), error)


def check_kind(kind: str) -> None:
    if kind not in ORDER_DOCUMENT_KINDS:
        raise NotFound(_("未知的文档类型。"))


# ---- asking for documents ------------------------------------------------------------------

def job_id_for(kind: str, subject_id: int) -> str:
    """Deterministic RQ job id: one job per document, however often it is asked for."""
    return f"doc-{kind}-{subject_id}"


def order_document(order_id: int, kind: str) -> Document | None:
    return db.session.scalar(select(Document).where(Document.order_id == order_id, Document.kind == kind))


def get_or_create_order_document(order_id: int, kind: str) -> Document:
    """The (order, kind) row, created pending if missing; safe when two processes race."""
    check_kind(kind)
    document = order_document(order_id, kind)
    if document is not None:
        return document
    document = Document(kind=kind, order_id=order_id, status=PENDING, attempts=0, last_error="")
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:
        document = order_document(order_id, kind)
        if document is None:
            raise
    return document


def request_order_document(order_id: int, kind: str, rebuild: bool = False) -> Document:
    """Ask for a document of an order; its job runs after the caller commits. Asking again
    while it is pending or running, or once it is ready (without `rebuild`), changes nothing."""
    check_kind(kind)
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("订单不存在。"))
    if not kind_available(order, kind):
        raise DomainError(_("订单发货后才能开具发票。"))
    document = get_or_create_order_document(order_id, kind)
    if document.status == RUNNING and not _is_stale(document):
        return document  # a worker is on it
    if document.status == READY and not rebuild:
        return document
    worker_died = document.status == RUNNING
    document.status = PENDING
    db.session.flush()
    enqueue_build(document, replace_started=worker_died)
    return document


def request_pick_list(seller_id: int, order_ids: list[int], routes: dict | None = None,
                      lots: list[dict] | None = None) -> Document:
    """Ask for the pick list of some of `seller_id`'s orders (the caller scoped the ids to the
    seller). The same set of orders reuses its row and is built again: lots change."""
    ids = sorted({int(i) for i in order_ids})
    owned = set(db.session.scalars(select(Order.id).where(Order.id.in_(ids), Order.seller_id == seller_id)))
    if not ids or owned != set(ids):
        raise DomainError(_("请选择至少一个订单。"), field="order_ids")
    key = hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()
    params = {"order_ids": ids, "routes": {str(k): str(v) for k, v in (routes or {}).items()},
              "lots": normalise_lots(lots)}
    document = db.session.scalar(select(Document).where(
        Document.owner_org_id == seller_id, Document.kind == DocumentKind.PICK_LIST.value, Document.batch_key == key))
    if document is None:
        document = Document(kind=DocumentKind.PICK_LIST.value, owner_org_id=seller_id, batch_key=key,
                            status=PENDING, attempts=0, last_error="")
        db.session.add(document)
    document.params = params
    document.status = PENDING
    db.session.flush()
    enqueue_build(document, replace_started=False)
    return document


def retry_document(document_id: int) -> Document:
    """An admin's retry of a failed (or stuck) document."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound(_("文档不存在。"))
    if document.status == READY:
        raise DomainError(_("文档已经生成，无需重试。"))
    if document.status == RUNNING and not _is_stale(document):
        raise DomainError(_("文档正在生成，请稍候。"))
    stuck = document.status == RUNNING
    document.status = PENDING
    db.session.flush()
    enqueue_build(document, replace_started=stuck)
    return document


def enqueue_build(document: Document, replace_started: bool) -> None:
    timeout = current_app.config["DOCUMENT_JOB_TIMEOUT"]
    if document.order_id is not None:
        enqueue_after_commit("jobs.documents.build_order_document", document.kind, document.order_id,
                             job_id=job_id_for(document.kind, document.order_id), timeout=timeout,
                             replace_started=replace_started)
    else:
        enqueue_after_commit("jobs.documents.build_pick_list", document.id,
                             job_id=job_id_for(document.kind, document.id), timeout=timeout,
                             replace_started=replace_started)


# ---- the job's side ------------------------------------------------------------------------

def _stale_cutoff():
    return utcnow() - timedelta(seconds=current_app.config["DOCUMENT_STALE_SECONDS"])


def _is_stale(document: Document) -> bool:
    return document.started_at is not None and document.started_at < _stale_cutoff()


def claim(document_id: int) -> bool:
    """Mark the document running for this worker, if nobody else is on it: pending or failed,
    or running for so long that its worker must be dead. One UPDATE, so two workers cannot
    both win."""
    now = utcnow()
    result = db.session.execute(
        update(Document)
        .where(Document.id == document_id,
               or_(Document.status.in_((PENDING, FAILED)),
                   and_(Document.status == RUNNING, Document.started_at < _stale_cutoff())))
        .values(status=RUNNING, attempts=Document.attempts + 1, started_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def store_pdf(document: Document, data: bytes, filename: str) -> None:
    document.pdf = data
    document.byte_size = len(data)
    document.filename = filename[:80]
    document.status = READY
    document.ready_at = utcnow()
    document.last_error = ""


def record_failure(document_id: int, message: str, final: bool) -> None:
    """After a failed attempt: pending again while retries are left (the status keeps
    polling), failed for good after the last one, with the error for admins."""
    document = db.session.get(Document, document_id)
    if document is None:
        return  # its order was deleted meanwhile
    document.status = FAILED if final else PENDING
    document.last_error = message[:MAX_ERROR_CHARS]


def requeue_stale_documents() -> list[int]:
    """Documents left running by a dead worker (older than DOCUMENT_STALE_SECONDS) go back to
    pending and their job is enqueued again; so do pending ones that old (their job was lost,
    e.g. Redis was down at commit; a job still waiting in the queue is not duplicated)."""
    cutoff = _stale_cutoff()
    stale = list(db.session.scalars(
        select(Document).where(or_(and_(Document.status == RUNNING, Document.started_at < cutoff),
                                   and_(Document.status == PENDING, Document.updated_at < cutoff)))
        .order_by(Document.id).with_for_update(skip_locked=True)))
    for document in stale:
        was_running = document.status == RUNNING
        if was_running:
            document.status = PENDING
            document.last_error = _("生成文档的进程中断，已重新排队。")
        document.updated_at = utcnow()
        enqueue_build(document, replace_started=was_running)
    db.session.flush()
    return [document.id for document in stale]


def troubled_documents_query():
    """For the admin list: failed documents, and running ones whose worker looks dead."""
    return (select(Document).options(joinedload(Document.order))
            .where(or_(Document.status == FAILED,
                       and_(Document.status == RUNNING, Document.started_at < _stale_cutoff())))
            .order_by(Document.updated_at.desc(), Document.id.desc()))
