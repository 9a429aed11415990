"""Bearer-token authentication and per-token rate limits for API endpoints."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from app.extensions import db, limiter
from app.services.accounts.api_clients import client_for_token, token_hash
from app.web.api import bp
from app.web.api.errors import error_response
from app.web.api.schemas import ErrorSchema

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def rate_key() -> str:
    """Limits count per token (its hash; the token itself is never stored), else per address."""
    header = request.headers.get("Authorization", "")
    kind, _sep, token = header.partition(" ")
    if kind.lower() == "bearer" and token.strip():
        return "token:" + token_hash(token.strip())[:32]
    return "addr:" + (request.remote_addr or "")


def token_required(scope: str):
    """The request must carry `Authorization: Bearer <token>` of an active client holding
    `scope` (and not read-only, unless the method only reads); the client is then
    `g.api_client`. Documents the security requirement and the 401/403/429 answers."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            kind, _sep, token = header.partition(" ")
            client = client_for_token(token.strip()) if kind.lower() == "bearer" else None
            if client is None:
                db.session.rollback()
                return error_response(401, _("缺少或无效的访问令牌（Bearer token）。"), field="Authorization")
            if not client.has_scope(scope):
                db.session.rollback()
                return error_response(403, _("该令牌没有 %(s)s 权限。", s=scope), field="Authorization")
            if client.read_only and request.method not in READ_METHODS:
                db.session.rollback()
                return error_response(403, _("该令牌为只读令牌。"), field="Authorization", code="read_only")
            if db.session.dirty:
                # last_used_at now, so read views never commit (a commit would expire what
                # they are about to serialise and reload it row by row).
                db.session.commit()
            g.api_client = client
            return view(*args, **kwargs)

        limited = limiter.shared_limit(lambda: _limit_value(), scope="api", key_func=rate_key)(wrapped)
        documented = bp.doc(security=[{"bearer": []}])(limited)
        for status, description in ((401, "Missing or invalid token"),
                                    (403, "The token lacks the scope, or is read-only"),
                                    (429, "Too many requests for this token; see Retry-After")):
            documented = bp.alt_response(status, schema=ErrorSchema, description=description)(documented)
        return documented

    return decorator


def _limit_value() -> str:
    from flask import current_app

    return current_app.config["API_RATE_LIMIT"]
