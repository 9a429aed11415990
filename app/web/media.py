"""Product images for every signed-in role: `/media/products/<id>/<version>/thumb.webp` and
`.../image`. The image version is in the URL, so responses are cached for a year; a URL with an
old version redirects to the current one. A picture is served only to whom the catalog shows the
product (admins: every product, drafts included); anything else is a 404, like a missing image."""
from flask import Blueprint, Response, redirect, url_for
from flask_login import current_user, login_required

from app.services.catalog import admin as catalog
from app.services.catalog.visibility import seen_by_clause

YEAR = 365 * 24 * 3600
bp = Blueprint("media", __name__, url_prefix="/media")


def _serve(endpoint: str, product_id: int, version: int, thumbnail: bool) -> Response:
    data, content_type, current_version = catalog.product_image(product_id, thumbnail,
                                                                seen=seen_by_clause(current_user))
    if version != current_version:
        return redirect(url_for(endpoint, product_id=product_id, version=current_version), code=302)
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = f"private, max-age={YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/products/<int:product_id>/<int:version>/thumb.webp")
@login_required
def product_thumb(product_id: int, version: int):
    return _serve("media.product_thumb", product_id, version, thumbnail=True)


@bp.route("/products/<int:product_id>/<int:version>/image")
@login_required
def product_image(product_id: int, version: int):
    return _serve("media.product_image", product_id, version, thumbnail=False)
