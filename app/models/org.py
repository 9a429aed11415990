"""Organisations (the brand, dealers, retailers), the region tree and dealer territories."""
from __future__ import annotations


from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base
from app.models.vocabulary import OrgKind  # noqa: F401 (re-exported)


# Retailer channels (渠道) and dealer tiers: price lists and visibility rules target them.
CHANNELS = ("kiosk", "convenience", "supermarket", "catering")
DEALER_TIERS = ("A", "B", "C")


class Region(Base):
    """Province → city → county. `path` holds the ancestor ids ("/3/41/") so matching a rule's
    region against a customer's region needs no query."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[int] = mapped_column(Integer)  # 1 province, 2 city, 3 county
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(80), index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id])

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


class Organisation(Base):
    """One table for every party: the brand, dealers and retailers, told apart by `kind`.

    Dealer-only fields: tier, credit_limit_fen, payment_terms_days. Retailer-only fields:
    channel, dealer_id (the assigned dealer that serves it)."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("kind IN ('brand', 'dealer', 'retailer')", name="kind"),
        Index("ix_organisations_kind_dealer", "kind", "dealer_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    tier: Mapped[str | None] = mapped_column(String(10))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    credit_limit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=0)
    contact_name: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region | None] = relationship()
    dealer: Mapped[Organisation | None] = relationship(remote_side=[id])

    @property
    def is_brand(self) -> bool:
        return self.kind == OrgKind.BRAND.value


class DealerTerritory(Base):
    """A region a dealer serves; covering a city covers its counties."""

    __tablename__ = "dealer_territories"
    __table_args__ = (UniqueConstraint("dealer_id", "region_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)


class RepRoute(Base):
    """A retailer a sales rep serves, and the weekday (0 = Monday) of the visit."""

    __tablename__ = "rep_routes"
    __table_args__ = (
        UniqueConstraint("rep_id", "retailer_id"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
