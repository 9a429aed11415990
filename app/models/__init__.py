"""All models, imported here so Alembic and the app see one metadata."""
from app.models.analytics import (DemandForecast, FactWatermark, ForecastRun, ForecastSeries, LaunchPlan,  # noqa: F401
                                  SalesDay, SalesRollup, ServiceFact, ServiceRollup)
from app.models.audit import AuditEvent, LoginFailure
from app.models.base import Base, utcnow
from app.models.billing import Invoice
from app.models.documents import Document, DocumentKind, DocumentStatus, ORDER_DOCUMENT_KINDS  # noqa: F401
from app.models.catalog import (TAX_RATES, CatalogVersion, Category, Product, ProductImage, ProductStatus,
                                ProductVisibility)
from app.models.credit import (CreditNote, CreditNoteReason, CreditProfile, Payment,  # noqa: F401
                               PaymentAllocation, PaymentMethod, PrepaymentAccount, PrepaymentEntry)
from app.models.loyalty import (MEMBER_TIERS, LoyaltySettings, PointsAccount, PointsEntry,  # noqa: F401
                                 PointsGift, PointsGiftClaim, PointsLot, PointsLotUse)
from app.models.imports import ImportBatch, ImportStatus  # noqa: F401
from app.models.inventory import (MovementKind, ProductCost, ReorderRule, ShelfLifeRule,  # noqa: F401
                                  StockAlert, StockBalance, StockCount, StockCountLine, StockLot,
                                  StockMovement, StockReservation, StockSyncLine, Transfer, TransferLine,
                                  TransferStatus, Warehouse)
from app.models.api import ApiClient, ApiIdempotencyKey  # noqa: F401
from app.models.integrations import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription  # noqa: F401
from app.models.notifications import Notification  # noqa: F401
from app.models.payments import PaymentIntent, PaymentRefund  # noqa: F401
from app.models.logistics import CarrierTrust, TrackingEvent  # noqa: F401
from app.models.visits import RepTarget, Visit  # noqa: F401
from app.models.fulfilment import (DeliveryCode, DeliveryDiscrepancy, DeliverySignOff,  # noqa: F401
                                  RemainderCancellation, ReturnLine, ReturnRequest, Shipment, ShipmentLine,
                                  ShipmentLot)
from app.models.approval import ApprovalPolicy, OrderReviewReason  # noqa: F401
from app.models.ordering import CartLine, Order, OrderChannel, OrderEvent, OrderKind, OrderLine, OrderStatus  # noqa: F401
from app.models.org import CHANNELS, DEALER_TIERS, DealerTerritory, OrgKind, Organisation, Region, RepRoute
from app.models.groupbuy import GroupBuyCampaign, GroupBuyCommitment, GroupBuyTier  # noqa: F401
from app.models.promotions import (CartCoupon, CouponCode, OrderLineAdjustment, Promotion,  # noqa: F401
                                   PromotionRedemption, PromotionSettlement, PromotionState, SettlementRun)
from app.models.rebates import (RebateAccount, RebateAccrual, RebateAgreement, RebateCartChoice,  # noqa: F401
                                RebateLedgerEntry, RebateRun, RebateSettlement)
from app.models.promotions import PromotionDealerLimit, PromotionScopedBudget  # noqa: F401
from app.models.customer_groups import CustomerGroup, CustomerGroupMember  # noqa: F401
from app.models.presale import PresaleBuyerQty, PresaleCampaign, PresaleItem, PresaleOrder  # noqa: F401
from app.models.pricing import ContractPrice, PriceBookVersion, PriceList, PriceListItem
from app.models.user import PERMISSIONS, Role, User, UserSession  # noqa: F401

__all__ = [
    "AuditEvent", "Base", "CHANNELS", "CartLine", "CatalogVersion", "Category", "ContractPrice", "DEALER_TIERS",
    "DealerTerritory", "Invoice", "LoginFailure", "Order", "OrderChannel", "OrderEvent", "OrderLine",
    "OrderStatus", "OrgKind", "Organisation", "PERMISSIONS", "PriceBookVersion", "PriceList", "PriceListItem",
    "Product", "ProductImage", "ProductStatus", "ProductVisibility", "Region", "RepRoute", "Role",
    "TAX_RATES", "User", "utcnow",
]
