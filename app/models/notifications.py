"""In-app notifications. One row per recipient user: `org_id` and `role` record whom the notice
was addressed to (an organisation and a role), `user_id` who holds this copy, so reading it is
per user and the unread count is one indexed count.

A notice stores what it is about and what it says, never finished text or a URL:
- `subject`, `subject_id` (and `subject_scope_id` where one id is not enough, e.g. the warehouse
  of a "stock" subject whose id is the product): the web layer turns (subject, role) into a
  link when the notice is shown (app/web/shared/notifications/links.py), so renaming a route
  cannot break a stored notice;
- `message` and `params`: a code from app/services/notifications/messages.py and its values,
  rendered in the reader's language when shown (in the default language in an e-mail).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(20))  # the role the notice was addressed to
    kind: Mapped[str] = mapped_column(String(30))  # e.g. "stock.low_stock"
    subject: Mapped[str | None] = mapped_column(String(20))  # e.g. "order", "return", "stock"
    subject_id: Mapped[int | None] = mapped_column(Integer)
    subject_scope_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(40))  # a code of app/services/notifications/messages.py
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
