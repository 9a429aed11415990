"""Stock sync from the brand's ERP (JSON API) and from files (CSV/XLSX): receipts and stock
levels, all or nothing, with per-row errors.

A line is one of
- `receipt`: put qty into the batch (created when new);
- `level`: the batch now holds exactly qty (the difference is a `count` movement).
Fields: kind, warehouse_code, product_code, batch_no, qty, production_date, expiry_date
(YYYY-MM-DD; a new batch needs one of them), external_ref (required by the API, optional in
files), reason (optional).

Idempotency: an external reference is remembered per organisation once applied; sending the
same line again is reported as `duplicate` and changes nothing. Reusing a reference for a
different line is an error. Validation reads only; nothing is written unless every row is
valid, and an error while applying (e.g. a level below what is reserved) fails the whole batch:
the caller rolls back.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, tuple_

from app.extensions import db
from app.models import MovementKind, Product, StockLot, StockSyncLine, Warehouse
from app.services.core.messages import Message, message
from app.services.core.errors import DomainError
from app.services.inventory import ledger
from app.services.inventory.freed import stock_became_available
from app.services.inventory.operations import MAX_QTY, expiry_from, receive_stock, set_lot_quantity

KINDS = ("receipt", "level")
FIELDS = ("kind", "warehouse_code", "product_code", "batch_no", "qty", "production_date", "expiry_date",
          "external_ref", "reason")
# File headers may be in Chinese.
HEADER_ALIASES = {"类型": "kind", "仓库编码": "warehouse_code", "商品编码": "product_code", "批号": "batch_no",
                  "数量": "qty", "生产日期": "production_date", "到期日": "expiry_date", "外部单号": "external_ref",
                  "原因": "reason"}
MAX_LINES = 5000


@dataclass
class RowError:
    row: int
    field: str
    message: Message | str  # a Message (kept on import batches as code + parameters), or a service's text

    def as_dict(self) -> dict:
        """For the API's JSON answer: the text in the caller's language."""
        return {"row": self.row, "field": self.field, "message": str(self.message)}


@dataclass
class SyncLine:
    row: int
    kind: str
    warehouse_id: int
    product_id: int
    batch_no: str
    qty: int
    production_date: date | None
    expiry_date: date | None
    external_ref: str
    reason: str
    payload_hash: str
    duplicate: bool = False


@dataclass
class SyncResult:
    lines: list[SyncLine] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(not line.duplicate for line in self.lines)

    @property
    def duplicates(self) -> int:
        return sum(line.duplicate for line in self.lines)


class SyncRejected(DomainError):
    def __init__(self, errors: list[RowError]):
        super().__init__(_("有 %(n)d 处错误，未写入任何数据。", n=len(errors)))
        self.errors = errors


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _parse_date(value, row: int, name: str, errors: list[RowError]) -> date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        errors.append(RowError(row, name, message("stock_import.bad_date")))
        return None


def _parse_qty(value, kind: str, row: int, errors: list[RowError]) -> int | None:
    text = _text(value)
    try:
        qty = int(text) if not isinstance(value, bool) else None
    except ValueError:
        qty = None
    if qty is None:
        errors.append(RowError(row, "qty", message("stock_import.qty_integer")))
    elif qty < 0 or (kind == "receipt" and qty == 0) or qty > MAX_QTY:
        errors.append(RowError(row, "qty", message("stock_import.receipt_positive") if kind == "receipt"
                               else message("stock_import.level_negative")))
        qty = None
    return qty


def _hash(values: dict) -> str:
    canonical = {k: _text(values.get(k)) for k in FIELDS if k not in ("external_ref", "reason")}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def validate_lines(org_id: int, items: list[tuple[int, dict]], *, require_ref: bool) -> tuple[list[SyncLine], list[RowError]]:
    """Check every (row number, values) item without writing anything."""
    errors: list[RowError] = []
    if not items:
        return [], [RowError(0, "lines", message("stock_import.no_rows"))]
    if len(items) > MAX_LINES:
        return [], [RowError(0, "lines", message("stock_import.too_many_rows", n=MAX_LINES))]
    codes = {_text(v.get("warehouse_code")) for _r, v in items}
    warehouses = {w.code: w for w in db.session.scalars(select(Warehouse).where(Warehouse.code.in_(codes)))}
    product_codes = {_text(v.get("product_code")) for _r, v in items}
    products = {p.code: p for p in db.session.scalars(select(Product).where(Product.code.in_(product_codes)))}
    refs = {_text(v.get("external_ref")) for _r, v in items} - {""}
    known_refs = dict(db.session.execute(select(StockSyncLine.external_ref, StockSyncLine.payload_hash).where(
        StockSyncLine.org_id == org_id, StockSyncLine.external_ref.in_(refs))).all()) if refs else {}

    lines: list[SyncLine] = []
    seen_refs: set[str] = set()
    seen_levels: set[tuple] = set()
    for row, values in items:
        row_errors: list[RowError] = []
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            row_errors.append(RowError(row, unknown[0], message("stock_import.unknown_field")))
        kind = _text(values.get("kind")).lower()
        if kind not in KINDS:
            row_errors.append(RowError(row, "kind", message("stock_import.bad_kind")))
        warehouse = warehouses.get(_text(values.get("warehouse_code")))
        if warehouse is None or warehouse.owner_id != org_id or not warehouse.active:
            row_errors.append(RowError(row, "warehouse_code", message("stock_import.no_warehouse")))
        product = products.get(_text(values.get("product_code")))
        if product is None:
            row_errors.append(RowError(row, "product_code", message("stock_import.no_product")))
        batch_no = _text(values.get("batch_no"))
        if not batch_no or len(batch_no) > 40:
            row_errors.append(RowError(row, "batch_no", message("stock_import.bad_batch")))
        qty = _parse_qty(values.get("qty"), kind, row, row_errors)
        production = _parse_date(values.get("production_date"), row, "production_date", row_errors)
        expiry = _parse_date(values.get("expiry_date"), row, "expiry_date", row_errors)
        if production and expiry and expiry <= production:
            row_errors.append(RowError(row, "expiry_date", message("stock_import.expiry_before_production")))
        ref = _text(values.get("external_ref"))
        payload_hash = _hash(values)
        duplicate = False
        if len(ref) > 80:
            row_errors.append(RowError(row, "external_ref", message("stock_import.ref_too_long")))
        elif require_ref and not ref:
            row_errors.append(RowError(row, "external_ref", message("stock_import.ref_required")))
        elif ref and ref in seen_refs:
            row_errors.append(RowError(row, "external_ref", message("stock_import.ref_repeated")))
        elif ref in known_refs:
            if known_refs[ref] != payload_hash:
                row_errors.append(RowError(row, "external_ref", message("stock_import.ref_taken")))
            duplicate = True
        seen_refs.add(ref)
        if kind == "level" and warehouse and product and not duplicate:
            key = (warehouse.id, product.id, batch_no)
            if key in seen_levels:
                row_errors.append(RowError(row, "batch_no", message("stock_import.level_repeated")))
            seen_levels.add(key)
        if not row_errors:
            lines.append(SyncLine(row, kind, warehouse.id, product.id, batch_no, qty, production, expiry, ref,
                                  _text(values.get("reason"))[:200], payload_hash, duplicate))
        errors.extend(row_errors)
    errors.extend(_check_batches(lines, products))
    return lines, errors


def _check_batches(lines: list[SyncLine], products: dict[str, Product]) -> list[RowError]:
    """A new batch needs a date; an existing batch's expiry date cannot change."""
    keys = {(line.warehouse_id, line.product_id, line.batch_no) for line in lines}
    if not keys:
        return []
    existing = {(lot.warehouse_id, lot.product_id, lot.batch_no): lot for lot in db.session.scalars(
        select(StockLot).where(tuple_(StockLot.warehouse_id, StockLot.product_id, StockLot.batch_no).in_(list(keys))))}
    errors = []
    for line in lines:
        if line.duplicate:
            continue
        lot = existing.get((line.warehouse_id, line.product_id, line.batch_no))
        if lot is None and line.production_date is None and line.expiry_date is None:
            errors.append(RowError(line.row, "production_date", message("stock_import.new_lot_dates")))
        elif lot is not None and line.expiry_date is not None and line.expiry_date != lot.expiry_date:
            errors.append(RowError(line.row, "expiry_date",
                                   message("stock_import.lot_expiry_differs", d=lot.expiry_date.isoformat())))
    return errors


def apply_lines(org_id: int, lines: list[SyncLine], *, actor_id: int | None, document_prefix: str) -> SyncResult:
    """Write validated lines (raises SyncRejected on a row that fails while applying; the caller
    must then roll back). References are claimed first, so a concurrent identical call waits
    for this one and then fails on the unique reference instead of applying twice."""
    fresh = [line for line in lines if not line.duplicate]
    for line in fresh:
        if line.external_ref:
            db.session.add(StockSyncLine(org_id=org_id, external_ref=line.external_ref, payload_hash=line.payload_hash))
    db.session.flush()
    errors: list[RowError] = []
    levelled_up: set[tuple[int, int]] = set()
    for line in sorted(fresh, key=lambda x: (x.warehouse_id, x.product_id, x.row)):
        document = f"{document_prefix}:{line.external_ref}" if line.external_ref else document_prefix
        try:
            if line.kind == "receipt":
                receive_stock(line.warehouse_id, line.product_id, line.qty, line.batch_no, actor_id=actor_id,
                              production_date=line.production_date, expiry_date=line.expiry_date,
                              reason=line.reason or message("stock.erp_receipt"), document=document)
            else:
                lot = db.session.scalar(select(StockLot).where(
                    StockLot.warehouse_id == line.warehouse_id, StockLot.product_id == line.product_id,
                    StockLot.batch_no == line.batch_no))
                if lot is None:
                    product = db.session.get(Product, line.product_id)
                    lot = ledger.find_or_create_lot(line.warehouse_id, line.product_id, line.batch_no,
                                                    expiry_from(product, line.production_date, line.expiry_date),
                                                    line.production_date)
                if set_lot_quantity(lot, line.qty, actor_id=actor_id,
                                    reason=line.reason or message("stock.erp_sync"), document=document) > 0:
                    levelled_up.add((line.warehouse_id, line.product_id))
        except DomainError as error:
            errors.append(RowError(line.row, error.field or "qty", error.message))
    if errors:
        raise SyncRejected(errors)
    for warehouse_id, product_id in sorted(levelled_up):  # receipts made their own call (receive_stock)
        stock_became_available(warehouse_id, [product_id], actor_id)
    return SyncResult(lines)


def sync_stock(org_id: int, items: list[tuple[int, dict]], *, actor_id: int | None, require_ref: bool,
               document_prefix: str) -> SyncResult:
    lines, errors = validate_lines(org_id, items, require_ref=require_ref)
    if errors:
        raise SyncRejected(errors)
    return apply_lines(org_id, lines, actor_id=actor_id, document_prefix=document_prefix)
