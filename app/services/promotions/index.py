"""The live promotions compiled in memory, one copy per process (kept on the app), reloaded only
when `PromotionState.version` moves: quoting reads the version as a column of the cart query it
runs anyway, so promotions add no query to a quote, whatever their number or the lines'.

Every change to a promotion or coupon calls `bump_version` in its own transaction. A checkout
that finds a budget used up calls `invalidate` (the process reloads on its next quote, reading
the budgets as committed), so a cart is not offered a promotion that cannot be redeemed."""
from __future__ import annotations

import time
from collections import OrderedDict

from flask import current_app
from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import Product, Promotion, PromotionScopedBudget, PromotionState
from app.services.core.clock import now_utc
from app.services.promotions import limits
from app.services.promotions.engine import ITEM, ORDER, CompiledPromotion

LIVE_STATUSES = ("approved", "active")  # approved: waits for its window to open
_KEY = "promotion_index"


class PromotionIndex:
    def __init__(self, version, promotions: list[CompiledPromotion]):
        self.version = version
        self.by_id = {p.id: p for p in promotions}
        self.by_product: dict[int, list[CompiledPromotion]] = {}
        self.by_category: dict[int, list[CompiledPromotion]] = {}
        self.item_all: list[CompiledPromotion] = []
        self.order_promotions = [p for p in promotions if p.lane == ORDER]
        self.bundles = [p for p in promotions if p.kind == "bundle"]
        self.volume_tiers = [p for p in promotions if p.kind == "volume_tier"]
        self.known_histories: OrderedDict = OrderedDict()  # buyer id → its volume history (volume.py)
        self.limited = {p.id: p.per_customer_limit for p in promotions if p.per_customer_limit is not None}
        # a quote looks the buyer's reps and groups up only when some promotion asks for them
        self.needs_reps = any(p.rep_ids or any(s == "rep" for s, _i, _l in p.scoped_budgets) for p in promotions)
        self.needs_groups = any(p.group_ids for p in promotions)
        for promo in promotions:
            if promo.lane != ITEM:
                continue
            if not promo.product_ids and not promo.category_ids:
                self.item_all.append(promo)
            for pid in promo.product_ids:
                self.by_product.setdefault(pid, []).append(promo)
            for cid in promo.category_ids:
                self.by_category.setdefault(cid, []).append(promo)

    def item_candidates(self, product_id: int, category_id: int | None) -> list[CompiledPromotion]:
        by_product = self.by_product.get(product_id, ())
        by_category = self.by_category.get(category_id, ()) if category_id is not None else ()
        if by_product and by_category:
            return list({p.id: p for p in [*by_product, *by_category]}.values()) + self.item_all
        return [*by_product, *by_category, *self.item_all]

    def tags_for(self, product_id: int, category_id: int | None, buyer, now) -> list[CompiledPromotion]:
        """The item promotions a catalog row may show for this buyer (no query)."""
        return [p for p in self.item_candidates(product_id, category_id) if p.live_at(now) and p.targets(buyer)]


def compile_promotion(row: Promotion, owner_kind: str, gift_prices: dict[int, int],
                      scoped: dict[int, tuple] | None = None, max_depth_x100: int | None = None) -> CompiledPromotion:
    audience = row.audience or {}

    def ids(name):
        return frozenset(audience.get(name) or ())

    gift_id = (row.rule or {}).get("gift_product_id")
    return CompiledPromotion(
        id=row.id, code=row.code, name=row.name, kind=row.kind, lane=row.lane, rule=dict(row.rule or {}),
        starts_at=row.starts_at, ends_at=row.ends_at, version=row.version,
        product_ids=frozenset(row.product_ids or ()), category_ids=frozenset(row.category_ids or ()),
        owner_dealer_id=row.owner_id if owner_kind == "dealer" else None,
        kinds=ids("kinds"), channels=ids("channels"), tiers=ids("tiers"), region_ids=ids("region_ids"),
        dealer_ids=ids("dealer_ids"), customer_ids=ids("customer_ids"), member_tiers=ids("member_tiers"),
        rep_ids=ids("rep_ids"), group_ids=ids("group_ids"), scoped_budgets=(scoped or {}).get(row.id, ()),
        funding=row.funding, brand_share_pct=row.brand_share_pct, priority=row.priority,
        exclusive_group=row.exclusive_group or None, stop_further=row.stop_further,
        remaining_fen=None if row.budget_fen is None else row.budget_fen - row.used_fen,
        remaining_uses=None if row.budget_uses is None else row.budget_uses - row.used_uses,
        per_customer_limit=row.per_customer_limit, gift_price_fen=gift_prices.get(gift_id, 0) if gift_id else 0,
        max_depth_x100=max_depth_x100)


def load_index(version) -> PromotionIndex:
    """Four queries: the live promotions with their owners' kind and tier, the gift products'
    prices, the rep and region allocations, the brand's limits on dealer promotions (plus the
    covered products' categories when a limit names allowed categories)."""
    from app.models import Organisation

    rows = db.session.execute(select(Promotion, Organisation.kind, Organisation.tier)
                              .join(Organisation, Organisation.id == Promotion.owner_id)
                              .where(Promotion.status.in_(LIVE_STATUSES), Promotion.ends_at > now_utc())
                              .order_by(Promotion.id)).all()
    return compile_rows(version, rows)


def compile_rows(version, rows) -> PromotionIndex:
    """The index of (Promotion, owner kind, owner tier) rows, with their gift prices and
    allocations; a dealer's promotion carries its tier's maximum depth, and one covering
    products its tier does not allow is left out (paused while the limit stands: limits.py)."""
    gift_ids = {row.rule.get("gift_product_id") for row, *_o in rows if (row.rule or {}).get("gift_product_id")}
    gift_prices = dict(db.session.execute(select(Product.id, Product.base_price_fen)
                                          .where(Product.id.in_(gift_ids))).all()) if gift_ids else {}
    scoped: dict[int, tuple] = {}
    if rows:
        for budget in db.session.scalars(select(PromotionScopedBudget).where(
                PromotionScopedBudget.promotion_id.in_([row.id for row, *_o in rows]))
                .order_by(PromotionScopedBudget.id)):
            scoped[budget.promotion_id] = scoped.get(budget.promotion_id, ()) + (
                (budget.scope, budget.scope_id, budget.budget_fen - budget.used_fen),)
    dealer_rows = [(row, tier) for row, kind, tier in rows if kind == "dealer"]
    table = limits.all_limits() if dealer_rows else {}
    categories = {}
    if any(lim.category_ids for lim in table.values()):
        categories = limits.product_categories({pid for row, _t in dealer_rows for pid in row.product_ids or ()})
    compiled = []
    for row, kind, tier in rows:
        depth = None
        if kind == "dealer":
            rule = limits.resolve(table, tier)
            if not rule.allows(row.product_ids or (), row.category_ids or (), categories):
                continue
            depth = rule.max_depth_x100
        compiled.append(compile_promotion(row, kind, gift_prices, scoped, depth))
    return PromotionIndex(version, compiled)


def version_column():
    """The promotions' version as a scalar subquery, to add to a query the caller runs anyway."""
    return select(PromotionState.version).where(PromotionState.id == 1).scalar_subquery()


def current_version():
    return db.session.scalar(select(PromotionState.version).where(PromotionState.id == 1))


def index_for(version) -> PromotionIndex:
    """The compiled index at `version`, reloaded when the process holds another one."""
    cached = current_app.extensions.get(_KEY)
    if cached is None or cached.version != version:
        cached = load_index(version)
        current_app.extensions[_KEY] = cached
    return cached


def cached_index() -> PromotionIndex | None:
    """The index this process holds, whatever its version (None before the first load)."""
    return current_app.extensions.get(_KEY)


def invalidate() -> None:
    current_app.extensions[_KEY] = None


def bump_version() -> None:
    """Tell every process to reload (in the caller's transaction)."""
    done = db.session.execute(update(PromotionState).where(PromotionState.id == 1)
                              .values(version=PromotionState.version + 1)).rowcount
    if not done:  # a fresh database: start from a value no earlier database had
        db.session.execute(insert(PromotionState).values(id=1, version=time.time_ns()))
    invalidate()
