"""Who sells to whom: the seller an order is routed to (the 联营 core).

Rule for a retailer, first match wins:

1. its assigned dealer (`Organisation.dealer_id`), when that dealer is active and one of its
   territories (`DealerTerritory`) is the retailer's region or an ancestor of it;
2. otherwise an active dealer whose territory covers the retailer's region: the one whose
   territory is the most specific (deepest region: a county before its city before its
   province), then the lowest dealer id, so the answer never depends on row order;
3. a retailer without a region goes to its assigned dealer when that dealer is active;
4. otherwise the brand.

A dealer (replenishment order) always buys from the brand.
"""
from __future__ import annotations

import functools

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import DealerTerritory, Organisation, OrgKind, Region
from app.services.core.errors import DomainError


def brand() -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.kind == OrgKind.BRAND.value)
                            .order_by(Organisation.id).limit(1))
    if org is None:
        raise DomainError(_("系统中没有品牌方，无法下单。"))
    return org


def covering_dealers(region_ids: list[int] | tuple[int, ...]) -> list[tuple[int, int]]:
    """(dealer_id, territory level) for every active dealer covering any of `region_ids`,
    most specific territory first, then lowest dealer id (one query)."""
    if not region_ids:
        return []
    rows = db.session.execute(
        select(DealerTerritory.dealer_id, Region.level)
        .join(Region, Region.id == DealerTerritory.region_id)
        .join(Organisation, Organisation.id == DealerTerritory.dealer_id)
        .where(DealerTerritory.region_id.in_(region_ids), Organisation.active.is_(True),
               Organisation.kind == OrgKind.DEALER.value)
        .order_by(Region.level.desc(), DealerTerritory.dealer_id))
    return [(dealer_id, level) for dealer_id, level in rows]


def seller_for(buyer: Organisation) -> Organisation:
    """The organisation that receives `buyer`'s orders (see the module docstring)."""
    if buyer.kind != OrgKind.RETAILER.value:
        return brand()
    region = buyer.region if buyer.region_id else None
    if region is None:
        assigned = buyer.dealer if buyer.dealer_id else None
        return assigned if assigned is not None and assigned.active else brand()
    # The covering dealers themselves, in covering_dealers' order (one query, no second read).
    dealers = list(db.session.scalars(_covering_dealers_query(), {"region_ids": list(region.ancestor_ids())}))
    assigned = next((dealer for dealer in dealers if dealer.id == buyer.dealer_id), None)
    return assigned or (dealers[0] if dealers else brand())


@functools.cache
def _covering_dealers_query():
    """seller_for's statement, built once (every checkout runs it): the regions are bound."""
    return (select(Organisation).join(DealerTerritory, DealerTerritory.dealer_id == Organisation.id)
            .join(Region, Region.id == DealerTerritory.region_id)
            .where(DealerTerritory.region_id.in_(bindparam("region_ids", expanding=True)),
                   Organisation.active.is_(True), Organisation.kind == OrgKind.DEALER.value)
            .order_by(Region.level.desc(), DealerTerritory.dealer_id))
