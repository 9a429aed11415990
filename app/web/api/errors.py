"""JSON error answers for the API, one shape for every error:

    {"code": "invalid", "message": "...", "field": "lines.0.qty",
     "errors": [{"code": "invalid", "message": "...", "field": "qty", "row": 1}, ...]}

`code`, `message` and `field` (null when no field applies) describe the first problem; `errors`
lists every problem (`row` is the 1-based line index when a request carries lines). Request
validation (marshmallow, through flask-smorest/webargs) and service errors end up here alike."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.web.api import bp

MESSAGES = {400: _l("请求无效。"), 401: _l("需要身份认证。"), 403: _l("没有权限。"), 404: _l("资源不存在。"),
            405: _l("不支持此方法。"), 409: _l("与资源当前状态冲突。"), 412: _l("资源已被修改，请重新读取后再试。"),
            413: _l("请求过大。"), 415: _l("请以 JSON 发送（Content-Type: application/json）。"),
            422: _l("请求内容有误。"), 428: _l("缺少 If-Match 请求头。"), 429: _l("请求过于频繁。")}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 412: "precondition_failed", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 428: "precondition_required", 429: "rate_limited"}


def error_body(status: int, message=None, field: str | None = None, errors: list | None = None,
               code: str | None = None) -> dict:
    code = code or CODES.get(status, "error")
    items = [dict(e, code=e.get("code") or code, message=str(e.get("message") or ""))
             for e in errors] if errors else []
    if not items:
        items = [{"code": code, "field": field, "message": str(message or MESSAGES.get(status, _l("出错了。")))}]
    first = items[0]
    return {"code": first["code"], "message": first["message"], "field": first.get("field"), "errors": items}


def error_response(status: int, message=None, field: str | None = None, errors: list | None = None,
                   code: str | None = None):
    response = jsonify(error_body(status, message, field, errors, code))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lianying"'
    return response


def allowing(response, methods):
    """A 405 names the methods the resource does allow (RFC 9110 says it must)."""
    if methods:
        response.headers["Allow"] = ", ".join(sorted(set(methods) | ({"HEAD"} if "GET" in methods else set())))
    return response


def _flatten(messages, path=()) -> list[dict]:
    """webargs/marshmallow messages ({"json": {"lines": {0: {"qty": ["..."]}}}}) as a list of
    {field, message, row}: `field` is the innermost name, `row` the 1-based line index."""
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        names = [p for p in path if not isinstance(p, int)]
        rows = [p for p in path if isinstance(p, int)]
        item = {"field": names[-1] if names else None, "message": messages[0]}
        if rows:
            item["row"] = rows[0] + 1
        return [item]
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            if key == "_schema":
                found += _flatten(value, path)
            else:
                found += _flatten(value, path + (key,))
        return found
    return [{"field": path[-1] if path and isinstance(path[-1], str) else None, "message": str(messages)}]


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    data = getattr(error, "data", None) or {}
    if data.get("messages"):  # webargs: the request did not match the schema
        messages = data["messages"]
        if isinstance(messages, dict) and len(messages) == 1:
            messages = next(iter(messages.values()))  # drop the location ("json", "query", "headers")
        errors = _flatten(messages)
        return error_response(error.code or 422, errors=[
            dict(e, message=_translated(e["message"])) for e in errors])
    response = error_response(error.code or 500, data.get("message"), data.get("field"))
    if error.code == 429 and getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return allowing(response, getattr(error, "valid_methods", None))


def _translated(message: str) -> str:
    from app.web.api.schemas import translate_validation_message

    return translate_validation_message(message)


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


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


# Registered on the Flask level (not flask-smorest's), so it stays out of the OpenAPI document.
Blueprint.add_url_rule(bp, "/<path:anything>", "unknown_path", unknown_path, methods=list(METHODS))


@bp.before_request
def refuse_control_characters():
    """A query value with control characters is an error here (the pages treat it as absent);
    a JSON string holding NUL is refused before it reaches the database (PostgreSQL cannot
    store it)."""
    from app.web.common.forms import has_control_characters

    for name, value in request.args.items(multi=True):
        if has_control_characters(value) or has_control_characters(name):
            return error_response(400, _l("参数含有控制字符。"), field=name)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_control_characters(value):
            return error_response(404, field=name)
    if request.is_json:
        found = _nul_in(request.get_json(silent=True))
        if found is not None:
            item = {"field": found[0], "message": str(_l("参数含有控制字符。"))}
            if found[1] is not None:
                item["row"] = found[1]
            return error_response(422, errors=[item])
    return None


def _nul_in(value, field: str | None = None, row: int | None = None):
    """(field, 1-based row or None) of the first string (or key) holding NUL, else None."""
    if isinstance(value, str):
        return (field, row) if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return key, row
            found = _nul_in(item, key, row)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value, start=1):
            found = _nul_in(item, field, row if row is not None else index)
            if found:
                return found
    return None
