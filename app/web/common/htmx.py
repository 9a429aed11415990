"""htmx helpers: full page or fragment from one call, and redirects htmx follows."""
from flask import Response, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """A fragment only for a plain htmx request: boosted navigation and history restores need
    the full page."""
    headers = request.headers
    return (is_htmx() and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render_page(page: str, fragment: str | None = None, /, status: int = 200, **context) -> Response:
    """Render `fragment` for htmx requests and `page` (which includes the fragment) otherwise.
    The two templates are positional-only, so a template variable may be called `page` too."""
    template = fragment if fragment and wants_fragment() else page
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str, code: int = 303) -> Response:
    """A redirect that a plain form follows and htmx turns into a full navigation."""
    if is_htmx():
        # An explicit empty body sets Content-Length: 0, so Flask-Compress leaves the 204 bodiless.
        response = Response(b"", status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=code)
