"""Which products a customer may see and order (see ProductVisibility for the rule), and which
products a signed-in user may see anything of (pictures included)."""
from dataclasses import replace

from sqlalchemy import and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Organisation, Product, ProductStatus, ProductVisibility, RepRoute, User
from app.services.pricing.prices import CustomerProfile, region_profile


def visible_clause(customer: CustomerProfile):
    """SQL condition on Product: active, and either unrestricted or matched by a rule."""
    rule = ProductVisibility
    matches = and_(
        rule.product_id == Product.id,
        or_(rule.audience.is_(None), rule.audience == customer.kind),
        or_(rule.tier.is_(None), rule.tier == customer.tier),
        or_(rule.channel.is_(None), rule.channel == customer.channel),
        or_(rule.region_id.is_(None), rule.region_id.in_(customer.region_ids or (-1,))),
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
