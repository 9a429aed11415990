"""API clients (the brand's ERP, WMS, ...): a bearer token per client, stored only as a hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.org import Organisation


class ApiClient(Base):
    """`token_hash` is the SHA-256 of the token (the token is random, so no salt is needed);
    `token_prefix` is its first characters, to tell tokens apart in lists and logs.
    `scopes` is a space-separated list such as "stock"."""

    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organisation] = relationship()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.split()
