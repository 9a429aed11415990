"""The audit trail as people read it: action and field labels, money in yuan, names instead of ids.

An AuditEvent keeps what the code wrote (`price_list.item.update`, `{"base_price_fen": 9600,
"buyer_id": 240}`); `readable(rows, locale, code_labels)` turns a page of (event, username) rows
into ReadableEvents whose changes say "基础价 ¥96.00 → ¥98.00" and "买方 西湖便利店". The ids a
page mentions are looked up in one query per kind (organisations, users, products, categories,
regions), whatever the number of rows. Fields and actions not listed show their code: the log
never hides what was recorded. The web layer formats the money (`Value.kind == "money"`) and
passes the labels of codes the services do not own (channels, customer types) as `code_labels`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Category, Organisation, Product, Region, User, vocabulary
from app.models.rebates import RebatePayout
from app.services.core.messages import render

FIELD_LABELS = {
    "code": _l("编码"), "name": _l("名称"), "name_zh": _l("中文名称"), "name_en": _l("英文名称"), "gtin": _l("条码"),
    "category_id": _l("分类"), "spec": _l("规格"), "unit": _l("单位"), "pack_size": _l("每箱数量"),
    "min_order_qty": _l("起订量"), "order_multiple": _l("订货倍数"), "shelf_life_days": _l("保质期（天）"),
    "tax_rate": _l("税率"), "status": _l("状态"), "launch_date": _l("上市日期"), "base_price_fen": _l("基础价"),
    "price_fen": _l("价格"), "min_qty": _l("起订数量"), "customer_id": _l("客户"), "product_id": _l("商品"),
    "valid_from": _l("生效日期"), "valid_to": _l("失效日期"), "reference": _l("参考号"), "audience": _l("客户类型"),
    "tier": _l("等级"), "channel": _l("渠道"), "region_id": _l("地区"), "priority": _l("优先级"), "active": _l("启用"),
    "buyer_id": _l("买方"), "seller_id": _l("卖方"), "number": _l("单号"), "line_count": _l("商品种数"),
    "total_fen": _l("金额"), "tax_fen": _l("税额"), "note": _l("说明"), "reason": _l("原因"), "qty": _l("数量"),
    "on_hand": _l("在库"), "username": _l("用户名"), "role": _l("角色"), "org_id": _l("所属单位"),
    "display_name": _l("姓名"), "email": _l("邮箱"), "permissions": _l("权限"), "locale": _l("语言"),
    "rep_id": _l("业务员"), "month": _l("月份"), "target_fen": _l("目标金额"), "amount_fen": _l("金额"),
    "balance_fen": _l("余额"), "cost_fen": _l("成本"), "carrier": _l("承运商"), "tracking_no": _l("运单号"),
    "method": _l("方式"), "sort_order": _l("排序"), "safety_stock": _l("安全库存"), "reorder_point": _l("再订货点"),
    "lead_time_days": _l("补货周期（天）"), "min_remaining_pct": _l("最低剩余保质期（%）"), "owner_id": _l("归属"),
    "is_default": _l("默认"), "item_id": _l("价格行"), "product_code": _l("商品编码"),
    "customer_code": _l("客户编码"), "weekday": _l("星期"), "retailer_id": _l("零售商"), "batch_no": _l("批号"),
    "disposition": _l("处理方式"), "shipment": _l("发货单"), "received_on": _l("收款日期"), "due_on": _l("到期日"),
    "lines": _l("明细"), "open_after": _l("剩余待发"), "credit_note": _l("红字单"), "reasons": _l("原因"),
    "messages": _l("说明"), "auto_approve": _l("自动审核"),
    "kind": _l("类型"), "campaign_id": _l("活动"), "order_id": _l("订单"), "invoice_id": _l("发票"),
    "dealer_id": _l("经销商"), "pool": _l("累计认购（箱）"), "result": _l("结果"), "cancelled": _l("已取消"),
    "credit_notes": _l("红字单数"), "credited_fen": _l("红字金额"), "final_price_fen": _l("成交价"),
    "deposit_fen": _l("定金"), "forfeited_fen": _l("没收定金"), "refunded_fen": _l("退还定金"), "rule": _l("规则"),
    "orders": _l("订单数"), "drafted": _l("生成结算单数"), "drafted_fen": _l("结算金额"), "pass": _l("轮次"),
    "payout": _l("兑付方式"), "posted_fen": _l("入账金额"), "period_start": _l("期间开始"), "period_end": _l("期间结束"),
    "as_of": _l("截至"), "source_ref": _l("来源单号"), "scale": _l("规模"), "rows": _l("行数"),
}

ACTION_LABELS = {
    "product.create": _l("新建商品"), "product.update": _l("修改商品"), "product.cost": _l("修改成本"),
    "product.image.update": _l("更换商品图片"), "product.image.delete": _l("删除商品图片"),
    "product.visibility.create": _l("新增可见范围规则"), "product.visibility.delete": _l("删除可见范围规则"),
    "category.create": _l("新建分类"), "category.update": _l("修改分类"), "category.delete": _l("删除分类"),
    "price_list.create": _l("新建价目表"), "price_list.update": _l("修改价目表"), "price_list.delete": _l("删除价目表"),
    "price_list.item.create": _l("新增价格"), "price_list.item.update": _l("修改价格"),
    "price_list.item.delete": _l("删除价格"), "contract_price.create": _l("新建合同价"),
    "contract_price.update": _l("修改合同价"), "contract_price.delete": _l("删除合同价"),
    "user.create": _l("新建用户"), "user.update": _l("修改用户"), "user.password": _l("修改密码"),
    "user.password_reset": _l("重置密码"), "rep_route.create": _l("加入拜访路线"),
    "rep_route.update": _l("修改拜访路线"), "rep_route.delete": _l("移出拜访路线"), "rep_target.set": _l("设定业务员目标"),
    "order.submit": _l("提交订单"), "order.status": _l("订单状态变更"), "order.ship": _l("发货"),
    "order.cancel_rest": _l("取消剩余数量"), "order.credit_override": _l("超出信用仍审核"),
    "return.request": _l("申请退货"), "return.accept": _l("接受退货"), "return.refuse": _l("拒绝退货"),
    "payment.record": _l("登记收款"), "prepayment.topup": _l("预存款充值"), "stock.receive": _l("入库"),
    "stock.adjust": _l("库存调整"), "stock.expire": _l("批次报废"), "stock.reorder_rule": _l("修改补货规则"),
    "stock.reorder_rules.compute": _l("计算补货规则"), "stock.count.open": _l("开始盘点"),
    "stock.count.post": _l("盘点过账"), "stock.count.cancel": _l("取消盘点"),
    "stock.shelf_life_rule.create": _l("新增保质期规则"), "stock.shelf_life_rule.delete": _l("删除保质期规则"),
    "transfer.create": _l("新建调拨单"), "warehouse.create": _l("新建仓库"),
    "transfer.created": _l("新建调拨单"), "transfer.shipped": _l("调拨发出"), "transfer.received": _l("调拨收货"),
    "transfer.cancelled": _l("取消调拨单"), "approval.policy": _l("修改自动审核规则"),
    "carrier_trust.set": _l("设置信任的承运商"), "credit.settings": _l("修改信用设置"),
    "credit_note.issue": _l("开具红字单"), "invoice.issue": _l("开具发票"), "delivery.sign_off": _l("签收"),
    "delivery.code_failed": _l("签收码错误"), "order.reduce": _l("减少订货数量"),
    "order.groupbuy_raise": _l("团购成团改价"), "demo.seed": _l("生成演示数据"), "import.apply": _l("确认导入"),
    "launch_plan.set": _l("设定新品上市计划"), "loyalty.gift": _l("保存积分礼品"), "loyalty.settings": _l("修改积分设置"),
    "payment_intent.create": _l("发起在线支付"), "payment_intent.paid": _l("在线支付成功"),
    "payment_intent.refund": _l("在线支付退款"), "promotion.approve": _l("批准促销"), "coupon.issue": _l("发放优惠券"),
    "promotion_dealer_limit.update": _l("修改经销商促销额度"), "promotion_settlement.run": _l("运行促销结算"),
    "promotion_settlement.approve": _l("批准促销结算"), "rebate_agreement.save": _l("保存返利协议"),
    "rebate_settlement.run": _l("运行返利结算"), "rebate_settlement.approve": _l("批准返利结算"),
    "presale.save": _l("保存预售活动"), "presale.item": _l("保存预售商品"), "presale.status": _l("预售状态变更"),
    "presale.release_requested": _l("申请发布预售"), "presale.order": _l("预售下单"),
    "presale.balance_paid": _l("支付预售尾款"), "presale.unpaid": _l("未付尾款"),
    "groupbuy.save": _l("保存团购活动"), "groupbuy.publish": _l("发布团购活动"), "groupbuy.commit": _l("参加团购"),
    "groupbuy.close": _l("结束团购"),
}

ENTITY_LABELS = {
    "product": _l("商品"), "category": _l("分类"), "price_list": _l("价目表"), "contract_price": _l("合同价"),
    "user": _l("用户"), "order": _l("订单"), "return": _l("退货"), "rep_route": _l("拜访路线"),
    "rep_target": _l("业务员目标"), "warehouse": _l("仓库"), "stock_lot": _l("批次"), "stock_count": _l("盘点单"),
    "transfer": _l("调拨单"), "shelf_life_rule": _l("保质期规则"), "payment": _l("收款"),
    "prepayment_account": _l("预存款账户"), "organisation": _l("单位"),
    "approval_policy": _l("自动审核规则"), "credit_note": _l("红字单"), "invoice": _l("发票"), "database": _l("数据库"),
    "import_batch": _l("导入批次"), "points_gift": _l("积分礼品"), "loyalty_settings": _l("积分设置"),
    "payment_intent": _l("在线支付"), "promotion": _l("促销"), "promotion_dealer_limit": _l("经销商促销额度"),
    "promotion_settlement": _l("促销结算"), "promotion_settlement_run": _l("促销结算批次"),
    "rebate_agreement": _l("返利协议"), "rebate_settlement": _l("返利结算"), "rebate_run": _l("返利结算批次"),
    "presale_campaign": _l("预售活动"), "groupbuy_campaign": _l("团购活动"), "groupbuy_commitment": _l("团购认购"),
}

# Which table an id field points at: its value is shown as the record's name.
REFERENCES = {"buyer_id": "org", "seller_id": "org", "customer_id": "org", "owner_id": "org", "org_id": "org",
              "retailer_id": "org", "rep_id": "user", "product_id": "product", "category_id": "category",
              "region_id": "region", "dealer_id": "org"}
# A "status" field's vocabulary, by the entity the event is about.
STATUS_BY_ENTITY = {"order": vocabulary.OrderStatus, "product": vocabulary.ProductStatus,
                    "return": vocabulary.ReturnStatus, "transfer": vocabulary.TransferStatus,
                    "stock_count": vocabulary.CountStatus, "presale_campaign": vocabulary.PresaleStatus,
                    "groupbuy_campaign": vocabulary.GroupBuyStatus, "promotion": vocabulary.PromotionStatus}
CODED = {"role": vocabulary.Role.labels(), "method": vocabulary.PaymentMethod.labels(),
         "disposition": vocabulary.ReturnDisposition.labels(), "kind": vocabulary.OrderKind.labels(),
         "result": vocabulary.GroupBuyResult.labels(), "rule": vocabulary.PresaleRule.labels(),
         "payout": RebatePayout.labels()}
YES, NO = _l("是"), _l("否")


@dataclass(frozen=True)
class Value:
    """One side of a change: `kind` "money" (fen, shown in yuan), "message" (a stored message or
    text, shown in the reader's language) or "text" (a label or a name, shown as it is)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Change:
    label: Any
    before: Value | None  # None: the field is not in that snapshot (created, deleted)
    after: Value | None


@dataclass(frozen=True)
class ReadableEvent:
    event: AuditEvent
    actor: str | None
    action: Any
    entity: Any
    changes: list[Change] = field(default_factory=list)


def readable(rows, locale: str = "zh", code_labels: Mapping[str, Mapping] | None = None) -> list[ReadableEvent]:
    """(AuditEvent, username) rows → ReadableEvents, names looked up once per kind for all rows."""
    rows = list(rows)
    names = _names(rows, locale)
    labels = dict(CODED, **(code_labels or {}))
    out = []
    for event, username in rows:
        before, after = _as_dict(event.before), _as_dict(event.after)
        keys = list(dict.fromkeys([*before, *after]))
        changes = [Change(FIELD_LABELS.get(key, key),
                          _value(event.entity, key, before[key], names, labels) if key in before else None,
                          _value(event.entity, key, after[key], names, labels) if key in after else None)
                   for key in keys]
        out.append(ReadableEvent(event, username, ACTION_LABELS.get(event.action, event.action),
                                 ENTITY_LABELS.get(event.entity, event.entity), changes))
    return out


def _as_dict(snapshot) -> dict:
    return snapshot if isinstance(snapshot, dict) else {}


def _names(rows, locale: str) -> dict[str, dict[int, str]]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for event, _username in rows:
        for snapshot in (event.before, event.after):
            if isinstance(snapshot, dict):
                for key, value in snapshot.items():
                    if key in REFERENCES and isinstance(value, int) and not isinstance(value, bool):
                        wanted[REFERENCES[key]].add(value)
    english = locale == "en"
    found: dict[str, dict[int, str]] = {}
    if wanted["org"]:
        found["org"] = {i: n for i, n in db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted["org"])))}
    if wanted["user"]:
        found["user"] = {i: d or u for i, d, u in db.session.execute(
            select(User.id, User.display_name, User.username).where(User.id.in_(wanted["user"])))}
    if wanted["product"]:
        found["product"] = {i: f"{c} {(e if english and e else z)}" for i, c, z, e in db.session.execute(
            select(Product.id, Product.code, Product.name_zh, Product.name_en).where(Product.id.in_(wanted["product"])))}
    if wanted["category"]:
        found["category"] = {i: (e if english and e else z) for i, z, e in db.session.execute(
            select(Category.id, Category.name_zh, Category.name_en).where(Category.id.in_(wanted["category"])))}
    if wanted["region"]:
        found["region"] = {i: n for i, n in db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_(wanted["region"])))}
    return found


def _value(entity: str, key: str, value, names, labels) -> Value:
    if value is None or value == "":
        return Value("text", "—")
    if isinstance(value, bool):
        return Value("text", YES if value else NO)
    if key.endswith("_fen") and isinstance(value, int):
        return Value("money", value)
    if key in REFERENCES and isinstance(value, int):
        name = names.get(REFERENCES[key], {}).get(value)
        return Value("text", f"{name} (#{value})" if name else f"#{value}")
    if key == "status" and entity in STATUS_BY_ENTITY:
        return Value("text", STATUS_BY_ENTITY[entity].label_of(value))
    if key in labels and isinstance(value, str):
        return Value("text", labels[key].get(value, value))
    if isinstance(value, dict) and "code" in value:
        return Value("message", value)
    if isinstance(value, list):
        return Value("text", ", ".join(render(item) for item in value))
    if isinstance(value, dict):  # e.g. shipped quantities by line
        return Value("text", ", ".join(f"{k}: {render(v)}" for k, v in value.items()))
    return Value("message", value)
