"""All models, imported here so Alembic and the app see one metadata."""
from app.models.audit import AuditEvent, LoginFailure
from app.models.base import Base, utcnow
from app.models.billing import Invoice
from app.models.catalog import TAX_RATES, Category, Product, ProductImage, ProductStatus, ProductVisibility
from app.models.ordering import CartLine, Order, OrderChannel, OrderEvent, OrderLine, OrderStatus
from app.models.org import CHANNELS, DEALER_TIERS, DealerTerritory, OrgKind, Organisation, Region, RepRoute
from app.models.pricing import ContractPrice, PriceList, PriceListItem
from app.models.user import PERMISSIONS, Role, User

__all__ = [
    "AuditEvent", "Base", "CHANNELS", "CartLine", "Category", "ContractPrice", "DEALER_TIERS",
    "DealerTerritory", "Invoice", "LoginFailure", "Order", "OrderChannel", "OrderEvent", "OrderLine",
    "OrderStatus", "OrgKind", "Organisation", "PERMISSIONS", "PriceList", "PriceListItem",
    "Product", "ProductImage", "ProductStatus", "ProductVisibility", "Region", "RepRoute", "Role",
    "TAX_RATES", "User", "utcnow",
]
