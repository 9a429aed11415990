"""One vocabulary: the fixed codes the models store (statuses, kinds, methods, reasons), each a
`StrEnum` with ONE label map, here and nowhere else.

Lists, detail pages, filters, notifications, PDFs and exports all read a label the same way:
`OrderStatus.label_of(order.status)` (or `OrderStatus(order.status).label`), so a retailer reads
the same words for the same state in its order list, on the order page and in a notification.
The labels are lazy: they are rendered in the reader's language when shown (PDF documents are
rendered in Chinese, the default language). Templates get the label maps as `vocabulary`
(`vocabulary.OrderStatus.label_of(order.status)`), registered once by the app factory.

A member compares and hashes like its string value (`OrderStatus.SHIPPED == "shipped"`), so
the maps answer plain column values as well as members.
"""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

_LABELS: dict[type, dict[str, object]] = {}


class Vocabulary(StrEnum):
    """A stored code with a label for people."""

    @property
    def label(self):
        return _LABELS[type(self)][self.value]

    @classmethod
    def labels(cls) -> dict[str, object]:
        """value → lazy label, in declaration order (for select choices and legends)."""
        return _LABELS[cls]

    @classmethod
    def label_of(cls, value: str | None):
        """The label of a stored value; an unknown value is shown as it is."""
        if value is None:
            return ""
        return _LABELS[cls].get(value, value)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)


def _labelled(cls: type[Vocabulary], labels: dict[Vocabulary, object]) -> None:
    missing = {m.value for m in cls} - {str(k) for k in labels}
    assert not missing, f"{cls.__name__}: label every member ({sorted(missing)})"
    _LABELS[cls] = {str(member.value): labels[member] for member in cls}


# ---- organisations and people -----------------------------------------------------------------

class OrgKind(Vocabulary):
    BRAND = "brand"
    DEALER = "dealer"
    RETAILER = "retailer"


class Role(Vocabulary):
    ADMIN = "admin"
    DEALER = "dealer"
    RETAILER = "retailer"
    REP = "rep"


_labelled(OrgKind, {OrgKind.BRAND: _l("品牌"), OrgKind.DEALER: _l("经销商"), OrgKind.RETAILER: _l("零售商")})
_labelled(Role, {Role.ADMIN: _l("品牌管理员"), Role.DEALER: _l("经销商"), Role.RETAILER: _l("零售商"),
                 Role.REP: _l("业务员")})


# ---- catalog ------------------------------------------------------------------------------------

class ProductStatus(Vocabulary):
    DRAFT = "draft"
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


_labelled(ProductStatus, {ProductStatus.DRAFT: _l("草稿"), ProductStatus.ACTIVE: _l("在售"),
                          ProductStatus.DISCONTINUED: _l("停售")})


# ---- orders -------------------------------------------------------------------------------------

class OrderStatus(Vocabulary):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PICKING = "picking"
    PARTLY_SHIPPED = "partly_shipped"  # some goods on the road, the rest still to ship
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    PRESALE_HELD = "presale_held"  # a presale order waiting for its release (not reserved, not on the desk)
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class OrderChannel(Vocabulary):
    WEB = "web"
    REP = "rep"
    API = "api"


class OrderKind(Vocabulary):
    """What made the order: the cart (standard), a presale campaign (预售) or a group-buy (团购)."""
    STANDARD = "standard"
    PRESALE = "presale"
    GROUPBUY = "groupbuy"


_labelled(OrderStatus, {
    OrderStatus.SUBMITTED: _l("已提交"), OrderStatus.APPROVED: _l("已审核"), OrderStatus.PICKING: _l("拣货中"),
    OrderStatus.PARTLY_SHIPPED: _l("部分发货"),
    OrderStatus.SHIPPED: _l("已发货"), OrderStatus.DELIVERED: _l("已送达"), OrderStatus.COMPLETED: _l("已完成"),
    OrderStatus.ON_HOLD: _l("暂停审核"), OrderStatus.PRESALE_HELD: _l("预售待发布"),
    OrderStatus.REJECTED: _l("已拒绝"), OrderStatus.CANCELLED: _l("已取消"),
})
_labelled(OrderKind, {OrderKind.STANDARD: _l("普通订单"), OrderKind.PRESALE: _l("预售订单"),
                      OrderKind.GROUPBUY: _l("团购订单")})
_labelled(OrderChannel, {OrderChannel.WEB: _l("网页"), OrderChannel.REP: _l("业务员代下"),
                         OrderChannel.API: _l("接口")})


class OrderPayment(Vocabulary):
    """How the buyer chose to pay at checkout (a settled invoice's own method is PaymentMethod)."""

    CREDIT = "credit"          # on account, within the buyer's credit
    PREPAYMENT = "prepayment"  # from the buyer's prepayment balance with the seller
    COD = "cod"                # cash on delivery


_labelled(OrderPayment, {OrderPayment.CREDIT: _l("赊账（信用额度）"), OrderPayment.PREPAYMENT: _l("预存款余额"),
                         OrderPayment.COD: _l("货到付款")})


# ---- fulfilment ---------------------------------------------------------------------------------

class SignOffMethod(Vocabulary):
    PORTAL = "portal"  # the retailer confirmed receipt in its portal
    CODE = "code"      # the seller entered the code the retailer gave the driver
    CARRIER = "carrier"  # the carrier's proof of delivery, trusted by the dealer


class DiscrepancyKind(Vocabulary):
    SHORT = "short"
    DAMAGED = "damaged"


class ReturnStatus(Vocabulary):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class ReturnDisposition(Vocabulary):
    RESTOCK = "restock"      # back into the lot it was shipped from, sellable again
    WRITE_OFF = "write_off"  # received back, then taken out of stock (damaged, unsellable)


_labelled(SignOffMethod, {SignOffMethod.PORTAL: _l("客户在平台确认收货"), SignOffMethod.CODE: _l("收货码签收"),
                          SignOffMethod.CARRIER: _l("承运商签收凭证")})
_labelled(DiscrepancyKind, {DiscrepancyKind.SHORT: _l("短少"), DiscrepancyKind.DAMAGED: _l("破损")})
_labelled(ReturnStatus, {ReturnStatus.REQUESTED: _l("待处理"), ReturnStatus.ACCEPTED: _l("已接受"),
                         ReturnStatus.REFUSED: _l("已拒绝")})
_labelled(ReturnDisposition, {ReturnDisposition.RESTOCK: _l("退回库存"), ReturnDisposition.WRITE_OFF: _l("报废（不入可售库存）")})


# ---- documents ----------------------------------------------------------------------------------

class DocumentKind(Vocabulary):
    INVOICE = "invoice"              # 销售发票
    DELIVERY_NOTE = "delivery_note"  # 送货单
    ORDER_SHEET = "order_sheet"      # 订货单
    PICK_LIST = "pick_list"          # 拣货单, for a set of orders


class DocumentStatus(Vocabulary):
    PENDING = "pending"  # waiting for a worker (first run or a retry)
    RUNNING = "running"  # a worker claimed it at started_at
    READY = "ready"      # pdf holds the file
    FAILED = "failed"    # retries used up; last_error says why


_labelled(DocumentKind, {DocumentKind.INVOICE: _l("销售发票"), DocumentKind.DELIVERY_NOTE: _l("送货单"),
                         DocumentKind.ORDER_SHEET: _l("订货单"), DocumentKind.PICK_LIST: _l("拣货单")})
_labelled(DocumentStatus, {DocumentStatus.PENDING: _l("排队中"), DocumentStatus.RUNNING: _l("生成中"),
                           DocumentStatus.READY: _l("已生成"), DocumentStatus.FAILED: _l("生成失败")})


# ---- credit and billing -------------------------------------------------------------------------

class InvoiceStatus(Vocabulary):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(Vocabulary):
    """How an invoice is settled. bank_transfer and cod bring money in; prepayment draws on the
    customer's prepayment wallet; credit draws on the unused amount of its credit notes."""

    BANK_TRANSFER = "bank_transfer"
    COD = "cod"
    PREPAYMENT = "prepayment"
    CREDIT = "credit"
    ONLINE = "online"  # an online payment (WeChat Pay, the sandbox) confirmed by the provider


class CreditNoteReason(Vocabulary):
    SHORT_DELIVERY = "short_delivery"
    DAMAGED = "damaged"
    RETURN = "return"
    ADJUSTMENT = "adjustment"


_labelled(InvoiceStatus, {InvoiceStatus.OPEN: _l("未结清"), InvoiceStatus.PAID: _l("已结清"),
                          InvoiceStatus.VOID: _l("已作废")})
_labelled(PaymentMethod, {PaymentMethod.BANK_TRANSFER: _l("银行转账"), PaymentMethod.COD: _l("货到付款"),
                          PaymentMethod.PREPAYMENT: _l("预存款"), PaymentMethod.CREDIT: _l("红字抵扣"),
                          PaymentMethod.ONLINE: _l("在线支付")})


class IntentPurpose(Vocabulary):
    ORDER = "order"
    TOPUP = "topup"


class IntentStatus(Vocabulary):
    CREATED = "created"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class TrackingCode(Vocabulary):
    """What a carrier says happened to a waybill."""

    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


_labelled(TrackingCode, {TrackingCode.PICKED_UP: _l("已揽收"), TrackingCode.IN_TRANSIT: _l("运输中"),
                         TrackingCode.OUT_FOR_DELIVERY: _l("派送中"), TrackingCode.DELIVERED: _l("已签收"),
                         TrackingCode.EXCEPTION: _l("异常")})
_labelled(IntentPurpose, {IntentPurpose.ORDER: _l("订单付款"), IntentPurpose.TOPUP: _l("预存款充值")})
_labelled(IntentStatus, {IntentStatus.CREATED: _l("待支付"), IntentStatus.PAID: _l("已支付"),
                         IntentStatus.FAILED: _l("支付失败"), IntentStatus.REFUNDED: _l("已退款")})
_labelled(CreditNoteReason, {CreditNoteReason.SHORT_DELIVERY: _l("短少"), CreditNoteReason.DAMAGED: _l("破损"),
                             CreditNoteReason.RETURN: _l("退货"), CreditNoteReason.ADJUSTMENT: _l("调整")})


# ---- stock --------------------------------------------------------------------------------------

class MovementKind(Vocabulary):
    RECEIPT = "receipt"
    RESERVE = "reserve"
    RELEASE = "release"
    SHIP = "ship"
    ADJUST = "adjust"
    COUNT = "count"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RETURN = "return"
    EXPIRE = "expire"


class TransferStatus(Vocabulary):
    CREATED = "created"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class CountStatus(Vocabulary):
    OPEN = "open"
    POSTED = "posted"
    CANCELLED = "cancelled"


_labelled(MovementKind, {
    MovementKind.RECEIPT: _l("入库"), MovementKind.RESERVE: _l("预留"), MovementKind.RELEASE: _l("释放"),
    MovementKind.SHIP: _l("发货"), MovementKind.ADJUST: _l("调整"), MovementKind.COUNT: _l("盘点"),
    MovementKind.TRANSFER_OUT: _l("调出"), MovementKind.TRANSFER_IN: _l("调入"), MovementKind.RETURN: _l("退货"),
    MovementKind.EXPIRE: _l("过期报废"),
})
_labelled(TransferStatus, {TransferStatus.CREATED: _l("待出库"), TransferStatus.SHIPPED: _l("在途"),
                           TransferStatus.RECEIVED: _l("已入库"), TransferStatus.CANCELLED: _l("已取消")})
_labelled(CountStatus, {CountStatus.OPEN: _l("进行中"), CountStatus.POSTED: _l("已过账"),
                        CountStatus.CANCELLED: _l("已取消")})


# ---- imports ------------------------------------------------------------------------------------

class ImportStatus(Vocabulary):
    PENDING = "pending"
    APPLIED = "applied"
    DISCARDED = "discarded"


_labelled(ImportStatus, {ImportStatus.PENDING: _l("待确认"), ImportStatus.APPLIED: _l("已导入"),
                         ImportStatus.DISCARDED: _l("已放弃")})

# ---- promotions ---------------------------------------------------------------------------------

class PromotionStatus(Vocabulary):
    DRAFT = "draft"
    APPROVED = "approved"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class PromotionKind(Vocabulary):
    PERCENT_OFF = "percent_off"      # 限时折扣: percent off matching lines
    AMOUNT_OFF = "amount_off"        # so many fen off each unit of matching lines
    BUY_X_GET_Y = "buy_x_get_y"      # 买赠: every `buy` units give `get` units free (a zero-priced line)
    SPEND_OFF = "spend_off"          # 满减 ladder: spend ≥ threshold, so many fen off the order
    SPEND_PERCENT = "spend_percent"  # 满折 ladder: spend ≥ threshold, a percent off the order
    BUNDLE = "bundle"                # 套餐: a set of products with quantities at one price, repeatable
    VOLUME_TIER = "volume_tier"      # 累计阶梯: the buyer's quantity in the window unlocks a percent off


class PromotionLane(Vocabulary):
    ITEM = "item"
    ORDER = "order"
    COUPON = "coupon"


class Funding(Vocabulary):
    BRAND = "brand"
    DEALER = "dealer"
    SHARED = "shared"


class SettlementStatus(Vocabulary):
    DRAFT = "draft"        # computed by a run, waiting for the brand's approval
    APPROVED = "approved"  # approved: its credit note is posted to the dealer


_labelled(PromotionStatus, {
    PromotionStatus.DRAFT: _l("草稿"), PromotionStatus.APPROVED: _l("已批准"), PromotionStatus.ACTIVE: _l("进行中"),
    PromotionStatus.PAUSED: _l("已暂停"), PromotionStatus.ENDED: _l("已结束"),
})
_labelled(PromotionKind, {
    PromotionKind.PERCENT_OFF: _l("限时折扣"), PromotionKind.AMOUNT_OFF: _l("单品立减"),
    PromotionKind.BUY_X_GET_Y: _l("买赠"), PromotionKind.SPEND_OFF: _l("满减"), PromotionKind.SPEND_PERCENT: _l("满折"),
    PromotionKind.BUNDLE: _l("套餐价"), PromotionKind.VOLUME_TIER: _l("累计阶梯折扣"),
})
_labelled(PromotionLane, {PromotionLane.ITEM: _l("单品"), PromotionLane.ORDER: _l("整单"),
                          PromotionLane.COUPON: _l("优惠券")})
_labelled(Funding, {Funding.BRAND: _l("品牌承担"), Funding.DEALER: _l("经销商承担"), Funding.SHARED: _l("共同承担")})
_labelled(SettlementStatus, {SettlementStatus.DRAFT: _l("待审批"), SettlementStatus.APPROVED: _l("已批准入账")})

# ---- presale campaigns --------------------------------------------------------------------------

class PresaleStatus(Vocabulary):
    DRAFT = "draft"
    OPEN = "open"          # deposits taken (within the deposit window)
    CLOSED = "closed"      # no more orders; waiting for the release
    RELEASED = "released"  # orders are in the normal flow; balances due
    FINISHED = "finished"  # balance window over, every order settled or cancelled


class PresaleRule(Vocabulary):
    """What happens to the deposit of an order whose balance is not paid in the window."""
    REFUND = "refund"
    FORFEIT = "forfeit"


class PresaleBalance(Vocabulary):
    HELD = "held"                # before the release: deposit paid, nothing else due yet
    DUE = "due"                  # released; the balance is to be paid from the prepayment balance
    PAID = "paid"                # paid from the prepayment balance (or full prepayment)
    ON_ACCOUNT = "on_account"    # on credit, invoiced with the order like any credit order
    ON_DELIVERY = "on_delivery"  # cash on delivery
    CANCELLED = "cancelled"      # not paid in the window: the order was cancelled


_labelled(PresaleStatus, {PresaleStatus.DRAFT: _l("草稿"), PresaleStatus.OPEN: _l("接受定金"),
                          PresaleStatus.CLOSED: _l("已截单"), PresaleStatus.RELEASED: _l("已发布"),
                          PresaleStatus.FINISHED: _l("已结束")})
_labelled(PresaleRule, {PresaleRule.REFUND: _l("退还定金"), PresaleRule.FORFEIT: _l("定金不退")})
_labelled(PresaleBalance, {PresaleBalance.HELD: _l("已付定金，待发布"), PresaleBalance.DUE: _l("尾款待付"),
                           PresaleBalance.PAID: _l("已付清"), PresaleBalance.ON_ACCOUNT: _l("尾款记账（赊账）"),
                           PresaleBalance.ON_DELIVERY: _l("尾款货到付款"), PresaleBalance.CANCELLED: _l("未付尾款，已取消")})

ALL = {cls.__name__: cls for cls in (OrgKind, Role, ProductStatus, OrderStatus, OrderChannel, OrderPayment,
                                     SignOffMethod,
                                     DiscrepancyKind, ReturnStatus, ReturnDisposition, DocumentKind, DocumentStatus,
                                     InvoiceStatus, PaymentMethod, CreditNoteReason, MovementKind, TransferStatus,
                                     CountStatus, ImportStatus, PromotionStatus, PromotionKind,
                                     PromotionLane, Funding, SettlementStatus, PresaleStatus, PresaleRule,
                                     PresaleBalance)}


# ---- group-buy campaigns (团购) ---------------------------------------------------------------

class GroupBuyStatus(Vocabulary):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class GroupBuyResult(Vocabulary):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


_labelled(GroupBuyStatus, {GroupBuyStatus.DRAFT: _l("草稿"), GroupBuyStatus.OPEN: _l("进行中"),
                           GroupBuyStatus.CLOSED: _l("已结束")})
_labelled(GroupBuyResult, {GroupBuyResult.SUCCEEDED: _l("成团"), GroupBuyResult.FAILED: _l("未成团")})
