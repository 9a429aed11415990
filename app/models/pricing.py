"""Price lists for customer groups, their items with quantity breaks, and contract prices.

How a price is chosen is written once, in app/services/pricing/prices.py."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class PriceList(Base):
    """Prices for a customer group. Every targeting field that is set must match the customer:
    audience (dealer or retailer), tier, channel, region (the customer's region or an ancestor)."""

    __tablename__ = "price_lists"
    __table_args__ = (CheckConstraint("audience IN ('dealer', 'retailer')", name="audience"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    audience: Mapped[str] = mapped_column(String(10))
    tier: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    items: Mapped[list[PriceListItem]] = relationship(back_populates="price_list", cascade="all, delete-orphan")


class PriceListItem(Base):
    """A product's price in a list from `min_qty` cases up (min_qty 1 is the plain price)."""

    __tablename__ = "price_list_items"
    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id", "min_qty"),
        CheckConstraint("min_qty >= 1 AND price_fen >= 0", name="values"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    min_qty: Mapped[int] = mapped_column(Integer, default=1)
    price_fen: Mapped[int] = mapped_column(BigInteger)

    price_list: Mapped[PriceList] = relationship(back_populates="items")


class ContractPrice(Base):
    """A price agreed with one customer for one product, optionally with quantity breaks."""

    __tablename__ = "contract_prices"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id", "min_qty", "valid_from"),
        CheckConstraint("min_qty >= 1 AND price_fen >= 0", name="values"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    min_qty: Mapped[int] = mapped_column(Integer, default=1)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(40), default="")


class PriceBookVersion(Base):
    """One row whose `token` changes whenever a price list, a price list item or a contract
    price is written (database triggers, see migration h15_price_book): the per-process price
    book (app/services/pricing/prices.py) reloads when the token it was built at differs."""

    __tablename__ = "price_book_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40))
