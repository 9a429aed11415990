"""Presale reads for the pages: a retailer's offers and orders, a dealer's pipeline, the brand's
commitments against planned production. Each is a fixed number of queries (tests pin them)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Organisation, Product
from app.models.presale import PresaleBuyerQty, PresaleCampaign, PresaleItem, PresaleOrder
from app.models.vocabulary import PresaleBalance, PresaleStatus
from app.services.campaigns.presale import campaign
from app.services.core.clock import today_local


# --- what each party sees -----------------------------------------------------------------------

def offers(buyer: Organisation, today: date | None = None) -> list[tuple[PresaleItem, int]]:
    """The items a retailer may order today, each with what the buyer already holds (one query)."""
    today = today or today_local()
    mine = (select(PresaleBuyerQty.qty).where(PresaleBuyerQty.item_id == PresaleItem.id,
                                              PresaleBuyerQty.buyer_id == buyer.id).scalar_subquery())
    rows = db.session.execute(
        select(PresaleItem, func.coalesce(mine, 0)).join(PresaleCampaign)
        .where(PresaleCampaign.status == PresaleStatus.OPEN.value, PresaleCampaign.deposit_opens_on <= today,
               PresaleCampaign.deposit_closes_on >= today)
        .options(joinedload(PresaleItem.campaign), joinedload(PresaleItem.product))
        .order_by(PresaleCampaign.release_on, PresaleItem.id))
    return [(item, held) for item, held in rows]


def orders_of(buyer_id: int) -> list[PresaleOrder]:
    """A buyer's presale orders, newest first, with order, campaign and product (one query)."""
    return list(db.session.scalars(
        select(PresaleOrder).where(PresaleOrder.buyer_id == buyer_id)
        .options(joinedload(PresaleOrder.order), joinedload(PresaleOrder.campaign),
                 joinedload(PresaleOrder.item).joinedload(PresaleItem.product))
        .order_by(PresaleOrder.created_at.desc(), PresaleOrder.id.desc()).limit(200)))


@dataclass(frozen=True)
class PipelineRow:
    release_on: date
    campaign_code: str
    product_code: str
    product_name: str
    orders: int
    held_qty: int      # waiting for the release
    released_qty: int  # in the normal flow
    due_qty: int       # released, balance not paid yet


def pipeline(seller_id: int) -> list[PipelineRow]:
    """A dealer's presale orders per release date and product, for planning (one grouped query)."""
    live = PresaleOrder.balance != PresaleBalance.CANCELLED.value
    rows = db.session.execute(
        select(PresaleCampaign.release_on, PresaleCampaign.code, Product.code, Product.name_zh,
               func.count(PresaleOrder.id),
               func.sum(func.coalesce(_qty_if(PresaleOrder.balance == PresaleBalance.HELD.value), 0)),
               func.sum(func.coalesce(_qty_if(PresaleOrder.balance != PresaleBalance.HELD.value), 0)),
               func.sum(func.coalesce(_qty_if(PresaleOrder.balance == PresaleBalance.DUE.value), 0)))
        .join(PresaleCampaign, PresaleCampaign.id == PresaleOrder.campaign_id)
        .join(PresaleItem, PresaleItem.id == PresaleOrder.item_id).join(Product, Product.id == PresaleItem.product_id)
        .where(PresaleOrder.seller_id == seller_id, live)
        .group_by(PresaleCampaign.release_on, PresaleCampaign.code, Product.code, Product.name_zh)
        .order_by(PresaleCampaign.release_on.desc(), PresaleCampaign.code, Product.code))
    return [PipelineRow(*row[:4], int(row[4]), int(row[5] or 0), int(row[6] or 0), int(row[7] or 0)) for row in rows]


def _qty_if(condition):
    return case((condition, PresaleOrder.qty), else_=0)


@dataclass(frozen=True)
class Commitments:
    campaign: PresaleCampaign
    planned: int
    committed: int
    orders: int
    due: int
    cancelled: int


def campaign_list() -> list[Commitments]:
    """Every campaign with its planned production and commitments (two queries)."""
    campaigns = list(db.session.scalars(select(PresaleCampaign).order_by(PresaleCampaign.release_on.desc(),
                                                                         PresaleCampaign.id.desc())))
    sums = {cid: (planned, committed) for cid, planned, committed in db.session.execute(
        select(PresaleItem.campaign_id, func.sum(PresaleItem.planned_qty), func.sum(PresaleItem.committed_qty))
        .group_by(PresaleItem.campaign_id))}
    counts = _order_counts()
    return [Commitments(c, int(sums.get(c.id, (0, 0))[0] or 0), int(sums.get(c.id, (0, 0))[1] or 0),
                        *counts.get(c.id, (0, 0, 0))) for c in campaigns]


def _order_counts(campaign_id: int | None = None) -> dict[int, tuple[int, int, int]]:
    query = (select(PresaleOrder.campaign_id, func.count(PresaleOrder.id),
                    func.sum(_count_if(PresaleOrder.balance == PresaleBalance.DUE.value)),
                    func.sum(_count_if(PresaleOrder.balance == PresaleBalance.CANCELLED.value)))
             .group_by(PresaleOrder.campaign_id))
    if campaign_id is not None:
        query = query.where(PresaleOrder.campaign_id == campaign_id)
    return {cid: (int(n), int(due or 0), int(cancelled or 0)) for cid, n, due, cancelled in db.session.execute(query)}


def _count_if(condition):
    return case((condition, 1), else_=0)


def campaign_detail(campaign_id: int) -> tuple[Commitments, list[PresaleItem]]:
    row = campaign(campaign_id)
    items = list(db.session.scalars(select(PresaleItem).where(PresaleItem.campaign_id == row.id)
                                    .options(joinedload(PresaleItem.product)).order_by(PresaleItem.id)))
    counts = _order_counts(row.id).get(row.id, (0, 0, 0))
    return Commitments(row, sum(i.planned_qty for i in items), sum(i.committed_qty for i in items), *counts), items

