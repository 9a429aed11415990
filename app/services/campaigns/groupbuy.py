"""Territory group-buys (集单/团购): campaigns, who may join them, the pool and the commitments.
Creating and publishing campaigns is in groupbuy_admin.py; closing them (re-pricing, credit
notes, cancellations) in groupbuy_close.py.

The rules, written once here:
- Owner: the brand (for a region: every retailer whose region lies in it may join) or a dealer
  (the retailers routed to it, `routing.seller_for`). draft → open (published; only a draft can
  be edited) → closed, succeeded or failed.
- Ladder: `base_price_fen` until the pool reaches the first tier; a tier applies from its
  `min_qty` inclusive ("500 箱起 ¥45": the 500th pooled case unlocks it for everyone).
- A commitment is one order (kind 'groupbuy') per retailer and campaign, routed to the serving
  dealer, billed at the tier price of the pool *including its own cases*; it is not
  auto-approved (the close decides). The retailer types its total quantity, within the
  campaign's per-retailer min/max: a first commitment, or a raise (more than now) while the
  window is open and the seller has not accepted the order (submitted or on hold). A raise
  keeps the one order line, priced at the lower of its price and the current tier price.
  Lowering = withdrawing (same conditions; the order is cancelled) and committing again.
- Nobody pays more than it committed at: the close prices each commitment at
  min(committed, reached) and credits the difference.
- The pool (`pool_qty`) changes only by one conditional UPDATE (open, inside the window, within
  `cap_qty`), so concurrent commitments are counted exactly and never pass the cap; the close
  locks the campaign row first, so a commitment racing it is refused once it has closed.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Order, OrderEvent, OrderLine, OrderStatus, Organisation, OrgKind, User
from app.models.groupbuy import GroupBuyCampaign, GroupBuyCommitment, GroupBuyStatus
from app.models.vocabulary import OrderChannel, OrderKind
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import DomainError, NotFound
from app.services.core.messages import message
from app.services.integrations import outbox
from app.services.ordering import delivery_terms, lifecycle, routing
from app.services.ordering.cart import tax_included
from app.services.ordering.orders import order_number

MAX_QTY = 99_999
MAX_TIERS = 8
MAX_PRICE_FEN = 10_000_000
UNACCEPTED = lifecycle.BUYER_MAY_CANCEL  # the seller has not accepted the order yet
ACTIVE, CANCELLED = "active", "cancelled"


# --- the ladder ----------------------------------------------------------------------------------

def price_at(campaign: GroupBuyCampaign, pool_qty: int) -> int:
    """Everyone's price per case when `pool_qty` cases are pooled (tiers inclusive)."""
    price = campaign.base_price_fen
    for tier in sorted(campaign.tiers, key=lambda t: t.min_qty):
        if pool_qty >= tier.min_qty:
            price = tier.unit_price_fen
    return price


@dataclass(frozen=True)
class Rung:
    min_qty: int
    price_fen: int
    reached: bool


@dataclass(frozen=True)
class PoolView:
    """What the pool fragment shows: "412 / 500 箱, 还差 88 箱", the ladder and the price now."""

    pool: int
    min_pool: int
    price_fen: int
    ladder: list[Rung]
    next_rung: Rung | None

    @property
    def short_of_min(self) -> int:
        return max(0, self.min_pool - self.pool)

    @property
    def short_of_next(self) -> int:
        return self.next_rung.min_qty - self.pool if self.next_rung else 0

    @property
    def percent(self) -> int:
        return min(100, self.pool * 100 // self.min_pool) if self.min_pool else 100


def pool_view(campaign: GroupBuyCampaign) -> PoolView:
    pool = campaign.pool_qty
    ladder = [Rung(0, campaign.base_price_fen, True)] + [
        Rung(t.min_qty, t.unit_price_fen, pool >= t.min_qty) for t in sorted(campaign.tiers, key=lambda t: t.min_qty)]
    upcoming = [rung for rung in ladder if not rung.reached]
    price = campaign.final_price_fen if campaign.final_price_fen is not None else price_at(campaign, pool)
    return PoolView(pool, campaign.min_pool_qty, price, ladder, upcoming[0] if upcoming else None)


# --- who sees which campaigns -----------------------------------------------------------------

def campaigns_visible_to(user: User, retailer: Organisation | None = None):
    """The one scope: the brand sees every campaign, a dealer its own, a retailer the published
    campaigns of its territory (its serving dealer's, and the brand's for a region it lies in)."""
    query = select(GroupBuyCampaign)
    if user.role == "admin":
        return query
    if user.role == "dealer":
        return query.where(GroupBuyCampaign.owner_id == user.org_id)
    if user.role == "retailer":
        return query.where(GroupBuyCampaign.status != GroupBuyStatus.DRAFT.value, _territory_clause(retailer or user.org))
    raise NotFound(_("团购不存在。"))


def _territory_clause(retailer: Organisation):
    regions = retailer.region.ancestor_ids() if retailer.region_id else []
    seller = routing.seller_for(retailer)
    dealer_campaign = GroupBuyCampaign.owner_id == seller.id if seller.kind == OrgKind.DEALER.value else None
    brand_campaign = GroupBuyCampaign.region_id.in_(regions) if regions else None
    clauses = [c for c in (dealer_campaign, brand_campaign) if c is not None]
    return or_(*clauses) if clauses else GroupBuyCampaign.id.is_(None)


def list_campaigns(user: User, limit: int = 100) -> list[GroupBuyCampaign]:
    """Open ones first, then the newest (owner, product, region and tiers in three queries)."""
    query = campaigns_visible_to(user).options(joinedload(GroupBuyCampaign.owner), joinedload(GroupBuyCampaign.product),
                                               joinedload(GroupBuyCampaign.region), selectinload(GroupBuyCampaign.tiers))
    order = (GroupBuyCampaign.status != GroupBuyStatus.OPEN.value, GroupBuyCampaign.ends_at.desc(), GroupBuyCampaign.id.desc())
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def campaign_for(user: User, campaign_id: int) -> GroupBuyCampaign:
    campaign = db.session.scalar(campaigns_visible_to(user).where(GroupBuyCampaign.id == campaign_id).options(
        joinedload(GroupBuyCampaign.product), joinedload(GroupBuyCampaign.owner), selectinload(GroupBuyCampaign.tiers)))
    if campaign is None:
        raise NotFound(_("团购不存在。"))
    return campaign


def commitments_of(campaign: GroupBuyCampaign) -> list[GroupBuyCommitment]:
    """Every shop's commitment (the owner's and the brand's view), biggest first."""
    return list(db.session.scalars(
        select(GroupBuyCommitment).where(GroupBuyCommitment.campaign_id == campaign.id)
        .options(joinedload(GroupBuyCommitment.retailer), joinedload(GroupBuyCommitment.order),
                 joinedload(GroupBuyCommitment.credit_note))
        .order_by(GroupBuyCommitment.status, GroupBuyCommitment.qty.desc(), GroupBuyCommitment.id)))


def my_commitment(campaign: GroupBuyCampaign, retailer_id: int) -> GroupBuyCommitment | None:
    return db.session.scalar(select(GroupBuyCommitment).where(
        GroupBuyCommitment.campaign_id == campaign.id, GroupBuyCommitment.retailer_id == retailer_id)
        .options(joinedload(GroupBuyCommitment.order), joinedload(GroupBuyCommitment.credit_note)))


# --- commitments -----------------------------------------------------------------------------------

def _move_pool(campaign: GroupBuyCampaign, delta: int) -> int:
    """Add `delta` cases to the pool in one conditional UPDATE; the new pool, or DomainError."""
    c, now = GroupBuyCampaign, now_utc()
    pool = db.session.execute(
        update(c).where(c.id == campaign.id, c.status == GroupBuyStatus.OPEN.value, c.starts_at <= now, c.ends_at > now,
                        c.pool_qty + delta >= 0, or_(c.cap_qty.is_(None), c.pool_qty + delta <= c.cap_qty))
        .values(pool_qty=c.pool_qty + delta).returning(c.pool_qty).execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if pool is None:
        db.session.refresh(campaign)
        if campaign.status != GroupBuyStatus.OPEN.value or not campaign.starts_at <= now < campaign.ends_at:
            raise DomainError(_("团购不在进行中。"))
        raise DomainError(_("超出团购可供数量，最多还可认购 %(n)d 箱。", n=max(0, campaign.cap_qty - campaign.pool_qty)),
                          field="qty")
    db.session.expire(campaign, ["pool_qty"])
    return pool


def _locked_commitment(campaign_id: int, retailer_id: int) -> GroupBuyCommitment | None:
    return db.session.scalar(select(GroupBuyCommitment).where(
        GroupBuyCommitment.campaign_id == campaign_id, GroupBuyCommitment.retailer_id == retailer_id)
        .with_for_update().execution_options(populate_existing=True))


def commit_quantity(actor: User, retailer: Organisation, campaign_id: int, qty: int) -> GroupBuyCommitment:
    """Make the retailer's commitment `qty` cases (first commitment or raise; see the rules).
    The same quantity again changes nothing (a repeated form post)."""
    campaign = campaign_for(actor, campaign_id) if actor.role == "retailer" else None
    if campaign is None:
        raise NotFound(_("团购不存在。"))
    if not isinstance(qty, int):
        raise DomainError(_("每店至少认购 %(n)d 箱。", n=campaign.min_per_retailer), field="qty")
    commitment = _locked_commitment(campaign.id, retailer.id)
    live = commitment is not None and commitment.status == ACTIVE
    if live and qty == commitment.qty:
        return commitment
    # The direction first: any lowering gets the same answer (withdraw and join again), whether
    # or not the new quantity is also under the per-shop minimum.
    if live and qty < commitment.qty:
        raise DomainError(_("只能增加数量；要减少，请先退出团购再重新参团。"), field="qty")
    if qty < campaign.min_per_retailer:
        raise DomainError(_("每店至少认购 %(n)d 箱。", n=campaign.min_per_retailer), field="qty")
    if qty > (campaign.max_per_retailer or MAX_QTY):
        raise DomainError(_("每店最多认购 %(n)d 箱。", n=campaign.max_per_retailer or MAX_QTY), field="qty")
    order = None
    if live:
        order = db.session.scalar(select(Order).where(Order.id == commitment.order_id, Order.status.in_(UNACCEPTED))
                                  .with_for_update().execution_options(populate_existing=True))
        if order is None:
            raise DomainError(_("订单已被经销商受理，不能再修改数量。"))
    pool = _move_pool(campaign, qty - (commitment.qty if live else 0))
    price = price_at(campaign, pool)
    if live:
        price = min(price, commitment.committed_price_fen)
        _reprice_line(order, qty, price, actor.id)
        commitment.qty, commitment.committed_price_fen = qty, price
    else:
        seller = routing.seller_for(retailer)
        order = _place_order(actor, retailer, seller, campaign, qty, price)
        if commitment is None:
            commitment = GroupBuyCommitment(campaign_id=campaign.id, retailer_id=retailer.id)
            try:
                with db.session.begin_nested():
                    _fill(commitment, seller, order, qty, price)
                    db.session.add(commitment)
            except IntegrityError:  # the same shop committed in another tab a moment ago
                raise DomainError(_("您刚刚已参加这个团购，请刷新页面。")) from None
        else:
            _fill(commitment, seller, order, qty, price)
    db.session.flush()
    audit.record(actor.id, "groupbuy.commit", "groupbuy_commitment", commitment.id, None,
                 {"campaign_id": campaign.id, "qty": qty, "price_fen": price, "order_id": order.id, "pool": pool})
    return commitment


def _fill(commitment: GroupBuyCommitment, seller: Organisation, order: Order, qty: int, price: int) -> None:
    commitment.seller_id, commitment.order_id, commitment.qty = seller.id, order.id, qty
    commitment.committed_price_fen, commitment.status = price, ACTIVE


def _place_order(actor: User, retailer: Organisation, seller: Organisation, campaign: GroupBuyCampaign, qty: int,
                 price: int) -> Order:
    """The commitment's order: one line at the group-buy price, submitted, not auto-approved."""
    product = campaign.product
    total = qty * price
    now = now_utc()
    terms = delivery_terms.checkout_terms(retailer, None)
    order = Order(buyer_id=retailer.id, seller_id=seller.id, placed_by_id=actor.id, channel=OrderChannel.WEB.value,
                  kind=OrderKind.GROUPBUY.value, status=OrderStatus.SUBMITTED.value, line_count=1, total_fen=total,
                  tax_fen=tax_included(total, product.tax_rate), note="", created_at=now, updated_at=now,
                  **terms.columns())
    db.session.add(order)
    db.session.flush()
    # One UPDATE naming updated_at, so it stays the submit event's time (the ORM would stamp a new one).
    db.session.execute(update(Order).where(Order.id == order.id).values(number=order_number(order.id, now), updated_at=now)
                       .execution_options(synchronize_session=False))
    set_committed_value(order, "number", order_number(order.id, now))
    db.session.add(OrderLine(order_id=order.id, product_id=product.id, qty=qty, unit_price_fen=price,
                             price_reason="", price_basis=message("groupbuy.price", name=campaign.name),
                             tax_rate=product.tax_rate, line_total_fen=total, tax_fen=order.tax_fen,
                             discount_fen=0, is_gift=False))
    db.session.add(OrderEvent(order_id=order.id, at=now, actor_id=actor.id, from_status=None,
                              to_status=OrderStatus.SUBMITTED.value))
    db.session.flush()
    outbox.order_status_changed(order, None)
    audit.record(actor.id, "order.submit", "order", order.id, None,
                 {"number": order.number, "kind": order.kind, "total_fen": total, "seller_id": seller.id})
    return order


def _reprice_line(order: Order, qty: int, price: int, actor_id: int) -> None:
    line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    before = {"qty": line.qty, "unit_price_fen": line.unit_price_fen, "total_fen": order.total_fen}
    line.qty, line.unit_price_fen, line.line_total_fen = qty, price, qty * price
    line.tax_fen = tax_included(line.line_total_fen, line.tax_rate)  # one line: rounded once
    order.total_fen, order.tax_fen, order.updated_at = line.line_total_fen, line.tax_fen, now_utc()
    audit.record(actor_id, "order.groupbuy_raise", "order", order.id, before,
                 {"qty": qty, "unit_price_fen": price, "total_fen": order.total_fen})


def withdraw(actor: User, retailer: Organisation, campaign_id: int) -> GroupBuyCommitment:
    """The retailer leaves the campaign: its cases leave the pool and its order is cancelled."""
    campaign = campaign_for(actor, campaign_id) if actor.role == "retailer" else None
    if campaign is None:
        raise NotFound(_("团购不存在。"))
    commitment = _locked_commitment(campaign.id, retailer.id)
    if commitment is None or commitment.status != ACTIVE:
        raise DomainError(_("您没有参加这个团购。"))
    _move_pool(campaign, -commitment.qty)
    order = lifecycle.transition(commitment.order_id, OrderStatus.CANCELLED.value, actor.id,
                                 message("groupbuy.withdrawn", name=campaign.name), expected=UNACCEPTED)
    lifecycle.notify_seller(order, kind="order_cancelled", message="order.cancelled_by_buyer",
                            params={"n": order.number, "note": message("groupbuy.withdrawn", name=campaign.name)})
    commitment.status = CANCELLED
    db.session.flush()
    return commitment


# --- a dealer's view of the brand's campaigns ---------------------------------------------------

def brand_campaigns_served_by(dealer_id: int) -> list[tuple[GroupBuyCampaign, int, int]]:
    """The brand's (region) campaigns in which shops served by the dealer committed: (campaign,
    shops, cases of those shops still committed). The dealer sees its own shops only."""
    c = GroupBuyCommitment
    rows = db.session.execute(
        select(c.campaign_id, func.count(), func.coalesce(func.sum(case((c.status == ACTIVE, c.qty), else_=0)), 0))
        .join(GroupBuyCampaign, GroupBuyCampaign.id == c.campaign_id)
        .where(c.seller_id == dealer_id, GroupBuyCampaign.owner_id != dealer_id).group_by(c.campaign_id)).all()
    campaigns = {row.id: row for row in db.session.scalars(select(GroupBuyCampaign).where(
        GroupBuyCampaign.id.in_([r[0] for r in rows])).options(joinedload(GroupBuyCampaign.product)))} if rows else {}
    return sorted(((campaigns[cid], shops, cases) for cid, shops, cases in rows), key=lambda t: -t[0].id)


def served_commitments(dealer_id: int, campaign_id: int) -> tuple[GroupBuyCampaign, list[GroupBuyCommitment]]:
    """One brand campaign and the commitments of the dealer's shops in it; NotFound when none."""
    commitments = list(db.session.scalars(
        select(GroupBuyCommitment).join(GroupBuyCampaign, GroupBuyCampaign.id == GroupBuyCommitment.campaign_id)
        .where(GroupBuyCommitment.campaign_id == campaign_id, GroupBuyCommitment.seller_id == dealer_id,
               GroupBuyCampaign.owner_id != dealer_id)
        .options(joinedload(GroupBuyCommitment.retailer), joinedload(GroupBuyCommitment.order),
                 joinedload(GroupBuyCommitment.credit_note))
        .order_by(GroupBuyCommitment.status, GroupBuyCommitment.qty.desc(), GroupBuyCommitment.id)))
    if not commitments:
        raise NotFound(_("团购不存在。"))
    campaign = db.session.scalar(select(GroupBuyCampaign).where(GroupBuyCampaign.id == campaign_id).options(
        joinedload(GroupBuyCampaign.product), selectinload(GroupBuyCampaign.tiers)))
    return campaign, commitments
