"""Which products a customer may see and order (see ProductVisibility for the rule), and which
products a signed-in user may see anything of (pictures included)."""
from dataclasses import replace
from functools import lru_cache

from sqlalchemy import and_, bindparam, exists, false, not_, or_, select, true
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Organisation, Product, ProductStatus, ProductVisibility, RepRoute, User
from app.services.pricing.prices import CustomerProfile, region_profile


def visible_clause(customer: CustomerProfile):
    """SQL condition on Product: active, and either unrestricted or matched by a rule."""
    return _visible_for(customer.kind, customer.tier, customer.channel, customer.region_ids or (-1,))


def visible_clause_bound():
    """visible_clause with the customer left as bound parameters (`visible_params`), for a
    statement built once and run for every customer."""
    return _visible(bindparam("vis_kind"), bindparam("vis_tier"), bindparam("vis_channel"),
                    bindparam("vis_regions", expanding=True))


def visible_params(customer: CustomerProfile) -> dict:
    return {"vis_kind": customer.kind, "vis_tier": customer.tier, "vis_channel": customer.channel,
            "vis_regions": list(customer.region_ids or (-1,))}


@lru_cache(maxsize=1024)
def _visible_for(kind: str, tier: str | None, channel: str | None, region_ids: tuple[int, ...]):
    """_visible for one kind of customer, built once (clauses are immutable; shops alike share it)."""
    return _visible(kind, tier, channel, region_ids)


def _visible(kind, tier, channel, region_ids):
    # A NULL tier or channel compares unknown, as `rule.tier IS NULL` already covers that case.
    rule = ProductVisibility
    matches = and_(
        rule.product_id == Product.id,
        or_(rule.audience.is_(None), rule.audience == kind),
        or_(rule.tier.is_(None), rule.tier == tier),
        or_(rule.channel.is_(None), rule.channel == channel),
        or_(rule.region_id.is_(None), rule.region_id.in_(region_ids)),
    )
    unrestricted = not_(exists().where(rule.product_id == Product.id))
    return and_(Product.status == ProductStatus.ACTIVE.value, or_(unrestricted, exists().where(matches)))


def visible_products(customer: CustomerProfile):
    """A select() of the products this customer may see; callers add search, order, paging."""
    return select(Product).where(visible_clause(customer))


def seen_by_clause(user: User):
    """SQL condition on Product: what `user` may see of the catalog. The brand's staff (admins)
    see every product, drafts included; a retailer or a dealer what its catalog shows; a rep
    what the catalog shows to at least one retailer on its route."""
    if user.role == "admin":
        return true()
    if user.role in ("retailer", "dealer"):
        org = db.session.get(Organisation, user.org_id) if user.org_id else None
        return visible_clause(region_profile(org)) if org is not None else false()
    if user.role == "rep":
        retailers = db.session.scalars(
            select(Organisation).join(RepRoute, RepRoute.retailer_id == Organisation.id)
            .where(RepRoute.rep_id == user.id, Organisation.active.is_(True))
            .options(selectinload(Organisation.region))).unique()
        # Shops alike (kind, tier, channel, region) see the same catalog: one condition each.
        profiles = {replace(CustomerProfile.of(org), id=0) for org in retailers}
        return or_(false(), *(visible_clause(profile) for profile in profiles))
    return false()
