"""Printing ticked orders: order sheets and a pick list, clean on A4 from the browser
(static/print.css) and as PDFs built by the document jobs; exporting them to XLSX and approving
them together (after a confirmation page).

The desk's boxes post nothing: a plain GET form sends `order_ids` to the print page (printing
changes nothing). Asking for PDFs is a POST (it makes documents), from the print page."""
from decimal import Decimal
from urllib.parse import urlencode

from flask import Response, abort, flash, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import DocumentKind
from app.models.vocabulary import OrderPayment
from app.services.dataio.spreadsheets import xlsx_bytes
from app.services.ordering import lifecycle
from app.services.documents import pdf as document_pdf
from app.services.documents import requests as documents
from app.services.fulfilment import desk as order_desk
from app.services.core.clock import today_local
from app.web.common.envelope import attempt
from app.web.dealer import bp
from app.web.shared.fulfilment.forms import PdfSelectionForm, SelectionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.common.filters import local_datetime
from app.web.common.listing import CHANNEL_LABELS, STATUS_LABELS


def _selected(ids: list[int]):
    """The caller's orders among the ids; None when nothing was ticked (404 when none is theirs)."""
    if not ids:
        return None
    return order_desk.selected_orders(current_user.org_id, ids)


def _nothing_to_print():
    """A print page opened with nothing ticked: say so (the page itself is fine to open)."""
    return render_page("dealer/print_nothing.html")


def _nothing_selected():
    flash(_("请先在订单列表中勾选要打印的订单。"), "warning")
    return redirect_to(url_for("dealer.orders"))


def _print_url(endpoint: str, orders) -> str:
    return url_for(endpoint) + "?" + urlencode([("order_ids", o.id) for o in orders])


@bp.get("/orders/print/sheets")
def orders_print_sheets():
    form = SelectionForm(formdata=request.args)
    form.validate()
    orders = _selected(form.ids())
    if orders is None:
        return _nothing_to_print()
    slots = [documents.document_slot(order, DocumentKind.ORDER_SHEET.value) for order in orders]
    return render_page("dealer/print_sheets.html", orders=orders, slots=slots, pdf_form=PdfSelectionForm(formdata=None),
                       tax_rows={o.id: document_pdf.tax_rows(o.lines) for o in orders},
                       printed_on=today_local(), status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS)


@bp.post("/orders/print/sheets/pdf")
def orders_sheets_pdf():
    form = PdfSelectionForm()
    if not form.validate_on_submit():
        abort(400)
    orders = _selected(form.order_ids.data or [])
    if orders is None:
        return _nothing_selected()
    for order in orders:
        documents.request_order_document(order.id, DocumentKind.ORDER_SHEET.value)
    db.session.commit()
    flash(_("已提交 %(n)d 份订货单 PDF，生成后可在下方下载。", n=len(orders)), "success")
    return redirect_to(_print_url("dealer.orders_print_sheets", orders))


@bp.get("/orders/print/pick-list")
def orders_print_pick_list():
    form = SelectionForm(formdata=request.args)
    form.validate()
    ids = form.ids()
    if not ids:
        return _nothing_to_print()
    picks = order_desk.pick_list(current_user.org_id, ids, today_local())
    return render_page("dealer/print_pick_list.html", picks=picks, pdf_form=PdfSelectionForm(formdata=None),
                       seller=current_user.org)


@bp.post("/orders/print/pick-list/pdf")
def orders_pick_list_pdf():
    form = PdfSelectionForm()
    if not form.validate_on_submit():
        abort(400)
    ids = form.order_ids.data or []
    if not ids:
        return _nothing_selected()
    with force_locale(document_pdf.DOCUMENT_LOCALE):  # route names are printed in Chinese
        picks = order_desk.pick_list(current_user.org_id, ids, today_local())
        routes = picks.pdf_routes()
    outcome = attempt(None, documents.request_pick_list, current_user.org_id, [o.id for o in picks.orders], routes,
                      picks.pdf_lots())
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return redirect_to(url_for("dealer.orders"))
    flash(_("拣货单 PDF 已提交生成。"), "success")
    return redirect_to(url_for("documents.document_status", document_id=outcome.result.id))


# ---- the other actions on ticked orders: export, approve ----------------------------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/orders/export.xlsx")
def orders_export():
    """The ticked orders as a spreadsheet: one row per order line, with the order's checkout terms."""
    form = SelectionForm(formdata=request.args)
    form.validate()
    orders = _selected(form.ids())
    if orders is None:
        return _nothing_to_print()
    headers = [_("订单号"), _("下单时间"), _("状态"), _("客户编码"), _("客户"), _("送货日期"), _("送货地址"), _("付款方式"),
               _("商品编码"), _("商品名称"), _("规格"), _("数量"), _("单价（元）"), _("金额（元）"), _("备注")]
    rows = ([o.number, local_datetime(o.created_at), str(STATUS_LABELS.get(o.status, o.status)), o.buyer.code, o.buyer.name,
             o.delivery_date.isoformat() if o.delivery_date else "", o.delivery_address or "",
             str(OrderPayment.label_of(o.payment_method)), line.product.code, line.product.name_zh, line.product.spec,
             line.qty, Decimal(line.unit_price_fen) / 100, Decimal(line.line_total_fen) / 100, o.note or ""]
            for o in orders for line in o.lines)
    name = f"orders-{today_local().isoformat()}.xlsx"
    return Response(xlsx_bytes(headers, rows, "orders"), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/orders/approve-selected")
def orders_approve_selected():
    """Confirm before approving the ticked orders (the desk's boxes are a GET form)."""
    form = SelectionForm(formdata=request.args)
    form.validate()
    orders = _selected(form.ids()) or []  # nothing ticked: the page says so
    return render_page("dealer/approve_selected.html", orders=orders, pdf_form=PdfSelectionForm(formdata=None),
                       status_labels=STATUS_LABELS)


@bp.post("/orders/approve-selected")
def orders_approve_selected_post():
    form = PdfSelectionForm()
    if not form.validate_on_submit():
        abort(400)
    outcome = attempt(None, lifecycle.approve_many, current_user.org_id, form.order_ids.data or [], current_user.id)
    if not outcome.ok:
        flash(outcome.error.message, "warning")
        return redirect_to(url_for("dealer.orders"))
    approved, refused = outcome.result
    if approved:
        flash(_("已审核 %(n)d 个订单：%(numbers)s", n=len(approved), numbers=_("、").join(o.number for o in approved)),
              "success")
    for order, reason in refused:
        flash(_("订单 %(n)s 未审核：%(reason)s 请打开订单处理。", n=order.number, reason=reason), "warning")
    return redirect_to(url_for("dealer.orders"))
