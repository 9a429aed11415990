"""Presale (预售): the brand's campaigns and the orders retailers place in them.

Scope: retailers. A presale order is routed like any order (to the dealer serving the shop,
routing.seller_for) and waits as an `Order` of kind 'presale' in status 'presale_held':
nothing is reserved and the dealer's desk offers no action on it (lifecycle.seller_actions);
dealers see it in their presale pipeline. presale_release.py releases it into the normal flow.

Money, the written rule:
- deposit = order total × deposit_pct / 100, rounded half up ONCE on the order total (fen),
  at least 1 fen; balance = total − deposit. deposit_pct 100 is full prepayment (balance 0).
- The deposit is taken at order time from the buyer's prepayment balance (预存款) with its
  seller, all or nothing; a short balance refuses the order (top up first). Nothing is "due"
  before the release.
- At release the balance is settled by the order's payment method: prepayment → taken from the
  prepayment balance if it covers it (else due, the buyer pays it from the prepayment balance
  on "my presale orders" before balance_closes_on); credit → on account when the credit check
  passes (else due); cash on delivery → collected on delivery.
- An order still due after the balance window is cancelled (presale_release.cancel_unpaid):
  its allocation goes back and its deposit is refunded by a credit note, or forfeited, per the
  campaign's rule. An order the seller cancels or rejects after the release gets everything it
  paid back by a credit note (`order_withdrawn`).
- What the prepayment paid settles the order's invoice when it is issued (`apply_held_money`).

Allocation: `PresaleItem.committed_qty` (cap: planned_qty) and the buyer's `PresaleBuyerQty`
(cap: per_customer_limit) change only by conditional UPDATEs in the order's transaction, item
first then buyer (one lock order: no deadlock), so the last units are never sold twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Order, OrderEvent, OrderLine, Organisation, Product, User
from app.models.presale import PresaleBuyerQty, PresaleCampaign, PresaleItem, PresaleOrder
from app.models.vocabulary import (OrderKind, OrderPayment, OrderStatus, PresaleBalance, PresaleRule,
                                   PresaleStatus)
from app.services.core import audit
from app.services.core.clock import now_utc, today_local
from app.services.core.errors import DomainError, NotFound
from app.services.credit import payments
from app.services.ordering import delivery_terms, routing
from app.services.ordering.cart import tax_included
from app.services.ordering.orders import IDEMPOTENCY_KEY, order_number
from app.services.promotions.engine import half_up_div

MAX_QTY = 100_000
EDITABLE = (PresaleStatus.DRAFT.value,)


# --- the maths ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    total_fen: int
    deposit_fen: int
    balance_fen: int


def split(unit_price_fen: int, qty: int, deposit_pct: int) -> Split:
    """The order total and its deposit and balance (the one rounding: the deposit, half up)."""
    total = unit_price_fen * qty
    deposit = total if deposit_pct >= 100 else max(1, half_up_div(total * deposit_pct, 100))
    return Split(total, deposit, total - deposit)


# --- campaigns (brand) --------------------------------------------------------------------------

@dataclass
class CampaignInput:
    code: str
    name: str
    deposit_pct: int
    non_payment: str
    deposit_opens_on: date
    deposit_closes_on: date
    release_on: date
    balance_opens_on: date
    balance_closes_on: date


def _check_campaign(values: CampaignInput, campaign_id: int | None) -> None:
    if not 1 <= values.deposit_pct <= 100:
        raise DomainError(_("定金比例须在 1 到 100 之间（100 为全款预付）。"), field="deposit_pct")
    if values.non_payment not in PresaleRule.values():
        raise DomainError(_("请选择未付尾款时定金的处理方式。"), field="non_payment")
    if values.deposit_closes_on < values.deposit_opens_on:
        raise DomainError(_("定金截止日不能早于开始日。"), field="deposit_closes_on")
    if values.release_on <= values.deposit_closes_on:
        raise DomainError(_("发布日须晚于定金截止日。"), field="release_on")
    if values.balance_closes_on < values.balance_opens_on:
        raise DomainError(_("尾款截止日不能早于开始日。"), field="balance_closes_on")
    if values.balance_closes_on < values.release_on:
        raise DomainError(_("尾款截止日不能早于发布日。"), field="balance_closes_on")
    taken = db.session.scalar(select(PresaleCampaign.id).where(PresaleCampaign.code == values.code.strip(),
                                                               PresaleCampaign.id != (campaign_id or 0)))
    if taken:
        raise DomainError(_("编号已被使用。"), field="code")


def campaign(campaign_id: int, *, lock: bool = False) -> PresaleCampaign:
    """A campaign (campaigns are the brand's: any admin holding "marketing" sees them all)."""
    query = select(PresaleCampaign).where(PresaleCampaign.id == campaign_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None:
        raise NotFound(_("预售活动不存在。"))
    return row


def save_campaign(actor: User, values: CampaignInput, campaign_id: int | None = None) -> PresaleCampaign:
    _check_campaign(values, campaign_id)
    if campaign_id is None:
        row = PresaleCampaign(created_by_id=actor.id, status=PresaleStatus.DRAFT.value)
        db.session.add(row)
        before = None
    else:
        row = campaign(campaign_id, lock=True)
        if row.status not in EDITABLE:
            raise DomainError(_("只有草稿状态的预售活动可以修改。"))
        before = {"code": row.code, "deposit_pct": row.deposit_pct}
    for name, value in vars(values).items():
        setattr(row, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    audit.record(actor.id, "presale.save", "presale_campaign", row.id, before,
                 {"code": row.code, "deposit_pct": row.deposit_pct, "release_on": row.release_on.isoformat()})
    return row


def add_item(actor: User, campaign_id: int, *, product_code: str, price_fen: int | None, planned_qty: int | None,
             per_customer_limit: int | None) -> PresaleItem:
    row = campaign(campaign_id, lock=True)
    if row.status not in EDITABLE:
        raise DomainError(_("只有草稿状态的预售活动可以添加商品。"))
    product = db.session.scalar(select(Product).where(Product.code == (product_code or "").strip()))
    if product is None:
        raise DomainError(_("没有这个商品编码。"), field="product_code")
    if any(item.product_id == product.id for item in row.items):
        raise DomainError(_("该商品已在本活动中。"), field="product_code")
    if not price_fen or price_fen <= 0:
        raise DomainError(_("请输入预售价。"), field="price")
    if not planned_qty or not 0 < planned_qty <= 10_000_000:
        raise DomainError(_("计划数量须大于 0。"), field="planned_qty")
    if per_customer_limit is not None and per_customer_limit <= 0:
        raise DomainError(_("每店限购须大于 0。"), field="per_customer_limit")
    item = PresaleItem(campaign_id=row.id, product_id=product.id, price_fen=price_fen, planned_qty=planned_qty,
                       committed_qty=0, per_customer_limit=per_customer_limit)
    db.session.add(item)
    db.session.flush()
    audit.record(actor.id, "presale.item", "presale_campaign", row.id, None,
                 {"product": product.code, "price_fen": price_fen, "planned_qty": planned_qty})
    return item


def _move(actor: User, campaign_id: int, allowed: tuple[str, ...], to: str) -> PresaleCampaign:
    row = campaign(campaign_id, lock=True)
    if row.status not in allowed:
        raise DomainError(_("活动当前状态为“%(now)s”，不能改为“%(to)s”。", now=PresaleStatus.label_of(row.status),
                            to=PresaleStatus.label_of(to)))
    before, row.status = row.status, to
    db.session.flush()
    audit.record(actor.id, "presale.status", "presale_campaign", row.id, {"status": before}, {"status": to})
    return row


def open_campaign(actor: User, campaign_id: int) -> PresaleCampaign:
    if not campaign(campaign_id).items:
        raise DomainError(_("请先添加至少一个预售商品。"))
    return _move(actor, campaign_id, (PresaleStatus.DRAFT.value,), PresaleStatus.OPEN.value)


def close_campaign(actor: User, campaign_id: int) -> PresaleCampaign:
    return _move(actor, campaign_id, (PresaleStatus.OPEN.value,), PresaleStatus.CLOSED.value)


def request_release(actor: User, campaign_id: int) -> PresaleCampaign:
    """The release button: the job (jobs/presale.py) releases the orders after this commit."""
    from app.queue import enqueue_after_commit

    row = campaign(campaign_id, lock=True)
    if row.status not in (PresaleStatus.OPEN.value, PresaleStatus.CLOSED.value):
        raise DomainError(_("活动当前状态为“%(now)s”，不能发布。", now=PresaleStatus.label_of(row.status)))
    audit.record(actor.id, "presale.release_requested", "presale_campaign", row.id, None, {"status": row.status})
    enqueue_after_commit("jobs.presale.release_job", row.id, actor.id, job_id=f"presale-release-{row.id}")
    return row


# --- retailers' orders --------------------------------------------------------------------------

def open_item(item_id: int, today: date | None = None) -> PresaleItem:
    """An item a retailer may order today: its campaign is open and in its deposit window."""
    today = today or today_local()
    item = db.session.scalar(select(PresaleItem).join(PresaleCampaign).where(
        PresaleItem.id == item_id, PresaleCampaign.status == PresaleStatus.OPEN.value,
        PresaleCampaign.deposit_opens_on <= today, PresaleCampaign.deposit_closes_on >= today)
        .options(joinedload(PresaleItem.campaign), joinedload(PresaleItem.product)))
    if item is None:
        raise NotFound(_("预售商品不存在或已截止。"))
    return item


def _consume(item: PresaleItem, buyer_id: int, qty: int) -> None:
    """The allocation, then the buyer's share: conditional UPDATEs, item row first."""
    taken = db.session.execute(update(PresaleItem).where(
        PresaleItem.id == item.id, PresaleItem.committed_qty + qty <= PresaleItem.planned_qty)
        .values(committed_qty=PresaleItem.committed_qty + qty).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        left = db.session.scalar(select(PresaleItem.planned_qty - PresaleItem.committed_qty)
                                 .where(PresaleItem.id == item.id))
        raise DomainError(_("预售名额不足：只剩 %(n)d。", n=max(0, left or 0)), field="qty")
    _insert_ignoring_conflict(PresaleBuyerQty, ["item_id", "buyer_id"], dict(item_id=item.id, buyer_id=buyer_id, qty=0))
    condition = [PresaleBuyerQty.item_id == item.id, PresaleBuyerQty.buyer_id == buyer_id]
    if item.per_customer_limit is not None:
        condition.append(PresaleBuyerQty.qty + qty <= item.per_customer_limit)
    mine = db.session.execute(update(PresaleBuyerQty).where(*condition).values(qty=PresaleBuyerQty.qty + qty)
                              .execution_options(synchronize_session=False)).rowcount
    if mine != 1:
        held = db.session.scalar(select(PresaleBuyerQty.qty).where(*condition[:2])) or 0
        raise DomainError(_("每店限购 %(limit)d，您已预订 %(held)d。", limit=item.per_customer_limit, held=held),
                          field="qty")


def _insert_ignoring_conflict(model, keys: list[str], values: dict) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL, SQLite): the new row's first key column, or
    None when the row exists (a concurrent insert waits for the other transaction, then yields).
    No savepoint: on SQLite a savepoint opened before any write would commit on release."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    returned = model.__table__.c.id if "id" in model.__table__.c else model.__table__.c[keys[0]]
    return db.session.scalar(upsert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
                             .returning(returned))


def give_back(item_id: int, buyer_id: int, qty: int) -> None:
    """An order left the presale: its allocation is free again."""
    db.session.execute(update(PresaleItem).where(PresaleItem.id == item_id)
                       .values(committed_qty=PresaleItem.committed_qty - qty)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(PresaleBuyerQty).where(PresaleBuyerQty.item_id == item_id,
                                                     PresaleBuyerQty.buyer_id == buyer_id)
                       .values(qty=PresaleBuyerQty.qty - qty).execution_options(synchronize_session=False))


def place_order(actor: User, buyer: Organisation, item_id: int, qty: int | None, payment_method: str | None,
                idempotency_key: str) -> PresaleOrder:
    """A retailer's presale order: allocation taken, deposit paid from its prepayment balance,
    the order held until release. A repeat with the same key returns the order already made."""
    key = (idempotency_key or "").strip()
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise DomainError(_("提交无效，请刷新页面后重试。"), field="idempotency_key")
    if buyer.kind != "retailer":
        raise NotFound(_("预售商品不存在或已截止。"))
    item = open_item(item_id)
    if not isinstance(qty, int) or not 0 < qty <= MAX_QTY:
        raise DomainError(_("请输入数量。"), field="qty")
    if payment_method not in OrderPayment.values():
        raise DomainError(_("请选择尾款付款方式。"), field="payment_method")
    facts = delivery_terms.checkout_facts(buyer)
    delivery_terms.chosen_payment(buyer, payment_method, facts.payment)  # 赊账 only for a shop on credit
    repeat = db.session.scalar(select(PresaleOrder).join(Order, Order.id == PresaleOrder.order_id)
                               .where(Order.buyer_id == buyer.id, Order.idempotency_key == key))
    if repeat is not None:
        return repeat
    seller = routing.seller_for(buyer)
    money = split(item.price_fen, qty, item.campaign.deposit_pct)
    product = item.product
    # Delivery from the release day: the first day the seller delivers to the shop from then on.
    delivery = delivery_terms.delivery_dates(facts.weekdays,
                                             item.campaign.release_on - timedelta(days=1))[0]
    now = now_utc()
    order_id = _insert_ignoring_conflict(Order, ["buyer_id", "idempotency_key"], dict(
        buyer_id=buyer.id, seller_id=seller.id, placed_by_id=actor.id, kind=OrderKind.PRESALE.value,
        status=OrderStatus.PRESALE_HELD.value, line_count=1, total_fen=money.total_fen,
        tax_fen=tax_included(money.total_fen, product.tax_rate), idempotency_key=key, delivery_date=delivery,
        delivery_address=(buyer.address or "").strip() or None, payment_method=payment_method, created_at=now,
        updated_at=now, note=_("预售 %(code)s", code=item.campaign.code), number=None, channel="web",
        cart_fingerprint=None))
    if order_id is None:  # the same submit, committed by a concurrent request
        return db.session.scalar(select(PresaleOrder).join(Order, Order.id == PresaleOrder.order_id)
                                 .where(Order.buyer_id == buyer.id, Order.idempotency_key == key))
    # The number in one UPDATE that keeps updated_at (an ORM change of the row would move it).
    db.session.execute(update(Order).where(Order.id == order_id)
                       .values(number=order_number(order_id, now), updated_at=now)
                       .execution_options(synchronize_session=False))
    order = db.session.get(Order, order_id)
    _consume(item, buyer.id, qty)
    payments.hold_prepayment(actor.id, customer_id=buyer.id, seller_id=seller.id, amount_fen=money.deposit_fen,
                             reference=order.number, note=_("预售定金"))
    db.session.add(OrderLine(order_id=order.id, product_id=product.id, qty=qty, unit_price_fen=item.price_fen,
                             price_basis={"code": "price.presale", "params": {"code": item.campaign.code}},
                             tax_rate=product.tax_rate, line_total_fen=money.total_fen,
                             tax_fen=order.tax_fen))
    db.session.add(OrderEvent(order_id=order.id, at=now, actor_id=actor.id, from_status=None,
                              to_status=OrderStatus.PRESALE_HELD.value))
    row = PresaleOrder(order_id=order.id, campaign_id=item.campaign_id, item_id=item.id, buyer_id=buyer.id,
                       seller_id=seller.id, qty=qty, total_fen=money.total_fen, deposit_fen=money.deposit_fen,
                       balance_fen=money.balance_fen, deposit_paid_fen=money.deposit_fen, balance_paid_fen=0,
                       applied_fen=0, balance=PresaleBalance.HELD.value, created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record(actor.id, "presale.order", "order", order.id, None,
                 {"number": order.number, "item_id": item.id, "qty": qty, "deposit_fen": money.deposit_fen})
    return row


def pay_balance(actor: User, buyer: Organisation, presale_order_id: int) -> PresaleOrder:
    """The buyer pays a due balance from its prepayment balance, within the balance window."""
    row = db.session.scalar(select(PresaleOrder).where(PresaleOrder.id == presale_order_id,
                                                       PresaleOrder.buyer_id == buyer.id)
                            .with_for_update().execution_options(populate_existing=True))
    if row is None:
        raise NotFound(_("预售订单不存在。"))
    if row.balance != PresaleBalance.DUE.value:
        raise DomainError(_("这笔预售订单没有待付的尾款。"))
    today = today_local()
    if not row.campaign.balance_opens_on <= today <= row.campaign.balance_closes_on:
        raise DomainError(_("不在尾款支付期内（%(a)s 至 %(b)s）。", a=row.campaign.balance_opens_on.isoformat(),
                            b=row.campaign.balance_closes_on.isoformat()))
    payments.hold_prepayment(actor.id, customer_id=row.buyer_id, seller_id=row.seller_id, amount_fen=row.balance_fen,
                             reference=row.order.number or "", note=_("预售尾款"))
    row.balance_paid_fen, row.balance = row.balance_fen, PresaleBalance.PAID.value
    db.session.flush()
    audit.record(actor.id, "presale.balance_paid", "order", row.order_id, None, {"amount_fen": row.balance_fen})
    return row
