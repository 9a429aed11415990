"""API clients: create one with a fresh token, find the client for a presented token, and what
a client may reach: its organisation's customers and orders (a brand client: all of them).

Tokens are 32 random bytes (urlsafe base64, prefixed "ly_"); only their SHA-256 is stored,
and lookups compare hashes, so the database never holds a usable token."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiClient, Order, Organisation, OrgKind, Role, User, utcnow
from app.services.core.errors import DomainError, NotFound

TOKEN_PREFIX = "ly_"
LAST_USED_PRECISION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_client(name: str, *, org_code: str | None = None, scopes: str = "stock",
                      read_only: bool = False) -> tuple[ApiClient, str]:
    query = select(Organisation).where(Organisation.code == org_code) if org_code else \
        select(Organisation).where(Organisation.kind == "brand")
    org = db.session.scalars(query.limit(1)).first()
    if org is None:
        raise DomainError(_("组织不存在。"), field="org")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(org_id=org.id, name=name.strip()[:80], token_hash=token_hash(token), token_prefix=token[:10],
                       scopes=" ".join(scopes.split()), read_only=read_only)
    db.session.add(client)
    db.session.flush()
    service_user(client)
    return client, token


ROLE_OF_KIND = {OrgKind.BRAND.value: Role.ADMIN.value, OrgKind.DEALER.value: Role.DEALER.value,
                OrgKind.RETAILER.value: Role.RETAILER.value}


def service_user(client: ApiClient) -> User:
    """The client's own user: owner of the carts its orders are built from, actor in order
    history. Inactive and without a usable password, so nobody can log in as it."""
    if client.user_id is not None:
        return db.session.get(User, client.user_id)
    user = User(username=f"api-client-{client.id}", password_hash="!", role=ROLE_OF_KIND[client.org.kind],
                org_id=client.org_id, display_name=client.name[:60], active=False)
    db.session.add(user)
    db.session.flush()
    client.user_id = user.id
    return user


def customer_for(client: ApiClient, code: str | None) -> Organisation:
    """The buyer a client names: a brand client any dealer or retailer, a dealer client itself or
    a retailer it serves, a retailer client itself. Anything else is not found (no hint that it
    exists). Without a code: the client's own organisation, unless that is the brand."""
    org = client.org
    if not code:
        if org.kind == OrgKind.BRAND.value:
            raise DomainError(_("品牌方令牌须指定 customer_code。"), field="customer_code")
        return org
    customer = db.session.scalar(_CUSTOMER_BY_CODE, {"code": code})
    allowed = customer is not None and customer.active and (
        org.kind == OrgKind.BRAND.value or customer.id == org.id
        or (org.kind == OrgKind.DEALER.value and customer.dealer_id == org.id))
    if not allowed:
        raise NotFound(_("客户不存在。"), field="customer_code")
    return customer


# The customer with its region (pricing and routing read it next: one query, not two).
_CUSTOMER_BY_CODE = select(Organisation).options(joinedload(Organisation.region)).where(
    Organisation.code == bindparam("code"), Organisation.kind != OrgKind.BRAND.value)


def orders_for(client: ApiClient):
    """The orders a client may see: all for the brand, else those its organisation bought or sold."""
    if client.org.kind == OrgKind.BRAND.value:
        return select(Order)
    return select(Order).where(or_(Order.buyer_id == client.org_id, Order.seller_id == client.org_id))


# The client with its organisation and its service user (the order view's actor): one query.
_CLIENT_BY_TOKEN = select(ApiClient).options(joinedload(ApiClient.org), joinedload(ApiClient.user)).where(
    ApiClient.token_hash == bindparam("token_hash"), ApiClient.active.is_(True))


def client_for_token(token: str) -> ApiClient | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    client = db.session.scalar(_CLIENT_BY_TOKEN, {"token_hash": token_hash(token)})
    now = utcnow()
    if client is not None and (client.last_used_at is None or now - client.last_used_at > LAST_USED_PRECISION):
        client.last_used_at = now  # to the minute: not one UPDATE per request
    return client
