"""Login accounts: one role each, linked to an organisation; admins carry permissions."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import Role  # noqa: F401 (re-exported)
from app.models.org import Organisation


# What an admin may do; a user holds a subset (space separated in `permissions`).
PERMISSIONS = ("catalog", "pricing", "orders", "stock", "marketing", "reports", "users")


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'dealer', 'retailer', 'rep')", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    permissions: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped on password change: sessions carrying an older value are logged out.
    session_version: Mapped[int] = mapped_column(default=1)

    org: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def permission_set(self) -> frozenset[str]:
        return frozenset(self.permissions.split())

    def can(self, permission: str) -> bool:
        return self.role == Role.ADMIN.value and permission in self.permission_set


class UserSession(Base):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored.
    Sign-out revokes the row, so a copy of the cookie taken before is worthless; a password
    change or an admin disabling the user revokes every row; idle sessions expire."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
