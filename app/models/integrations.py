"""Integrations: the outbox of domain events, webhook subscriptions, deliveries and attempts."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false,
                        true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


class OutboxEvent(Base):
    """A domain event, written in the same transaction as the change it reports (so it exists if
    and only if the change committed). `event_id` is the stable id receivers deduplicate on
    (the `webhook-id` of every delivery of it); `sequence` counts the events of one aggregate
    (1, 2, 3 ... per order, return, invoice ...) so a receiver can order them. `org_ids` are the
    organisations the event concerns (buyer and seller); the brand sees every event."""

    __tablename__ = "outbox_events"
    __table_args__ = (UniqueConstraint("aggregate_type", "aggregate_id", "sequence"),
                      Index("ix_outbox_events_occurred_at", "occurred_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    aggregate_type: Mapped[str] = mapped_column(String(20))
    aggregate_id: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    org_ids: Mapped[list] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookSubscription(Base):
    """An organisation's endpoint: the event types it wants (space-separated, "*" for all), its
    URL and signing secret (`whsec_...`, shown once when created). Disabled automatically after
    `WEBHOOK_DISABLE_AFTER` failed attempts in a row."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(80))
    event_types: Mapped[str] = mapped_column(String(600))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def wants(self, event_type: str) -> bool:
        types = self.event_types.split()
        return "*" in types or event_type in types


class WebhookDelivery(Base):
    """One event to one subscription: `pending` (an attempt is due at `next_attempt_at`),
    `delivered`, or `failed` (retries exhausted or the subscription was disabled; replay sends it
    again)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("outbox_events.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[WebhookSubscription] = relationship()
    event: Mapped[OutboxEvent] = relationship()


class WebhookAttempt(Base):
    """The log of every attempt: HTTP status (None: no answer), duration, the start of the
    response body or the error."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
                                             index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    excerpt: Mapped[str] = mapped_column(String(500), default="")
