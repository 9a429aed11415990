"""Messages stored for people to read later: a code plus parameters, rendered in the reader's
language when shown (not in the language of whoever caused them).

    note = message("approval.held", reasons=joined([message("review.stock_short")]))
    event.note_message = note          # stored as {"code": ..., "params": ...} (models.base.MessageJSON)
    {{ event.note_message|msg(event.note) }}   # the page renders it now; free text typed by a
                                               # person (the fallback) is shown as typed

`CATALOG` maps every code to its Chinese template (extracted for translation). Parameters are
plain values (data: numbers, product codes, typed reasons) or other messages; `joined` renders
a list of values with a translated separator. `str(message)` renders in the current locale, so a
message can stand wherever text was expected (an exception, a notification body); PDFs render
under force_locale, so in Chinese.

Codes are stored: never rename one; add a new code when the wording changes meaning."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

CATALOG: dict[str, Any] = {
    # pricing (why a price is what it is)
    "price.gift": _l("赠品"),
    # promotions: rule wording, funding, hints, why one was left out
    "promo.percent_off": _l("直降 %(pct)s%%"),
    "promo.amount_off": _l("每件立减 %(off)s 元"),
    "promo.buy_get_repeat": _l("每满%(buy)d%(unit)s赠%(get)d%(unit)s"),
    "promo.buy_get_once": _l("满%(buy)d%(unit)s赠%(get)d%(unit)s"),
    "promo.spend_off": _l("满%(threshold)s减%(off)s"),
    "promo.amount_flat": _l("立减%(off)s"),
    "promo.spend_percent": _l("满%(threshold)s减%(pct)s%%"),
    "promo.funding_brand": _l("品牌承担"),
    "promo.funding_dealer": _l("经销商承担"),
    "promo.funding_shared": _l("品牌承担 %(pct)d%%"),
    "promo.hint_buy": _l("再买%(n)d%(unit)s享%(rule)s"),
    "promo.hint_spend_off": _l("还差 ¥%(short)s 可减 ¥%(off)s"),
    "promo.hint_spend_percent": _l("还差 ¥%(short)s 可减 %(pct)s%%"),
    "promo.bundle": _l("套餐价 ¥%(price)s"),
    "promo.volume_tier": _l("累计满%(qty)d%(unit)s减%(pct)s%%"),
    "promo.hint_bundle": _l("再买%(n)d%(unit)s可享套餐价 ¥%(price)s"),
    "promo.hint_volume": _l("累计再买%(n)d%(unit)s可减%(pct)s%%"),
    "promo.budget_used_up": _l("活动额度已用完"),
    "promo.customer_limit": _l("已达每位客户的参与次数"),
    "rebate.balance_changed": _l("返利余额已变化，抵扣金额已重新计算"),
    "promo.coupon_not_live": _l("优惠券已失效"),
    "promo.coupon_stopped": _l("本单已享不可叠加的优惠，优惠券不可同时使用"),
    "promo.coupon_not_reached": _l("未达到优惠券的使用门槛"),
    "promo.coupon_used_up": _l("优惠券已被用完"),
    "price.base": _l("基础价"),
    "price.presale": _l("预售价 %(code)s"),
    # presale: what the release and the balance window write on an order's history
    "presale.released": _l("预售发布，转入正常流程"),
    "presale.released_short": _l("预售发布，库存不足，待卖方处理：%(detail)s"),
    "presale.unpaid_refund": _l("尾款未在 %(due)s 前支付，订单已取消，定金以红字退还"),
    "presale.unpaid_forfeit": _l("尾款未在 %(due)s 前支付，订单已取消，定金不退"),
    "price.contract": _l("合同价 %(ref)s"),
    "price.list": _l("价目表 %(name)s"),
    "price.min_qty": _l("（满 %(n)d 起）"),
    # automatic approval: review reasons, their details and the order events they write
    "review.on_hold": _l("客户已暂停"),
    "review.overdue": _l("发票逾期"),
    "review.credit_limit": _l("超出信用额度"),
    "review.credit_not_allowed": _l("不赊销客户赊账"),
    "review.prepayment_short": _l("预存款不足"),
    "review.price_changed": _l("价格已变"),
    "review.unusual_quantity": _l("数量超出常规"),
    "review.stock_short": _l("库存不足"),
    "review.manual": _l("人工暂缓"),
    "approval.auto": _l("自动审核"),
    "approval.held": _l("待人工审核：%(reasons)s"),
    "approval.rechecked": _l("重新检查通过"),
    "approval.price_changed": _l("价格有变：%(lines)s"),
    "approval.price_line": _l("%(code)s 下单价 %(old)s，现价 %(new)s"),
    "approval.unusual": _l("数量超出常规（上限为平均的 %(factor)s 倍）：%(lines)s"),
    "approval.unusual_line": _l("%(code)s 本单 %(qty)d，近 %(days)d 天平均 %(avg).1f"),
    "approval.more": _l("等 %(n)d 种"),
    # credit checks
    "credit.on_hold": _l("客户已被暂停赊销。"),
    "credit.on_hold_reason": _l("客户已被暂停赊销：%(reason)s"),
    "credit.overdue": _l("有 %(n)d 张发票已逾期未付，共 %(amount)s。"),
    "credit.not_allowed": _l("本单付款方式为赊账，但客户不赊销（未开通信用额度）；请与客户确认付款方式，"
                             "或先为客户开通信用额度。"),
    "credit.limit": _l("超出信用额度 %(over)s（额度 %(limit)s，已用 %(used)s，本单 %(order)s）。"),
    "credit.prepayment_short": _l("预存款不足：本单 %(order)s，可用 %(available)s（余额 %(balance)s，"
                                  "其他预存款订单已占用 %(claimed)s）。"),
    # stock
    "stock.short": _l("库存不足：%(items)s"),
    "stock.short_line": _l("%(code)s %(name)s（需要 %(req)d，可用 %(avail)d）"),
    "stock.short_shelf_life": _l("%(code)s %(name)s（保质期符合要求的库存不足，需要 %(req)d）"),
    "stock.received": _l("入库"),
    "stock.shipped": _l("发货出库"),
    "stock.expired": _l("过期报废"),
    "stock.count": _l("盘点单 %(n)d"),
    "stock.order_approved": _l("订单 %(n)s 审核"),
    "stock.order_cancelled": _l("订单 %(n)s 取消"),
    "stock.order_shipped": _l("订单 %(n)s 发货"),
    "stock.order_returned": _l("订单 %(n)s 退货"),
    "stock.replenishment_received": _l("补货签收 %(n)s"),
    "stock.order_rest_cancelled": _l("订单 %(n)s 剩余数量取消"),
    "stock.return": _l("退货 %(n)s"),
    "stock.return_written_off": _l("退货 %(n)s 报废"),
    "stock.transfer": _l("调拨单 %(n)s"),
    "stock.transfer_out": _l("调拨单 %(n)s 出库"),
    "stock.transfer_in": _l("调拨单 %(n)s 入库"),
    "stock.transfer_cancelled": _l("调拨单 %(n)s 取消"),
    "stock.erp_receipt": _l("ERP 入库"),
    "stock.erp_sync": _l("ERP 库存同步"),
    # shipping and delivery (order events)
    "shipping.shipment": _l("发货单 %(n)s：%(carrier)s %(tracking)s"),
    "shipping.shipment_untracked": _l("发货单 %(n)s：%(carrier)s"),
    "shipping.rest_cancelled": _l("剩余数量已取消：%(r)s"),
    "delivery.by_code": _l("收货码签收"),
    "delivery.by_buyer": _l("客户确认收货"),
    "delivery.by_carrier": _l("承运商 %(carrier)s 签收凭证（运单 %(waybill)s）"),
    "delivery.short": _l("%(product)s 短少 %(qty)d"),
    "delivery.damaged": _l("%(product)s 破损 %(qty)d"),
    "delivery.with_lines": _l("%(how)s：%(lines)s"),
    "delivery.with_note": _l("%(text)s（%(note)s）"),
    # stock sync files (ERP and the stock import page)
    "stock_import.unknown_columns": _l("未知的列：%(c)s"),
    "stock_import.bad_date": _l("日期格式应为 YYYY-MM-DD。"),
    "stock_import.qty_integer": _l("数量必须是整数。"),
    "stock_import.receipt_positive": _l("入库数量必须大于 0。"),
    "stock_import.level_negative": _l("库存数量不能为负数。"),
    "stock_import.no_rows": _l("没有数据行。"),
    "stock_import.too_many_rows": _l("一次最多 %(n)d 行。"),
    "stock_import.unknown_field": _l("未知字段。"),
    "stock_import.bad_kind": _l("类型必须是 receipt（入库）或 level（库存数）。"),
    "stock_import.no_warehouse": _l("仓库编码不存在或不属于本单位。"),
    "stock_import.no_product": _l("商品编码不存在。"),
    "stock_import.bad_batch": _l("批号必填，最长 40 个字符。"),
    "stock_import.expiry_before_production": _l("到期日必须晚于生产日期。"),
    "stock_import.ref_too_long": _l("外部单号最长 80 个字符。"),
    "stock_import.ref_required": _l("请提供外部单号（external_ref）。"),
    "stock_import.ref_repeated": _l("同一外部单号在本批数据中重复出现。"),
    "stock_import.ref_taken": _l("该外部单号已用于另一条不同的数据。"),
    "stock_import.level_repeated": _l("同一批次的库存数在本批数据中重复出现。"),
    "stock_import.new_lot_dates": _l("新批次请提供生产日期或到期日。"),
    "stock_import.lot_expiry_differs": _l("该批次已存在，到期日为 %(d)s。"),
    # import rows and files
    "import.unknown_columns": _l("无法识别的列：%(names)s。可用的列：%(known)s"),
    "import.repeated_columns": _l("重复的列：%(names)s"),
    "import.missing_columns": _l("缺少必需的列：%(names)s"),
    "import.required": _l("缺少必填项：%(column)s"),
    "import.too_long": _l("%(column)s 不能超过 %(n)d 个字符"),
    "import.control_chars": _l("%(column)s 含有换行或不可见的控制字符"),
    "import.integer_range": _l("%(column)s 必须是 %(lo)d 到 %(hi)d 之间的整数"),
    "import.column_problem": _l("%(column)s：%(message)s"),
    "import.bad_date": _l("%(column)s 不是有效的日期（格式 YYYY-MM-DD）"),
    "import.one_of": _l("%(column)s 只能是 %(allowed)s"),
    "import.product_repeated": _l("商品编码 %(code)s 与第 %(row)d 行重复"),
    "import.no_category": _l("分类编码 %(code)s 不存在"),
    "import.gtin_scientific": _l("条码 %(gtin)s 被 Excel 改成了科学计数法，请把该列设为文本后重新填写"),
    "import.gtin_invalid": _l("条码 %(gtin)s 无效（位数或校验位不对）"),
    "import.gtin_repeated": _l("条码 %(gtin)s 与第 %(row)d 行重复"),
    "import.gtin_taken": _l("条码 %(gtin)s 已被商品 %(other)s 使用"),
    "import.min_not_multiple": _l("起订量 %(qty)d 不是订购倍数 %(multiple)d 的整数倍"),
    "import.no_product": _l("商品编码 %(code)s 不存在"),
    "import.break_not_multiple": _l("起始数量 %(qty)d 不是订购倍数 %(multiple)d 的整数倍"),
    "import.no_price_list": _l("价目表 %(code)s 不存在"),
    "import.price_list_repeated": _l("与第 %(row)d 行重复（同一价目表、商品和起始数量）"),
    "import.no_customer": _l("客户编码 %(code)s 不存在"),
    "import.dates_reversed": _l("失效日期 %(to)s 早于生效日期 %(start)s"),
    "import.contract_repeated": _l("与第 %(row)d 行重复（同一客户、商品、起始数量和生效日期）"),
    # approving what is available (ordering.shortage)
    "shortage.line_reduced": _l("%(name)s %(was)d → %(now)d"),
    "shortage.reduced": _l("审核前调整数量：%(lines)s"),
    "shortage.backordered": _l("缺货部分转入补发订单 %(n)s"),
    "shortage.cancelled": _l("缺货部分已取消：%(reason)s"),
    "shortage.backorder_of": _l("订单 %(n)s 的缺货补发，到货后审核"),
    # group-buy campaigns (campaigns.groupbuy): order events when a commitment ends
    "groupbuy.price": _l("团购价（%(name)s）"),
    "groupbuy.withdrawn": _l("退出团购“%(name)s”"),
    "groupbuy.failed": _l("团购“%(name)s”未成团（%(pool)d / %(min)d 箱）"),
}
# Separators a joined list may use (translated when rendered; "" joins without one).
SEPARATORS = {"、": _l("、"), "；": _l("；"), "，": _l("，"), "：": _l("："), " · ": " · ", "": ""}
JOIN = "core.join"


@dataclass(frozen=True, eq=True)
class Message:
    code: str
    params: dict = field(default_factory=dict)

    def render(self) -> str:
        if self.code == JOIN:
            return str(SEPARATORS[self.params["sep"]]).join(_render(item) for item in self.params["items"])
        template = CATALOG.get(self.code)
        if template is None:  # a code from a newer release, or removed: show something useful
            return self.code
        values = {name: value if isinstance(value, (int, float)) else _render(value)
                  for name, value in self.params.items()}
        return gettext(template._args[0], **values) if values else str(template)

    __str__ = render

    def __html__(self) -> str:  # Jinja: escape the rendered text
        from markupsafe import escape

        return str(escape(self.render()))

    def to_json(self) -> dict:
        return {"code": self.code, "params": {name: _to_json(value) for name, value in self.params.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Message:
        return cls(data["code"], {name: _from_json(value) for name, value in (data.get("params") or {}).items()})


def message(code: str, /, **params) -> Message:
    """A message with a known code (a typo fails here, not when someone reads it)."""
    if code not in CATALOG:
        raise KeyError(f"unknown message code {code!r}: add it to app/services/core/messages.CATALOG")
    return Message(code, params)


def joined(items: list, sep: str = "、") -> Message:
    """A list of values (texts or messages) shown with the reader's separator."""
    if sep not in SEPARATORS:
        raise KeyError(f"unknown separator {sep!r}")
    return Message(JOIN, {"items": list(items), "sep": sep})


def render(value, fallback: str = "") -> str:
    """Text to show for a stored value: a message in the current language, text as it is."""
    if value is None or value == "" or value == {}:
        return fallback or ""
    return _render(value)


def _render(value) -> str:
    if isinstance(value, Message):
        return value.render()
    if isinstance(value, dict) and "code" in value:
        return Message.from_json(value).render()
    return str(value)


def stored(value):
    """A value as JSON can keep it: a message becomes {"code", "params"}, text stays text."""
    return _to_json(value)


def _to_json(value):
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _from_json(value):
    if isinstance(value, dict) and "code" in value:
        return Message.from_json(value)
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


def without_funding(value):
    """A promotion's explanation as its buyer reads it: "满3000减300 · 品牌承担" without who funds
    the discount (an arrangement between the brand and the dealer, not the buyer's business).
    Other values come back as they are."""
    explanation = as_message(value)
    if explanation is None or explanation.code != JOIN or explanation.params.get("sep") != " · ":
        return value
    items = [item for item in explanation.params["items"]
             if not (getattr(as_message(item), "code", "") or "").startswith("promo.funding_")]
    return items[0] if len(items) == 1 else joined(items, " · ")


def as_message(value) -> Message | None:
    """A stored JSON value (or a Message) as a Message; None for anything else."""
    if isinstance(value, Message):
        return value
    if isinstance(value, dict) and "code" in value:
        return Message.from_json(value)
    return None
