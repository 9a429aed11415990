"""Fulfilment of an order after approval: shipments (several per order, each with its lines and
the lots that left the warehouse), the remainder cancelled with a reason, the delivery code's
wrong-attempt counter, the delivery sign-off with short or damaged quantities, and returns.

What is open on an order line is derived, never stored: ordered − shipped (sum of ShipmentLine)
− cancelled (everything not shipped once a RemainderCancellation exists). Delivered = shipped −
short − damaged; returnable = delivered − what returns requested or accepted already cover.
The rules live in app/services/fulfilment/shipping.py, delivery.py and returns.py."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import SignOffMethod, DiscrepancyKind, ReturnStatus, ReturnDisposition  # noqa: F401 (re-exported)
from app.models.catalog import Product
from app.models.ordering import Order, OrderLine


class Shipment(Base):
    """One dispatch of (part of) an order: carrier, tracking number, who and when."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_seller_shipped", "seller_id", "shipped_at"),
                      Index("ix_shipments_shipped_at", "shipped_at"),  # the sales facts read a day's shipments
                      Index("ix_shipments_tracking_no", "tracking_no"))
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_no: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", order_by="ShipmentLine.id",
                                                     cascade="all, delete-orphan")
    lots: Mapped[list[ShipmentLot]] = relationship(back_populates="shipment", order_by="ShipmentLot.id",
                                                   cascade="all, delete-orphan")
    # What the carrier reported (app/models/logistics.py), newest first.
    tracking_events: Mapped[list["TrackingEvent"]] = relationship(  # noqa: F821
        order_by="(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())", viewonly=True)


class ShipmentLine(Base):
    """The quantity of one order line in a shipment."""

    __tablename__ = "shipment_lines"
    __table_args__ = (UniqueConstraint("shipment_id", "order_line_id"), CheckConstraint("qty > 0", name="qty"))
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    product: Mapped[Product] = relationship()


class ShipmentLot(Base):
    """A lot that left the warehouse in a shipment (first expiry, first out), as the inventory
    services chose it. Batch and expiry are copied: the printout must not change later."""

    __tablename__ = "shipment_lots"
    __table_args__ = (CheckConstraint("qty > 0", name="qty"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_lots.id"))
    batch_no: Mapped[str] = mapped_column(String(40))
    expiry_date: Mapped[date] = mapped_column(Date)
    qty: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lots")


class RemainderCancellation(Base):
    """The seller will not ship what is still open on the order (after at least one shipment):
    every line's unshipped quantity is cancelled, the reservation released and credited."""

    __tablename__ = "remainder_cancellations"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DeliveryCode(Base):
    """Wrong-attempt counter of an order's delivery code. The code itself is never stored: it is
    derived from SECRET_KEY, the order id and `salt` (app/services/fulfilment/delivery.py), so the database
    alone does not reveal the codes of orders on the road. `locked_at` is set at the last
    allowed wrong attempt: sign-off by code is then refused for the order."""

    __tablename__ = "delivery_codes"
    __table_args__ = (CheckConstraint("failed_attempts >= 0", name="attempts"),)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(32), default="")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliverySignOff(Base):
    """The buyer received the order (once per order), with what was short or damaged."""

    __tablename__ = "delivery_sign_offs"
    # carrier: the carrier's delivered event, for a dealer that trusts its proof of delivery
    __table_args__ = (CheckConstraint("method IN ('portal', 'code', 'carrier')", name="method"),
                      Index("ix_delivery_sign_offs_signed_at", "signed_at"))  # the sales facts read a day's deliveries
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    discrepancies: Mapped[list[DeliveryDiscrepancy]] = relationship(
        back_populates="sign_off", order_by="DeliveryDiscrepancy.id", cascade="all, delete-orphan")


class DeliveryDiscrepancy(Base):
    """A quantity of one order line that arrived short or damaged; credited to the buyer."""

    __tablename__ = "delivery_discrepancies"
    __table_args__ = (
        UniqueConstraint("sign_off_id", "order_line_id", "kind"),
        CheckConstraint("kind IN ('short', 'damaged')", name="kind"),
        CheckConstraint("qty > 0 AND amount_fen >= 0", name="values"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sign_off_id: Mapped[int] = mapped_column(ForeignKey("delivery_sign_offs.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    kind: Mapped[str] = mapped_column(String(10))
    qty: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))

    sign_off: Mapped[DeliverySignOff] = relationship(back_populates="discrepancies")
    order_line: Mapped[OrderLine] = relationship()


class ReturnRequest(Base):
    """A buyer asks to send back part of a delivered order; the seller accepts (restock or
    write-off, with a credit note) or refuses with a reason."""

    __tablename__ = "return_requests"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'accepted', 'refused')", name="status"),
        CheckConstraint("disposition IS NULL OR disposition IN ('restock', 'write_off')", name="disposition"),
        CheckConstraint("amount_fen >= 0", name="amount"),
        Index("ix_return_requests_seller_status", "seller_id", "status", "requested_at"),
        Index("ix_return_requests_buyer_requested", "buyer_id", "requested_at"),
        Index("ix_return_requests_decided_at", "decided_at"),  # the sales facts read a day's accepted returns
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(10), default=ReturnStatus.REQUESTED.value)
    reason: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disposition: Mapped[str | None] = mapped_column(String(10))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))

    order: Mapped[Order] = relationship()
    lines: Mapped[list[ReturnLine]] = relationship(back_populates="request", order_by="ReturnLine.id",
                                                   cascade="all, delete-orphan")


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (UniqueConstraint("return_id", "order_line_id"), CheckConstraint("qty > 0", name="qty"))
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_requests.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)

    request: Mapped[ReturnRequest] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    product: Mapped[Product] = relationship()
