"""Uploaded import files waiting for confirmation: the parsed rows and their validation results
stay here between the preview and the confirm, so nothing is written before the user agrees."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import ImportStatus  # noqa: F401 (re-exported)


class ImportBatch(Base):
    """One uploaded file. `rows` holds, for every data row, its row number in the file, the raw
    cell values by column key, its errors and the planned action (create / update / unchanged).
    `messages` holds problems with the file as a whole (unknown or repeated columns)."""

    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'applied', 'discarded')", name="status"),
        Index("ix_import_batches_kind_created", "kind", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # products | price_list_items | contract_prices
    filename: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    columns: Mapped[list] = mapped_column(JSON, default=list)
    rows: Mapped[list] = mapped_column(JSON, default=list)
    messages: Mapped[list] = mapped_column(JSON, default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.PENDING.value)
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
