"""API clients: create one with a fresh token, and find the client for a presented token.

Tokens are 32 random bytes (urlsafe base64, prefixed "ly_"); only their SHA-256 is stored,
and lookups compare hashes, so the database never holds a usable token."""
from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ApiClient, Organisation, utcnow
from app.services.core.errors import DomainError

TOKEN_PREFIX = "ly_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_client(name: str, *, org_code: str | None = None, scopes: str = "stock") -> tuple[ApiClient, str]:
    query = select(Organisation).where(Organisation.code == org_code) if org_code else \
        select(Organisation).where(Organisation.kind == "brand")
    org = db.session.scalars(query.limit(1)).first()
    if org is None:
        raise DomainError(_("组织不存在。"), field="org")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(org_id=org.id, name=name.strip()[:80], token_hash=token_hash(token), token_prefix=token[:10],
                       scopes=" ".join(scopes.split()))
    db.session.add(client)
    db.session.flush()
    return client, token


def client_for_token(token: str) -> ApiClient | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token),
                                                       ApiClient.active.is_(True)))
    if client is not None:
        client.last_used_at = utcnow()
    return client
