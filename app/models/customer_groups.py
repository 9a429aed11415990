"""Named groups of customers (客户组) that the brand's admins manage by hand — "key accounts",
"new shops 2027" — for targeting promotions. Pricing targets customers by attributes (tier,
channel, region: app/models/pricing.py) and has no named group, so this is the one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow


class CustomerGroup(Base):
    __tablename__ = "customer_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["CustomerGroupMember"]] = relationship(back_populates="group", cascade="all, delete-orphan",
                                                                order_by="CustomerGroupMember.customer_id")


class CustomerGroupMember(Base):
    __tablename__ = "customer_group_members"
    __table_args__ = (UniqueConstraint("group_id", "customer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)

    group: Mapped[CustomerGroup] = relationship(back_populates="members")
