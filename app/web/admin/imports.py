"""Import (upload → preview → confirm) and export of products and prices, CSV or XLSX.

Products need the "catalog" permission, price list items and contract prices "pricing"."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from app.web.common.forms import Form
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import defer

from app.extensions import db
from app.models import ImportBatch, User
from app.services.dataio import importing
from app.services.core.errors import DomainError
from app.services.dataio.exporting import export_rows
from app.services.dataio.importing import ImportKind
from app.services.core.paging import Page, paginate
from app.services.core.records import require
from app.services.dataio.spreadsheets import csv_chunks, xlsx_bytes
from app.services.core.clock import today_local
from app.web.admin import bp
from app.web.common.envelope import attempt
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page

PREVIEW_PAGE_SIZE = 200
BATCHES_PAGE_SIZE = 20
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_ENDPOINTS = ("admin.imports_upload",)


class UploadForm(Form):
    file = FileField(_l("文件"), validators=[
        FileRequired(_l("请选择要上传的文件。")),
        FileAllowed(["csv", "xlsx"], _l("只支持 CSV 或 XLSX 文件。"))])


def _kind_or_abort(key: str) -> ImportKind:
    kind = importing.KINDS.get(key)
    if kind is None:
        abort(404)
    if not current_user.can(kind.permission):
        abort(403)
    return kind


def _batch_and_kind(batch_id: int) -> tuple[ImportBatch, ImportKind]:
    batch = require(ImportBatch, batch_id, _("导入记录不存在。"))
    return batch, _kind_or_abort(batch.kind)


@bp.route("/imports")
def imports_index():
    kinds = importing.kinds_for(current_user)
    if not kinds:
        abort(403)
    return render_template("admin/imports/index.html", kinds=kinds)


def _batches_page(kind: ImportKind) -> Page:
    query = (select(ImportBatch, User.username).join(User, ImportBatch.created_by == User.id)
             .options(defer(ImportBatch.rows), defer(ImportBatch.columns), defer(ImportBatch.messages))
             .where(ImportBatch.kind == kind.key).order_by(ImportBatch.id.desc()))
    return paginate(query, request.args.get("page", 1, type=int), BATCHES_PAGE_SIZE, scalars=False)


def _upload_page(kind: ImportKind, form: UploadForm, status: int = 200) -> Response:
    return render_page("admin/imports/upload.html", "admin/imports/_batches.html", status=status,
                       kind=kind, form=form, batches=_batches_page(kind), max_rows=importing.MAX_ROWS)


@bp.route("/imports/<kind_key>")
def imports_new(kind_key: str):
    return _upload_page(_kind_or_abort(kind_key), UploadForm())


@bp.route("/imports/<kind_key>", methods=["POST"])
def imports_upload(kind_key: str):
    kind = _kind_or_abort(kind_key)
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = attempt(form, importing.preview_upload, current_user, kind, upload.filename or "", upload.read())
        if outcome.ok:
            return redirect_to(url_for("admin.imports_preview", batch_id=outcome.result.id))
    return _upload_page(kind, form, status=400)


@bp.errorhandler(413)
def upload_too_large(error):
    """An upload over MAX_CONTENT_LENGTH: say so next to the file field of the upload page."""
    kind = importing.KINDS.get((request.view_args or {}).get("kind_key", ""))
    if (request.endpoint not in UPLOAD_ENDPOINTS or kind is None or not current_user.is_authenticated
            or not current_user.can(kind.permission)):
        return render_template("errors.html", code=413, message=_("上传的文件太大。")), 413
    form = UploadForm(formdata=None)
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    form.file.errors = [_("文件不能超过 %(mb)d MB，请拆分后分批导入。", mb=limit_mb)]
    return _upload_page(kind, form, status=413)


def _preview_rows(batch: ImportBatch, only_errors: bool) -> Page:
    rows = [row for row in batch.rows if row["errors"]] if only_errors else batch.rows
    size = PREVIEW_PAGE_SIZE
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, request.args.get("page", 1, type=int)), pages)
    return Page(rows[(number - 1) * size:number * size], number, size, len(rows))


def _preview(batch: ImportBatch, kind: ImportKind, status: int = 200) -> Response:
    only_errors = request.args.get("errors") == "1"
    columns = {c.key: c.header for c in kind.columns}
    return render_page("admin/imports/preview.html", "admin/imports/_rows.html", status=status,
                       batch=batch, kind=kind, summary=importing.batch_summary(batch),
                       rows=_preview_rows(batch, only_errors), only_errors=only_errors,
                       headers=[(key, columns[key]) for key in batch.columns],
                       uploader=db.session.get(User, batch.created_by), action_form=ActionForm())


@bp.route("/imports/batches/<int:batch_id>")
def imports_preview(batch_id: int):
    batch, kind = _batch_and_kind(batch_id)
    return _preview(batch, kind)


@bp.route("/imports/batches/<int:batch_id>/confirm", methods=["POST"])
def imports_confirm(batch_id: int):
    batch, kind = _batch_and_kind(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    # Not the plain envelope: rows that fail validation on confirm keep their fresh results.
    try:
        counts = importing.confirm_batch(current_user, batch)
    except importing.BatchHasErrors as error:
        db.session.commit()  # keeps the fresh validation results; nothing else was written
        flash(error.message, "error")
        return _preview(batch, kind, status=422)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _preview(db.session.get(ImportBatch, batch_id), kind, status=409)
    db.session.commit()
    flash(_("导入完成：新增 %(created)d 行，更新 %(updated)d 行，无变化 %(unchanged)d 行。",
            created=counts["create"], updated=counts["update"], unchanged=counts["unchanged"]), "success")
    return redirect_to(url_for("admin.imports_preview", batch_id=batch.id))


@bp.route("/imports/batches/<int:batch_id>/discard", methods=["POST"])
def imports_discard(batch_id: int):
    batch, kind = _batch_and_kind(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = attempt(None, importing.discard_batch, current_user, batch)
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return _preview(db.session.get(ImportBatch, batch_id), kind, status=409)
    flash(_("已放弃这次导入，没有写入任何数据。"), "success")
    return redirect_to(url_for("admin.imports_new", kind_key=kind.key))


@bp.route("/exports/<kind_key>.<fmt>")
def exports_download(kind_key: str, fmt: str):
    kind = _kind_or_abort(kind_key)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    headers, rows = export_rows(kind)
    filename = f"{kind.key}-{today_local():%Y%m%d}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(headers, rows)), mimetype="text/csv",
                        headers=disposition)
    return Response(xlsx_bytes(headers, rows, kind.key), mimetype=XLSX_MIMETYPE, headers=disposition)
