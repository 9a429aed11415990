"""Error pages, registered once: small, translated, fragments for htmx requests, JSON for the API.

A service's `NotFound` anywhere in a view becomes the 404 page (or the API's JSON 404), so views
need no `try/except NotFound: abort(404)` of their own. Every error page rolls the database
session back first, so a page never depends on the transaction that failed."""
from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.core.errors import NotFound, PermissionDenied

MESSAGES = {
    400: _l("请求无效。"),
    403: _l("您没有权限访问此页面。"),
    404: _l("页面不存在。"),
    405: _l("不支持此操作。"),
    413: _l("上传的文件太大。"),
    429: _l("尝试次数过多，请稍后再试。"),
}


# The last resort when even the error page cannot be rendered: no layout, no database.
BARE_500 = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>500</title></head>'
            '<body><main><h1>500</h1><p>服务器出错，请稍后再试。 / Server error, please try again later.</p>'
            '<p><a href="/">首页 / Home</a></p></main></body></html>')


def _is_api() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def _page(code: int, message: str, headers: dict | None = None):
    db.session.rollback()
    if _is_api():
        from app.web.api.errors import error_response

        response = error_response(code)
        response.headers.update(headers or {})
        return response
    return render_template("errors.html", code=code, message=message), code, headers or {}


def _allow_header(error: HTTPException) -> dict:
    """A 405 keeps the Allow header werkzeug computed (the error page would otherwise drop it)."""
    methods = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(sorted(methods))} if methods else {}


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = str(MESSAGES[error.code]) if error.code in MESSAGES else error.description
        return _page(error.code or 500, message, _allow_header(error))

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        return _page(404, str(MESSAGES[404]))

    @app.errorhandler(PermissionDenied)
    def permission_denied(error: PermissionDenied):
        return _page(403, str(MESSAGES[403]))

    @app.errorhandler(500)
    def server_error(error):
        try:
            db.session.rollback()
        except Exception:  # the session itself may be what broke
            db.session.remove()
        try:  # the language and the layout both read the signed-in user: the database again
            return render_template("errors.html", code=500, message=_("服务器出错，请稍后再试。")), 500
        except Exception:  # noqa: BLE001 - e.g. the database is down
            app.logger.exception("the error page itself failed; answering with the bare page")
            db.session.remove()
            return Response(BARE_500, 500, mimetype="text/html")
