"""Categories, products, product images and visibility rules."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, CheckConstraint, Date, ForeignKey, Integer, LargeBinary, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import ProductStatus  # noqa: F401 (re-exported)


TAX_RATES = (13, 9)


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Product(Base):
    """A sellable item. Quantities are in `unit` (usually a case, 箱) of `pack_size` pieces.
    `base_price_fen` is the list price, tax included, before any price list or contract."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'discontinued')", name="status"),
        CheckConstraint("tax_rate IN (9, 13)", name="tax_rate"),
        CheckConstraint("pack_size > 0 AND min_order_qty > 0 AND order_multiple > 0", name="quantities"),
        CheckConstraint("base_price_fen >= 0", name="base_price"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # Pinyin initials of name_zh ("nfsq" for 农夫山泉), kept for search on phones.
    pinyin: Mapped[str] = mapped_column(String(100), default="", index=True)
    # The full pinyin of name_zh without tones or spaces ("kekoukele" for 可口可乐).
    pinyin_full: Mapped[str] = mapped_column(String(400), default="", server_default="")
    spec: Mapped[str] = mapped_column(String(60), default="")
    unit: Mapped[str] = mapped_column(String(10), default="箱")
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    min_order_qty: Mapped[int] = mapped_column(Integer, default=1)
    order_multiple: Mapped[int] = mapped_column(Integer, default=1)
    shelf_life_days: Mapped[int] = mapped_column(Integer, default=365)
    tax_rate: Mapped[int] = mapped_column(Integer, default=13)
    status: Mapped[str] = mapped_column(String(15), default=ProductStatus.DRAFT.value, index=True)
    launch_date: Mapped[date | None] = mapped_column(Date)
    base_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Bumped when the image changes, so its URL (and the browser cache) changes with it.
    image_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship()

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_zh


class ProductImage(Base):
    """One image per product, stored in the database so every web host can serve it."""

    __tablename__ = "product_images"
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(30))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)  # small WebP for list pages


class ProductVisibility(Base):
    """Limits a product to some customers. A product without rules is visible to everyone;
    with rules, a customer sees it when any one rule matches. In a rule, every field that is
    set must match (audience = customer kind; tier; channel; region = customer's region or an
    ancestor)."""

    __tablename__ = "product_visibility"
    __table_args__ = (UniqueConstraint("product_id", "audience", "tier", "channel", "region_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str | None] = mapped_column(String(10))  # 'dealer' | 'retailer' | None
    tier: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))


class CatalogVersion(Base):
    """One row whose `token` changes whenever a product, a visibility rule or a category is
    written (database triggers, see migration h16_catalog_version): the per-process copy of the
    orderable catalog (app/services/catalog/shelf.py) reloads when the token it was read at differs."""

    __tablename__ = "catalog_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40))
