"""API clients and a small catalog for the API tests: a brand token, dealer tokens of two
dealers, a read-only token, and products the world's customers may order."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from app.extensions import db
from app.services.accounts.api_clients import create_api_client
from tests import factories

_keys = itertools.count(1)


def new_key(prefix: str = "key") -> str:
    return f"{prefix}-{next(_keys):06d}-abcdef"


@dataclass
class ApiWorld:
    world: object
    tokens: dict[str, str] = field(default_factory=dict)
    products: dict[str, object] = field(default_factory=dict)


def api_world(world) -> ApiWorld:
    cat = factories.category(code="DRINK")
    products = {"WATER": factories.product(cat, code="WATER", base_price_fen=2400),
                "TEA": factories.product(cat, code="TEA", base_price_fen=4800, min_order_qty=2),
                "JUICE": factories.product(cat, code="JUICE", base_price_fen=3600)}
    scopes = "orders catalog stock webhooks"
    tokens = {
        "brand": create_api_client("ERP", scopes=scopes)[1],
        "dealer": create_api_client("Dealer WMS", org_code=world.orgs["dealer"].code, scopes=scopes)[1],
        "dealer_b": create_api_client("Dealer B", org_code=world.orgs["dealer_b"].code, scopes=scopes)[1],
        "retailer": create_api_client("Shop POS", org_code=world.orgs["retailer"].code, scopes=scopes)[1],
        "read_only": create_api_client("BI", scopes=scopes, read_only=True)[1],
        "stock_only": create_api_client("WMS", scopes="stock")[1],
    }
    db.session.commit()
    return ApiWorld(world, tokens, products)


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def place(http, token, body, key=None):
    return http.post("/api/v1/orders", json=body, headers=bearer(token, **{"Idempotency-Key": key or new_key()}))
