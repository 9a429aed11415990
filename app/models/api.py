"""API clients (the brand's ERP, WMS, ...): a bearer token per client, stored only as a hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.org import Organisation


class ApiClient(Base):
    """`token_hash` is the SHA-256 of the token (the token is random, so no salt is needed);
    `token_prefix` is its first characters, to tell tokens apart in lists and logs.
    `scopes` is a space-separated list such as "stock orders catalog"; a `read_only` client may
    only read whatever its scopes allow. `user_id` is the client's own service user (inactive,
    no password: it never logs in), the owner of the carts its orders are built from and the
    actor in order history and audit."""

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
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    org: Mapped[Organisation] = relationship()
    user: Mapped["User | None"] = relationship()  # noqa: F821 (app.models.users; read with the token)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.split()


class ApiIdempotencyKey(Base):
    """An `Idempotency-Key` a client sent with a POST: the request's fingerprint (method, path,
    body) and, once the first execution finished, its status and body, replayed for repeats.
    (client_id, key) is unique: a concurrent repeat waits on the first one's row."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"), Index("ix_api_idempotency_keys_created_at", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
