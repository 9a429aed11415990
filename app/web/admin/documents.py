"""Documents whose job failed (or whose worker died), with the error and a retry button.
Needs the "orders" permission."""
from flask import abort, current_app, request, url_for
from flask_babel import gettext as _

from app.services.documents import requests as documents
from app.services.core.paging import paginate
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page


@bp.route("/documents/failed")
@permission_required("orders")
def documents_failed():
    results = paginate(documents.troubled_documents_query(), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"])
    return render_page("admin/documents_failed.html", "admin/_documents_failed.html", results=results)


@bp.route("/documents/<int:document_id>/retry", methods=["POST"])
@permission_required("orders")
def document_retry(document_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    flash_outcome(attempt(None, documents.retry_document, document_id), _("已重新排队生成。"))
    return redirect_to(url_for("admin.documents_failed"))
