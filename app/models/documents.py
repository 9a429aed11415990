"""PDF documents built by RQ jobs: one row per (order, kind), or per pick-list batch.

The row is the job's memory: its status is what the order page polls, `attempts` and
`last_error` are what an admin sees when it failed, and the PDF itself is kept in the row so
any web host can serve it (a few tens of kB each)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import DocumentKind, DocumentStatus  # noqa: F401 (re-exported)
from app.models.ordering import Order


ORDER_DOCUMENT_KINDS = (DocumentKind.INVOICE.value, DocumentKind.DELIVERY_NOTE.value,
                        DocumentKind.ORDER_SHEET.value)


class Document(Base):
    """Exactly one of `order_id` (invoice, delivery note, order sheet) and `batch_key` (a pick
    list: `owner_org_id` asked for the orders listed in `params`) is set."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("order_id", "kind"),
        UniqueConstraint("owner_org_id", "kind", "batch_key"),
        CheckConstraint("kind IN ('invoice', 'delivery_note', 'order_sheet', 'pick_list')", name="kind"),
        CheckConstraint("status IN ('pending', 'running', 'ready', 'failed')", name="status"),
        CheckConstraint("(order_id IS NULL AND batch_key IS NOT NULL AND owner_org_id IS NOT NULL)"
                        " OR (order_id IS NOT NULL AND batch_key IS NULL)", name="subject"),
        Index("ix_documents_status_updated", "status", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    batch_key: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=DocumentStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(String(80), default="")
    byte_size: Mapped[int] = mapped_column(Integer, default=0)
    # Deferred: lists and status polls never load the file.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order | None] = relationship()

    @property
    def is_ready(self) -> bool:
        return self.status == DocumentStatus.READY.value

    @property
    def is_in_progress(self) -> bool:
        return self.status in (DocumentStatus.PENDING.value, DocumentStatus.RUNNING.value)
