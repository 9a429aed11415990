"""Static files under content-hashed names, cached for a year.

Templates call `asset_url("app.css")`, which gives `/static/app.<hash>.css`; a changed file
gets a new name, so browsers can keep the old one forever. Vendored files in static/dist/
(built by scripts/build_static.py) already carry their hash."""
import hashlib
import pathlib
from functools import lru_cache

from flask import Blueprint, abort, send_from_directory, url_for

from app.config import ROOT

STATIC = ROOT / "static"
YEAR = 365 * 24 * 3600
bp = Blueprint("assets", __name__)


@lru_cache(maxsize=1)
def manifest() -> dict[str, str]:
    """Logical name → hashed name, for every file under static/ (computed once per process)."""
    names: dict[str, str] = {}
    for path in STATIC.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(STATIC).as_posix()
        if rel.startswith("dist/"):
            logical = rel.split("/", 1)[1].split(".", 1)[0] + ".js"  # dist/htmx.<hash>.min.js → htmx.js
            names[logical] = rel
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        stem, dot, ext = rel.rpartition(".")
        names[rel] = f"{stem}.{digest}.{ext}" if dot else f"{rel}.{digest}"
    return names


@lru_cache(maxsize=1)
def _originals() -> dict[str, str]:
    return {hashed: logical for logical, hashed in manifest().items() if not hashed.startswith("dist/")}


def asset_url(name: str) -> str:
    try:
        return url_for("assets.static", filename=manifest()[name])
    except KeyError:
        raise LookupError(f"no static file {name!r} (did `make static` run?)") from None


@bp.route("/static/<path:filename>")
def static(filename: str):
    if filename.startswith("dist/"):
        source = filename
    elif filename in _originals():
        source = _originals()[filename]
    else:
        abort(404)
    response = send_from_directory(pathlib.Path(STATIC), source, max_age=YEAR, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    # These files are small: read them into memory so Flask-Compress treats them like pages.
    # A streamed file gets no gzip from it (only br/deflate), so an old browser that asks
    # for gzip alone would download htmx uncompressed (51 KB instead of 17 KB).
    response.direct_passthrough = False
    response.make_sequence()
    return response


@bp.route("/favicon.ico")
def favicon():
    """For browsers that ask the fixed address instead of the page's <link rel="icon"> (an SVG):
    the same picture as an ICO, cached for a day (its URL cannot change with it)."""
    response = send_from_directory(pathlib.Path(STATIC), "favicon.ico", max_age=24 * 3600, etag=True)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
