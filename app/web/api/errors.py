"""JSON error answers for the API."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.web.api import bp

MESSAGES = {400: _l("请求无效。"), 401: _l("需要身份认证。"), 403: _l("没有权限。"), 404: _l("资源不存在。"),
            405: _l("不支持此方法。"), 413: _l("请求过大。"), 415: _l("请以 JSON 发送（Content-Type: application/json）。"),
            422: _l("请求内容有误。"), 429: _l("请求过于频繁。")}


def error_response(status: int, message: str | None = None, field: str | None = None, errors: list | None = None):
    body = {"errors": errors or [{"field": field, "message": str(message or MESSAGES.get(status, _l("出错了。")))}]}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lianying"'
    return response


def allowing(response, methods):
    """A 405 names the methods the resource does allow (RFC 9110 says it must)."""
    if methods:
        response.headers["Allow"] = ", ".join(sorted(set(methods) | ({"HEAD"} if "GET" in methods else set())))
    return response


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return allowing(error_response(error.code or 500), getattr(error, "valid_methods", None))


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@bp.route("/<path:anything>", methods=list(METHODS))
def unknown_path(anything: str):
    """Any other path under /api/v1: JSON 405 when the path exists for another method, else 404."""
    adapter = current_app.url_map.bind("")
    allowed = []
    for method in METHODS:
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.unknown_path":
            allowed.append(method)
    if allowed:
        return allowing(error_response(405), allowed)
    return error_response(404)
