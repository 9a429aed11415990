"""Carrier tracking: the events carriers report for a shipment's waybill (by signed callback or
when a job polls them), and which carriers' proof of delivery a dealer trusts.

A tracking event is unique on carrier + waybill + event code + time: a repeated callback, or a
poll that sees an event again, adds nothing. Rules: app/services/logistics."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import TrackingCode  # noqa: F401 (re-exported)


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier", "waybill", "code", "occurred_at"),
        CheckConstraint("source IN ('callback', 'poll')", name="source"),
        Index("ix_tracking_events_shipment_occurred", "shipment_id", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(20))  # the carrier's code (CARRIERS in the config)
    waybill: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(20))  # TrackingCode
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CarrierTrust(Base):
    """A dealer trusts this carrier's proof of delivery: its `delivered` event signs the order off
    (no row: the event is only shown)."""

    __tablename__ = "carrier_trust"
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(20), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
