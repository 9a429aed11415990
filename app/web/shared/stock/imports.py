"""Stock import from CSV/XLSX: upload → preview with per-row errors → apply (all or nothing).
The parsed rows wait in an ImportBatch (kind "stock") between preview and apply."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import ImportBatch, ImportStatus, User, utcnow
from app.services.core.messages import Message, joined, message
from app.services.inventory import sync
from app.services.inventory.scope import own_import_batch
from app.services.dataio.spreadsheets import read_table
from app.web.common.envelope import attempt
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.stock import route
from app.web.shared.stock.forms import ImportForm

KIND = "stock"


def _recent_batches() -> list[ImportBatch]:
    return list(db.session.scalars(
        select(ImportBatch).join(User, User.id == ImportBatch.created_by)
        .where(ImportBatch.kind == KIND, User.org_id == current_user.org_id)
        .order_by(ImportBatch.id.desc()).limit(10)))


def own_batch(batch_id: int) -> ImportBatch:
    return own_import_batch(current_user.org_id, batch_id, KIND)


def _items(headers: list[str], rows: list[tuple[int, list[str]]]) -> tuple[list[tuple[int, dict]], list[dict]]:
    keys = [sync.HEADER_ALIASES.get(h, h.strip().lower()) for h in headers]
    unknown = [h for h, k in zip(headers, keys) if k and k not in sync.FIELDS]
    messages = [message("stock_import.unknown_columns", c=joined(unknown)).to_json()] if unknown else []
    items = [(number, {k: (cells[i] if i < len(cells) else "") for i, k in enumerate(keys) if k in sync.FIELDS})
             for number, cells in rows]
    return items, messages


def _store_errors(batch: ImportBatch, errors: list[sync.RowError]) -> None:
    by_row: dict[int, list[dict]] = {}
    for error in errors:
        text = error.message.to_json() if isinstance(error.message, Message) else error.message
        by_row.setdefault(error.row, []).append({"field": error.field, "message": text})
    batch.rows = [dict(row, errors=by_row.get(row["row"], [])) for row in batch.rows]
    batch.messages = [e["message"] for e in by_row.get(0, [])]
    batch.error_count = len(errors)


def _stage(filename: str, content: bytes) -> ImportBatch:
    """Parse the upload and keep its rows, with their errors, for the preview."""
    table = read_table(filename, content, max_rows=sync.MAX_LINES)
    items, messages = _items(table.headers, table.rows)
    _lines, errors = sync.validate_lines(current_user.org_id, items, require_ref=False)
    batch = ImportBatch(kind=KIND, filename=filename[:200], created_by=current_user.id, columns=list(sync.FIELDS),
                        rows=[{"row": n, "values": v} for n, v in items], row_count=len(items))
    _store_errors(batch, errors)
    batch.messages = messages + batch.messages
    batch.error_count += len(messages)
    db.session.add(batch)
    db.session.flush()
    return batch


@route("/stock/import", methods=("GET", "POST"))
def stock_import():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = attempt(form, _stage, upload.filename or "", upload.read())
        if outcome.ok:
            return redirect_to(url_for(".stock_import_preview", batch_id=outcome.result.id))
    return render_page("stock/import.html", status=400 if request.method == "POST" else 200, form=form,
                       batches=_recent_batches(), fields=sync.FIELDS, aliases=sync.HEADER_ALIASES)


@route("/stock/import/<int:batch_id>")
def stock_import_preview(batch_id: int, status: int = 200):
    batch = own_batch(batch_id)
    return render_page("stock/import_preview.html", status=status, batch=batch, fields=sync.FIELDS,
                       action_form=ActionForm())


def _apply(batch: ImportBatch, items: list[tuple[int, dict]]) -> None:
    sync.sync_stock(current_user.org_id, items, actor_id=current_user.id, require_ref=False,
                    document_prefix=f"import:{batch.id}")
    batch.status, batch.applied_by, batch.applied_at = ImportStatus.APPLIED.value, current_user.id, utcnow()


@route("/stock/import/<int:batch_id>/apply", methods=("POST",))
def stock_import_apply(batch_id: int):
    batch = own_batch(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if batch.status != ImportStatus.PENDING.value:
        flash(_("该导入已处理过。"), "warning")
        return redirect_to(url_for(".stock_import_preview", batch_id=batch.id))
    items = [(row["row"], row["values"]) for row in batch.rows]
    outcome = attempt(None, _apply, batch, items)
    if not outcome.ok:  # rows no longer valid (stock moved since the preview): keep their errors
        attempt(None, _store_errors, own_batch(batch_id), getattr(outcome.error, "errors", None) or [
            sync.RowError(0, "", outcome.error.message)])
        return stock_import_preview(batch_id, status=422)
    flash(_("已导入 %(n)d 行库存数据。", n=len(items)), "success")
    return redirect_to(url_for(".stock_list"))
