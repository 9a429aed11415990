"""htmx helpers on top of htmx-flask: `request.htmx` (set up by the `Htmx` extension) reads the
HX-* request headers; `hx_response` sets the HX-* response headers. One call renders the full
page or the fragment, and redirects work for plain forms and htmx alike.

htmx-flask 0.1.0 is wrapped rather than used directly: its list of allowed HX-Reswap values
glues "beforebegin" and "afterbegin" into one string and refuses swap modifiers
("innerHTML swap:1s"), so `hx_response` checks the swap style itself and sets that header."""
from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request
from htmx_flask import make_response as _htmx_make_response

SWAP_STYLES = frozenset({"innerHTML", "outerHTML", "textContent", "beforebegin", "afterbegin", "beforeend",
                         "afterend", "delete", "none"})


def _headers():
    """The request's HX-* headers (htmx-flask's HtmxHeaders; falsy outside an htmx request)."""
    return getattr(request, "htmx", None)


def is_htmx() -> bool:
    return bool(_headers())


def wants_fragment() -> bool:
    """A fragment only for a plain htmx request: boosted navigation and history restores need
    the full page."""
    headers = _headers()
    return bool(headers) and not headers.boosted and not headers.history_restore_request


def hx_response(*args: Any, reswap: str | None = None, **hx_headers: Any) -> Response:
    """`flask.make_response(*args)` plus HX-* response headers (htmx-flask's keywords:
    redirect, location, push_url, replace_url, refresh, retarget, trigger, ...), and
    `Vary: HX-Request`, since what an htmx-aware view answers depends on that header."""
    if reswap is not None and reswap.split(" ", 1)[0] not in SWAP_STYLES:
        raise ValueError(f"invalid HX-Reswap value {reswap!r}")
    response = _htmx_make_response(*args, **hx_headers)
    if reswap is not None:
        response.headers["HX-Reswap"] = reswap
    response.vary.add("HX-Request")
    return response


def render_page(page: str, fragment: str | None = None, /, status: int = 200, **context) -> Response:
    """Render `fragment` for htmx requests and `page` (which includes the fragment) otherwise.
    The two templates are positional-only, so a template variable may be called `page` too."""
    template = fragment if fragment and wants_fragment() else page
    return hx_response(Response(render_template(template, **context), status=status, mimetype="text/html"))


def redirect_to(url: str, code: int = 303) -> Response:
    """A redirect that a plain form follows and htmx turns into a full navigation."""
    if is_htmx():
        # An explicit empty body sets Content-Length: 0, so Flask-Compress leaves the 204 bodiless.
        return hx_response(Response(b"", status=204), redirect=url)
    return hx_response(redirect(url, code=code))
