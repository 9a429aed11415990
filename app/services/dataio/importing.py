"""Importing products and prices from CSV/XLSX in two steps.

1. `preview_upload` reads the file, checks every row against the database and keeps the rows
   with their results in an ImportBatch. Nothing else is written.
2. `confirm_batch` applies a pending batch without errors: it checks the rows again against the
   current database (something may have changed since the preview) and writes all rows or none,
   with an audit event per created or updated record and one for the batch.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from app.extensions import db
from app.models import ImportBatch, ImportStatus, User, utcnow
from app.services.core.messages import joined, message
from app.services.core import audit
from app.services.dataio import prices as import_prices
from app.services.dataio import products as import_products
from app.services.core.errors import DomainError, NotFound, PermissionDenied
from app.services.dataio.fields import CheckedRow, Column, map_headers, row_values
from app.services.dataio.spreadsheets import read_table

MAX_ROWS = 20_000


@dataclass(frozen=True)
class ImportKind:
    key: str
    title: str
    permission: str  # the admin permission needed to import and export it
    columns: tuple[Column, ...]
    required_columns: tuple[str, ...]
    check: Callable[[list[tuple[int, dict]]], list[CheckedRow]]
    apply: Callable[[int, list[CheckedRow]], None]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


KINDS = {kind.key: kind for kind in (
    ImportKind("products", _l("商品"), "catalog", import_products.COLUMNS, import_products.REQUIRED_COLUMNS,
               import_products.check_products, import_products.apply_products),
    ImportKind("price_list_items", _l("价目表价格"), "pricing", import_prices.PRICE_LIST_COLUMNS,
               import_prices.PRICE_LIST_REQUIRED, import_prices.check_price_list_items,
               import_prices.apply_price_list_items),
    ImportKind("contract_prices", _l("合同价"), "pricing", import_prices.CONTRACT_COLUMNS,
               import_prices.CONTRACT_REQUIRED, import_prices.check_contract_prices,
               import_prices.apply_contract_prices),
)}


class BatchHasErrors(DomainError):
    """Confirm refused because rows are invalid (possibly only since the preview)."""


def kind_for(key: str) -> ImportKind:
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound(_("未知的导入类型。"))
    return kind


def kinds_for(user: User) -> list[ImportKind]:
    return [kind for kind in KINDS.values() if user.can(kind.permission)]


def _require_permission(user: User, kind: ImportKind) -> None:
    if not user.can(kind.permission):
        raise PermissionDenied(_("您没有权限执行此操作。"))


def preview_upload(actor: User, kind: ImportKind, filename: str, data: bytes) -> ImportBatch:
    """Read and check an uploaded file; keep it as a pending batch for the preview.
    Raises DomainError(field="file") for a file that cannot be read at all."""
    _require_permission(actor, kind)
    table = read_table(filename, data, MAX_ROWS)
    header_map = map_headers(kind.columns, table.headers, kind.required_columns)
    messages = []
    if header_map.unknown:
        messages.append(message("import.unknown_columns", names=joined(header_map.unknown),
                                known=joined(list(kind.headers))).to_json())
    if header_map.repeated:
        messages.append(message("import.repeated_columns", names=joined(header_map.repeated)).to_json())
    if header_map.missing:
        messages.append(message("import.missing_columns",
                                names=joined([c.header for c in header_map.missing])).to_json())
    rows = [(number, row_values(header_map, cells)) for number, cells in table.rows]
    checked = kind.check(rows)
    columns = sorted(header_map.positions, key=header_map.positions.get)
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1][-200:]  # some browsers send a full path
    batch = ImportBatch(kind=kind.key, filename=filename, created_by=actor.id, columns=columns,
                        rows=[row.stored() for row in checked], messages=messages, row_count=len(checked),
                        error_count=len(messages) + sum(1 for row in checked if row.errors),
                        status=ImportStatus.PENDING.value)
    db.session.add(batch)
    db.session.flush()
    return batch


def confirm_batch(actor: User, batch: ImportBatch) -> Counter:
    """Apply a pending, error-free batch after checking its rows again. Returns the number of
    rows per action. BatchHasErrors when rows fail now: the batch then holds the new results
    (the caller commits them so the preview shows why) and nothing else was written."""
    kind = kind_for(batch.kind)
    _require_permission(actor, kind)
    if batch.status != ImportStatus.PENDING.value:
        raise DomainError(_("该导入已处理，不能再次确认。"))
    if batch.error_count:
        raise BatchHasErrors(_("文件有错误，不能导入。请修改文件后重新上传。"))
    checked = kind.check([(row["row"], row["values"]) for row in batch.rows])
    invalid = sum(1 for row in checked if row.errors)
    batch.rows = [row.stored() for row in checked]
    if invalid:
        batch.error_count = invalid + len(batch.messages)
        raise BatchHasErrors(_("数据在预览之后有了变化，%(n)d 行现在不能导入，请查看原因。", n=invalid))
    # Claim the batch in the database, so two confirms at once cannot both apply it.
    claimed = db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.status == ImportStatus.PENDING.value)
        .values(status=ImportStatus.APPLIED.value).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise DomainError(_("该导入已处理，不能再次确认。"))
    kind.apply(actor.id, checked)
    batch.status = ImportStatus.APPLIED.value
    batch.applied_by = actor.id
    batch.applied_at = utcnow()
    counts = Counter(row.action for row in checked)
    audit.record(actor.id, "import.apply", "import_batch", batch.id, None,
                 {"kind": kind.key, "filename": batch.filename, "rows": len(checked),
                  "created": counts["create"], "updated": counts["update"], "unchanged": counts["unchanged"]})
    db.session.flush()
    return counts


def discard_batch(actor: User, batch: ImportBatch) -> None:
    _require_permission(actor, kind_for(batch.kind))
    if batch.status != ImportStatus.PENDING.value:
        raise DomainError(_("该导入已处理。"))
    batch.status = ImportStatus.DISCARDED.value


def batch_summary(batch: ImportBatch) -> Counter:
    """Rows per planned action, plus "invalid" for rows with errors."""
    return Counter("invalid" if row["errors"] else row["action"] for row in batch.rows)
