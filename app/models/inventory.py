"""Inventory: warehouses, lots, balances, the stock ledger, reservations, transfers, counts,
reorder rules, shelf-life rules, standard costs, alert state and ERP sync references.

Invariants the database itself enforces:
- a balance never has negative on-hand, negative reserved, or reserved above on-hand
  (`on_hand - reserved >= 0`: available stock can never go negative);
- a lot never has negative on-hand.

`StockMovement` is the append-only ledger: every change of a balance or a lot writes one row in
the same transaction (see app/services/inventory/ledger.py), so `flask stock verify` can
recompute balances and lots from it.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, Float, ForeignKey, ForeignKeyConstraint, Index,
                        Integer, String, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, MessageJSON, UTCDateTime, utcnow
from app.models.vocabulary import MovementKind, TransferStatus  # noqa: F401 (re-exported)
from app.models.catalog import Product
from app.models.org import Organisation, Region


MOVEMENT_KINDS = tuple(k.value for k in MovementKind)


class Warehouse(Base):
    """A brand distribution centre (owner = the brand) or a dealer's warehouse (owner = the
    dealer; a dealer may have several). `is_default` marks where an owner's orders are served
    from when the caller names no warehouse."""

    __tablename__ = "warehouses"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Organisation] = relationship()
    region: Mapped[Region] = relationship()


class StockLot(Base):
    """A batch of one product in one warehouse. Its expiry date comes from the production date
    plus the product's shelf life when not given."""

    __tablename__ = "stock_lots"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "product_id", "batch_no"),
        CheckConstraint("on_hand >= 0", name="on_hand"),
        Index("ix_stock_lots_wh_product_expiry", "warehouse_id", "product_id", "expiry_date"),
        Index("ix_stock_lots_expiry", "expiry_date"),
        # the lots in stock by expiry, from the index alone (the homes' expiring count and the
        # channel report's value expiring: most lots near expiry are already empty)
        Index("ix_stock_lots_held_expiry", "expiry_date", postgresql_include=["warehouse_id", "product_id", "on_hand"],
              postgresql_where=text("on_hand > 0"), sqlite_where=text("on_hand > 0")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    batch_no: Mapped[str] = mapped_column(String(40))
    production_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship()


class StockBalance(Base):
    """On-hand and reserved per warehouse and product, kept in step with the ledger. Available
    is on_hand - reserved; the CHECK makes a negative available impossible."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        CheckConstraint("on_hand >= 0 AND reserved >= 0 AND on_hand - reserved >= 0", name="available"),
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    # +1 at every change (the ledger's UPDATEs): the row's ETag in the API (If-Match).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(Base):
    """One line of the append-only ledger. `on_hand_delta` and `reserved_delta` are what the
    movement did to the balance (and, when `lot_id` is set, `on_hand_delta` to the lot).
    `document` names what it belongs to: "order:12", "transfer:3", "count:5", "erp:REF"."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("kind IN ('" + "', '".join(MOVEMENT_KINDS) + "')", name="kind"),
        Index("ix_stock_movements_wh_product_at", "warehouse_id", "product_id", "at"),
        Index("ix_stock_movements_document", "document"),
        Index("ix_stock_movements_kind_at", "kind", "at"),
        # Only lines with a lot (receipts, shipments, counts...): reservations and releases, most
        # of the ledger's lines, have none and no entry here.
        Index("ix_stock_movements_lot_id", "lot_id", postgresql_where=text("lot_id IS NOT NULL"),
              sqlite_where=text("lot_id IS NOT NULL")),
        # A line belongs to a balance row (whose own keys name the warehouse and the product): the
        # check finds the row the ledger's change has just locked, instead of taking share locks
        # on the warehouse's row, which every concurrent change in that warehouse then shares, and
        # on the product's (migration h16_stock_balance_keys).
        ForeignKeyConstraint(["warehouse_id", "product_id"],
                             ["stock_balances.warehouse_id", "stock_balances.product_id"]),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    warehouse_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_lots.id"))
    kind: Mapped[str] = mapped_column(String(15))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")  # typed by a person (or an older text)
    reason_message: Mapped[Any | None] = mapped_column(MessageJSON)  # written by the system, code + params
    document: Mapped[str] = mapped_column(String(100), default="")

    lot: Mapped[StockLot | None] = relationship()


class StockReservation(Base):
    """What one document (an order, a transfer) holds of a product in a warehouse.
    `min_expiry_date` is the earliest expiry its customer accepts (the shelf-life rule)."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        UniqueConstraint("document", "warehouse_id", "product_id"),
        CheckConstraint("qty >= 0", name="qty"),
        # Open reservations by product and cut-off: every lookup by warehouse and product asks for
        # open ones, and the latest cut-off (allocation's bounds) is one entry, however many
        # shipped reservations (qty 0) the product has had.
        Index("ix_stock_reservations_open", "warehouse_id", "product_id", "min_expiry_date",
              postgresql_where=text("qty > 0"), sqlite_where=text("qty > 0")),
        # Held of a balance row (see StockMovement's key).
        ForeignKeyConstraint(["warehouse_id", "product_id"],
                             ["stock_balances.warehouse_id", "stock_balances.product_id"]),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[str] = mapped_column(String(100))
    warehouse_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer, default=0)
    min_expiry_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReorderRule(Base):
    """Safety stock and reorder point for a product in a warehouse, set by hand (`manual`) or
    computed from recent demand (`computed`, see app/services/inventory/safety.py)."""

    __tablename__ = "reorder_rules"
    __table_args__ = (
        CheckConstraint("safety_stock >= 0 AND reorder_point >= 0 AND lead_time_days > 0", name="values"),
        CheckConstraint("method IN ('manual', 'computed', 'forecast')", name="method"),
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    reorder_point: Mapped[int] = mapped_column(Integer, default=0)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
    method: Mapped[str] = mapped_column(String(10), default="manual")
    avg_daily_demand: Mapped[float] = mapped_column(Float, default=0.0)
    demand_std: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ShelfLifeRule(Base):
    """A customer group that requires at least `min_remaining_pct` percent of a product's shelf
    life left on what it receives. Every targeting field that is set must match the customer
    (audience = dealer or retailer); the strictest matching rule applies."""

    __tablename__ = "shelf_life_rules"
    __table_args__ = (
        CheckConstraint("min_remaining_pct BETWEEN 0 AND 100", name="pct"),
        CheckConstraint("audience IS NULL OR audience IN ('dealer', 'retailer')", name="audience"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    audience: Mapped[str | None] = mapped_column(String(10))
    tier: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(20))
    min_remaining_pct: Mapped[int] = mapped_column(Integer)


class ProductCost(Base):
    """Standard cost per sales unit, used to value stock and goods shipped in turnover reports.
    Products without one are valued at their list price (and the report says so)."""

    __tablename__ = "product_costs"
    __table_args__ = (CheckConstraint("cost_fen >= 0", name="cost"),)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    cost_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Transfer(Base):
    """Stock moved between two warehouses of the same owner (库存调配). Created: the source
    holds it reserved; shipped: it is in transit (out of the source, not yet in the
    destination); received: in the destination, in the same lots it left."""

    __tablename__ = "stock_transfers"
    __table_args__ = (
        CheckConstraint("source_id <> dest_id", name="distinct"),
        CheckConstraint("status IN ('created', 'shipped', 'received', 'cancelled')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    dest_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=TransferStatus.CREATED.value, index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    source: Mapped[Warehouse] = relationship(foreign_keys=[source_id])
    dest: Mapped[Warehouse] = relationship(foreign_keys=[dest_id])
    lines: Mapped[list[TransferLine]] = relationship(back_populates="transfer", order_by="TransferLine.product_id",
                                                     cascade="all, delete-orphan")

    @property
    def document(self) -> str:
        return f"transfer:{self.id}"


class TransferLine(Base):
    __tablename__ = "stock_transfer_lines"
    __table_args__ = (UniqueConstraint("transfer_id", "product_id"), CheckConstraint("qty > 0", name="qty"))
    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfers.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)

    transfer: Mapped[Transfer] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class StockCount(Base):
    """A stocktake of a warehouse's lots: open while quantities are entered, posted when the
    differences are written to the ledger as `count` movements."""

    __tablename__ = "stock_counts"
    __table_args__ = (CheckConstraint("status IN ('open', 'posted', 'cancelled')", name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    warehouse: Mapped[Warehouse] = relationship()
    lines: Mapped[list[StockCountLine]] = relationship(back_populates="count", order_by="StockCountLine.id",
                                                       cascade="all, delete-orphan")


class StockCountLine(Base):
    __tablename__ = "stock_count_lines"
    __table_args__ = (UniqueConstraint("count_id", "lot_id"),
                      CheckConstraint("counted_qty IS NULL OR counted_qty >= 0", name="counted"))
    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lots.id"))
    expected_qty: Mapped[int] = mapped_column(Integer)
    counted_qty: Mapped[int | None] = mapped_column(Integer)

    count: Mapped[StockCount] = relationship(back_populates="lines")
    lot: Mapped[StockLot] = relationship()


class StockAlert(Base):
    """Alert state per warehouse, product and kind (low_stock, near_expiry): open while the
    condition holds. A notice goes out when it opens; `episode` counts openings so each one
    notifies once however many scans see it."""

    __tablename__ = "stock_alerts"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "product_id", "kind"),
        CheckConstraint("kind IN ('low_stock', 'near_expiry')", name="kind"),
        Index("ix_stock_alerts_open_kind", "is_open", "kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    kind: Mapped[str] = mapped_column(String(12))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    episode: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StockSyncLine(Base):
    """An ERP (or file) line already applied, by the owner's external reference: the same
    reference again changes nothing. `payload_hash` tells a repeat from a conflicting reuse."""

    __tablename__ = "stock_sync_lines"
    __table_args__ = (UniqueConstraint("org_id", "external_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    external_ref: Mapped[str] = mapped_column(String(80))
    payload_hash: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
