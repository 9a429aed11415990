"""A promotion's files, on the same two blueprints as its pages: the product list as XLSX (export,
and an upload that replaces it), and a coupon promotion's codes as CSV or XLSX. The promotion is
found through promotion_for(caller): another dealer's is a 404."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired

from app.services.core.clock import today_local
from app.services.dataio.spreadsheets import csv_chunks, xlsx_bytes
from app.services.promotions import admin as promotions
from app.services.promotions import files
from app.web.common.envelope import attempt
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ProductListUploadForm(Form):
    file = FileField(_l("文件"), validators=[FileRequired(_l("请选择要上传的文件。")),
                                             FileAllowed(["csv", "xlsx"], _l("只支持 CSV 或 XLSX 文件。"))])


def _download(headers, rows, name: str, fmt: str) -> Response:
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(headers, rows)), mimetype="text/csv", headers=disposition)
    return Response(xlsx_bytes(headers, rows, name[:31]), mimetype=XLSX_MIMETYPE, headers=disposition)


def register_promotion_files(bp: Blueprint, layout: str, guard=None) -> None:
    def check():
        if guard is not None:
            guard()

    def page(row, form, status=200):
        return render_page("shared/promotions/products_upload.html", status=status, layout=layout, endpoint=bp.name,
                           promotion=row, form=form)

    def promotion_products_export(promotion_id: int):
        check()
        row = promotions.promotion_for(current_user, promotion_id)
        headers, rows = files.product_rows(row)
        return _download(headers, rows, f"promotion-{row.code}-products", "xlsx")

    def promotion_products_upload_page(promotion_id: int):
        check()
        return page(promotions.promotion_for(current_user, promotion_id), ProductListUploadForm(formdata=None))

    def promotion_products_upload(promotion_id: int):
        check()
        row = promotions.promotion_for(current_user, promotion_id)
        form = ProductListUploadForm()
        if not form.validate_on_submit():
            return page(row, form, 400)
        upload = form.file.data
        outcome = attempt(form, files.import_products, current_user, row, upload.filename or "", upload.read())
        if not outcome.ok:
            return page(promotions.promotion_for(current_user, promotion_id), form, outcome.status)
        flash(_("已导入 %(n)d 个适用商品。", n=len(outcome.result.product_ids)), "success")
        return redirect_to(url_for(f"{bp.name}.promotion_edit", promotion_id=promotion_id))

    def promotion_coupons_export(promotion_id: int, fmt: str):
        check()
        if fmt not in ("csv", "xlsx"):
            abort(404)
        row = promotions.promotion_for(current_user, promotion_id)
        if row.lane != "coupon":
            abort(404)
        headers, rows = files.coupon_rows(row)
        return _download(headers, rows, f"coupons-{row.code}-{today_local():%Y%m%d}", fmt)

    bp.add_url_rule("/promotions/<int:promotion_id>/products.xlsx", "promotion_products_export",
                    promotion_products_export)
    bp.add_url_rule("/promotions/<int:promotion_id>/products", "promotion_products_upload_page",
                    promotion_products_upload_page)
    bp.add_url_rule("/promotions/<int:promotion_id>/products", "promotion_products_upload", promotion_products_upload,
                    methods=["POST"])
    bp.add_url_rule("/promotions/<int:promotion_id>/coupons.<fmt>", "promotion_coupons_export", promotion_coupons_export)
