"""Which products a customer may see and order (see ProductVisibility for the rule)."""
from sqlalchemy import and_, exists, not_, or_, select

from app.models import Product, ProductStatus, ProductVisibility
from app.services.pricing.prices import CustomerProfile


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
