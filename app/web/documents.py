"""Order documents for the parties to an order: download, a status fragment that polls itself
while the PDF is being made, and the button that asks for it. Anyone else gets 404."""
from io import BytesIO

from flask import Blueprint, abort, flash, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.documents import requests as documents
from app.services.documents.requests import DocumentSlot
from app.web.common.access import login_redirect
from app.web.common.envelope import attempt
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page, wants_fragment

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_redirect()
    return None


@bp.route("/<int:document_id>")
def download(document_id: int):
    document = documents.visible_document(current_user, document_id)
    if not document.is_ready:
        return redirect_to(_status_url(document.order_id, document.kind, document.id), code=303)
    response = send_file(BytesIO(document.pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=document.filename or f"document-{document.id}.pdf", max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/orders/<int:order_id>/<kind>/status")
def order_status(order_id: int, kind: str):
    order = documents.visible_order(current_user, order_id, kind)
    return _render_status(documents.document_slot(order, kind))


@bp.route("/<int:document_id>/status")
def document_status(document_id: int):
    """Status of any document the caller may see (pick lists have no order of their own)."""
    document = documents.visible_document(current_user, document_id)
    return _render_status(DocumentSlot(document.order_id, document.kind, document, available=False))


@bp.route("/orders/<int:order_id>/<kind>", methods=["POST"])
def order_request(order_id: int, kind: str):
    """Ask for the document (or again, after it failed); the job runs after this commit."""
    order = documents.visible_order(current_user, order_id, kind)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    outcome = attempt(None, documents.request_order_document, order.id, kind)
    if not outcome.ok:
        return _render_status(documents.document_slot(order, kind, error=outcome.error.message), status=422)
    slot = documents.document_slot(order, kind)
    if wants_fragment():
        return _render_status(slot)
    flash(_("文档已生成。") if slot.document is not None and slot.document.is_ready
          else _("正在生成文档，请稍候。"), "success")
    return redirect_to(_status_url(order.id, kind), code=303)


def _status_url(order_id: int | None, kind: str, document_id: int | None = None) -> str:
    if order_id is not None:
        return url_for("documents.order_status", order_id=order_id, kind=kind)
    return url_for("documents.document_status", document_id=document_id)


def _render_status(slot: DocumentSlot, status: int = 200):
    return render_page("documents/status.html", "documents/_status.html", status=status, slot=slot)
