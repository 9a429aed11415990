"""`Idempotency-Key` on POST endpoints (see app/services/accounts/idempotency.py for the rules).

    @bp.route("/orders", methods=["POST"])
    @token_required("orders")
    @idempotent(required=True)
    ...

A repeat gets the first answer with `Idempotent-Replayed: true`; the same key with another
request 422 (`idempotency_key_reused`); a repeat while the first still runs waits for its commit
and gets its answer (or 409 `idempotency_key_in_use`, retry it, when the view commits in parts).
Answers 5xx are not stored (the retry runs again)."""
from __future__ import annotations

import re
from functools import wraps

from flask import current_app, g, make_response, request
from flask_babel import gettext as _

from app.services.accounts import idempotency
from app.web.api import bp
from app.web.api.errors import error_response
from app.web.api.schemas import ErrorSchema

HEADER = "Idempotency-Key"
KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def idempotent(required: bool):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    return error_response(400, _("请在 Idempotency-Key 请求头中提供幂等键。"), field=HEADER,
                                          code="idempotency_key_required")
                return view(*args, **kwargs)
            if not KEY.fullmatch(key):
                return error_response(400, _("Idempotency-Key 应为 8 到 64 个字母、数字、- 或 _。"), field=HEADER)
            fingerprint = idempotency.request_fingerprint(request.method, request.path, request.get_data())
            client_id = g.api_client.id  # read now: a view that rolls back expires the client
            claim = idempotency.claim(client_id, key, fingerprint,
                                      current_app.config.get("IDEMPOTENCY_KEY_HOURS", 24))
            if claim.mismatch:
                return error_response(422, _("该幂等键已用于另一个请求。"), field=HEADER, code="idempotency_key_reused")
            if claim.in_progress:
                response = error_response(409, _("使用该幂等键的请求正在处理，请稍后重试。"), field=HEADER,
                                          code="idempotency_key_in_use")
                response.headers["Retry-After"] = "1"
                return response
            if claim.replay is not None:
                response = current_app.response_class(claim.replay.response_body, status=claim.replay.status_code,
                                                      mimetype="application/json")
                response.headers["Idempotent-Replayed"] = "true"
                return response
            try:
                response = make_response(view(*args, **kwargs))
            except Exception:
                idempotency.release(claim.row_id)
                raise
            if response.status_code >= 500:
                idempotency.release(claim.row_id)
                return response
            try:  # the view may leave its work to this commit (orders: the claim, the order and its answer at once)
                idempotency.finish(claim.row_id, response.status_code, response.get_data(as_text=True),
                                   client_id, key, fingerprint)
            except Exception:
                idempotency.release(claim.row_id)  # nothing committed: a retry runs again
                raise
            return response

        documented = bp.doc(parameters=[{
            "name": HEADER, "in": "header", "required": required,
            "schema": {"type": "string", "pattern": KEY.pattern, "minLength": 8, "maxLength": 64},
            "description": "Makes the POST safe to repeat: the first answer is stored for 24 h and "
                           "returned for repeats with this key."}])(wrapped)
        documented = bp.alt_response(400, schema=ErrorSchema, description="Missing or malformed Idempotency-Key")(documented)
        documented = bp.alt_response(409, schema=ErrorSchema, description="A request with this key is still running, or the state does not allow it")(documented)
        return bp.alt_response(422, schema=ErrorSchema, description="Invalid body, or the key was used for another request")(documented)

    return decorator
