"""Carts, orders, their lines and status history."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, false as sa_false
from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.models.base import Base, MessageJSON, UTCDateTime, utcnow
from app.models.vocabulary import OrderStatus, OrderChannel, OrderKind, OrderPayment  # noqa: F401 (re-exported)
from app.models.catalog import Product
from app.models.org import Organisation


class CartLine(Base):
    """A line in the cart `owner_id` is building for `buyer_id` (a rep builds carts for shops).
    `quoted_price_fen` is the unit price shown when the line was last priced: checkout compares
    it with the price at submit and asks again when they differ."""

    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("owner_id", "buyer_id", "product_id"),
        CheckConstraint("qty > 0", name="qty"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)
    quoted_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()


class Order(Base):
    """An order from a buyer (retailer, or dealer for replenishment) to a seller (a dealer or
    the brand). Totals are tax inclusive, in fen; `tax_fen` is the tax contained in them.
    (buyer_id, idempotency_key) is unique: a repeated submit finds the order already made."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("buyer_id", "idempotency_key"),
        Index("ix_orders_seller_created", "seller_id", "created_at"),
        # the desk's and the homes' count per status read from the index alone (the brand's 52,000
        # orders at full scale: 1,700 heap pages, ~100 ms, otherwise)
        Index("ix_orders_seller_status", "seller_id", "status"),
        Index("ix_orders_buyer_created", "buyer_id", "created_at"),
        Index("ix_orders_updated_at", "updated_at"),  # the nightly facts job finds changed days by it
        CheckConstraint("total_fen >= 0 AND tax_fen >= 0", name="totals"),
        CheckConstraint("payment_method IN ('credit', 'prepayment', 'cod')", name="payment_method"),
        CheckConstraint("kind IN ('standard', 'presale', 'groupbuy')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10), default=OrderChannel.WEB.value)
    kind: Mapped[str] = mapped_column(String(10), default=OrderKind.STANDARD.value, server_default="standard")
    status: Mapped[str] = mapped_column(String(15), default=OrderStatus.SUBMITTED.value, index=True)
    # 商品种数: distinct products in the lines (a gift of a product also bought does not add one)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    cart_fingerprint: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    # A backorder: the lines its original could not supply at approval, held until stock arrives.
    backorder_of_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # Asked at checkout (ordering.delivery_terms); None on orders made before they were asked.
    delivery_date: Mapped[date | None] = mapped_column(Date)
    delivery_address: Mapped[str | None] = mapped_column(String(200))
    payment_method: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    buyer: Mapped[Organisation] = relationship(foreign_keys=[buyer_id])
    seller: Mapped[Organisation] = relationship(foreign_keys=[seller_id])
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                  cascade="all, delete-orphan")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                    cascade="all, delete-orphan")

    # What the order took from the buyer's rebate balance and points (and what came back), read
    # as columns of the order page's own query (ordering.orders.order_detail); None elsewhere.
    rebate_fen: Mapped[int | None] = query_expression()
    rebate_back_fen: Mapped[int | None] = query_expression()
    points_used: Mapped[int | None] = query_expression()
    points_fen: Mapped[int | None] = query_expression()
    points_back: Mapped[int | None] = query_expression()


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("qty > 0 AND unit_price_fen >= 0", name="values"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    price_reason: Mapped[str] = mapped_column(String(120), default="")  # older lines: the text as shown
    price_basis: Mapped[Any | None] = mapped_column(MessageJSON)  # why this price, code + params
    tax_rate: Mapped[int] = mapped_column(Integer)
    line_total_fen: Mapped[int] = mapped_column(BigInteger)  # after discount_fen
    tax_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # promotions, coupon
    is_gift: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())  # 赠品, priced 0

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class OrderEvent(Base):
    """A status change: who, when, from, to, why."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(15))
    to_status: Mapped[str] = mapped_column(String(15))
    note: Mapped[str] = mapped_column(Text, default="")  # typed by a person (or an older system note)
    note_message: Mapped[Any | None] = mapped_column(MessageJSON)  # written by the system, code + params

    order: Mapped[Order] = relationship(back_populates="events")
