"""Product images for every signed-in role: `/media/products/<id>/<version>/thumb.webp` and
`.../image`. The image version is in the URL, so responses are cached for a year; a URL with an
old version redirects to the current one."""
from flask import Blueprint, Response, abort, redirect, url_for
from flask_login import login_required

from app.services.catalog import admin as catalog

YEAR = 365 * 24 * 3600
bp = Blueprint("media", __name__, url_prefix="/media")


def _serve(endpoint: str, product_id: int, version: int, thumbnail: bool) -> Response:
    found = catalog.product_image(product_id, thumbnail)
    if found is None:
        abort(404)
    data, content_type, current_version = found
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
