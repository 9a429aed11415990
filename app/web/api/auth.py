"""Bearer-token authentication for API endpoints."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from app.extensions import db
from app.services.accounts.api_clients import client_for_token
from app.web.api.errors import error_response


def token_required(scope: str):
    """The request must carry `Authorization: Bearer <token>` of an active client holding
    `scope`; the client is then `g.api_client`."""

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
            g.api_client = client
            return view(*args, **kwargs)

        return wrapped

    return decorator
