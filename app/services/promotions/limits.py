"""The brand's limits on the promotions dealers run for their own retailers (dealer funded,
reaching only the shops they serve): a maximum depth and the products they may cover, per dealer
tier, with a default row ("*") for every tier without its own. Set by a marketing admin.

Depth is what the promotion gives as a share of the amount it applies to, the same measure for
every kind: percent off (满折 rungs, volume tiers) ≤ N %; so much off a unit ≤ N % of the unit's
price; a 满减 reduction ≤ N % of its threshold (a rung without threshold has no measurable depth
and is refused); gifts ≤ N % of the amount bought to earn them; a bundle's saving ≤ N % of its
products at list price.

Where the limits bite:
- **At save** (`check_promotion`): a dealer's create/edit is refused with the message next to
  the field that goes beyond ("超过品牌允许的最大折扣 15%"), nothing saved. Prices are the
  products' list prices.
- **At every quote**, with the limits in force then (the index compiles them; changing a limit
  bumps the promotions' version): a dealer promotion is **paused, never capped** — it is left
  out of the index when it covers products outside the allowed ones (or every product while
  only some are allowed), and left out of a line (an order, for 满减) wherever what it would
  give there exceeds the maximum depth of that line's amount at the buyer's price (engine.py,
  `within_depth`). So a limit lowered after creation stops the promotion where it goes beyond,
  until the dealer edits it within the limits (which the save check then enforces)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import DEALER_TIERS, Category, Organisation, Product, PromotionDealerLimit, User
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound

DEFAULT = PromotionDealerLimit.DEFAULT
TIERS = (DEFAULT, *DEALER_TIERS)


@dataclass(frozen=True)
class Limits:
    """The limits in force for one dealer (an empty Limits: none)."""

    tier: str | None = None  # the row they come from ("*": the default); None: no row at all
    max_depth_pct: int | None = None
    product_ids: frozenset = frozenset()
    category_ids: frozenset = frozenset()

    @property
    def restricts_products(self) -> bool:
        return bool(self.product_ids or self.category_ids)

    @property
    def max_depth_x100(self) -> int | None:
        return None if self.max_depth_pct is None else self.max_depth_pct * 100

    def allows(self, product_ids, category_ids, product_categories: dict[int, int | None]) -> bool:
        """Whether a promotion covering these products and categories stays within the allowed
        ones (`product_categories`: each of `product_ids`' category)."""
        if not self.restricts_products:
            return True
        if not product_ids and not category_ids:
            return False  # every product, while only some are allowed
        return set(category_ids) <= self.category_ids and all(
            pid in self.product_ids or product_categories.get(pid) in self.category_ids for pid in product_ids)


def _limits(row: PromotionDealerLimit | None) -> Limits:
    if row is None:
        return Limits()
    return Limits(row.tier, row.max_depth_pct, frozenset(row.product_ids or ()), frozenset(row.category_ids or ()))


def all_limits() -> dict[str, Limits]:
    """{tier or "*": Limits} of the rows that exist (one query)."""
    return {row.tier: _limits(row) for row in db.session.scalars(select(PromotionDealerLimit))}


def resolve(table: dict[str, Limits], tier: str | None) -> Limits:
    """The dealer tier's own row, else the default, else no limits."""
    return table.get(tier or "") or table.get(DEFAULT) or Limits()


def limits_for(dealer: Organisation) -> Limits:
    return resolve(all_limits(), dealer.tier)


def save_limits(actor: User, tier: str, max_depth_pct, product_ids: list[int], category_ids: list[int]) -> PromotionDealerLimit:
    """Set one tier's limits (or the default's); errors name the form field. Every process
    reloads its promotions (the new limits apply at the next quote)."""
    from app.services.promotions import index as promo_index

    if actor.role != "admin" or not actor.can("marketing"):
        raise NotFound(_("页面不存在。"))
    if tier not in TIERS:
        raise NotFound(_("页面不存在。"))
    if max_depth_pct is not None and (not isinstance(max_depth_pct, int) or isinstance(max_depth_pct, bool)
                                      or not 1 <= max_depth_pct <= 99):
        raise DomainError(_("最大折扣须在 1 到 99 之间，或留空表示不限。"), field="max_depth_pct")
    for ids, model, field in ((product_ids, Product, "product_codes"), (category_ids, Category, "category_codes")):
        if ids and db.session.scalar(select(func.count()).select_from(model).where(model.id.in_(ids))) != len(set(ids)):
            raise DomainError(_("包含不存在的编号。"), field=field)
    row = db.session.scalar(select(PromotionDealerLimit).where(PromotionDealerLimit.tier == tier))
    before = None
    if row is None:
        row = PromotionDealerLimit(tier=tier)
        db.session.add(row)
    else:
        before = {"max_depth_pct": row.max_depth_pct, "product_ids": row.product_ids, "category_ids": row.category_ids}
    row.max_depth_pct, row.product_ids, row.category_ids = max_depth_pct, sorted(set(product_ids)), sorted(set(category_ids))
    row.updated_by_id = actor.id
    db.session.flush()
    audit.record(actor.id, "promotion_dealer_limit.update", "promotion_dealer_limit", row.id, before,
                 {"tier": tier, "max_depth_pct": max_depth_pct, "product_ids": row.product_ids,
                  "category_ids": row.category_ids})
    promo_index.bump_version()
    return row


def _too_deep(limits: Limits, field: str):
    return DomainError(_("超过品牌允许的最大折扣 %(pct)d%%", pct=limits.max_depth_pct), field=field)


def check_promotion(dealer: Organisation, kind: str, rule: dict, product_ids: list[int],
                    category_ids: list[int]) -> None:
    """Refuse a dealer's promotion that goes beyond its brand limits (see the module docstring);
    the error names the form field. At most two queries (the limits, the products' prices)."""
    limits = limits_for(dealer)
    if limits.tier is None:
        return
    prices, categories = {}, {}
    wanted = set(product_ids) | {pid for pid, _qty in rule.get("items", [])}
    if rule.get("gift_product_id"):
        wanted.add(rule["gift_product_id"])
    if wanted:
        for pid, price, cid in db.session.execute(select(Product.id, Product.base_price_fen, Product.category_id)
                                                  .where(Product.id.in_(wanted))):
            prices[pid], categories[pid] = price, cid
    if not limits.allows(product_ids, category_ids, categories):
        raise DomainError(_("品牌只允许经销商促销覆盖指定的商品或品类：%(allowed)s", allowed=allowed_text(limits)),
                          field="product_codes")
    depth = limits.max_depth_x100
    if depth is None:
        return

    def beyond(value: int, amount: int) -> bool:  # value / amount > depth, in integers
        return amount <= 0 or value * 10_000 > amount * depth

    if kind == "percent_off" and rule["percent_x100"] > depth:
        raise _too_deep(limits, "percent")
    if kind == "spend_percent" and any(value > depth for _t, value in rule["ladder"]):
        raise _too_deep(limits, "ladder")
    if kind == "volume_tier" and any(pct > depth for _q, pct in rule["tiers"]):
        raise _too_deep(limits, "tiers")
    if kind == "spend_off" and any(beyond(value, threshold) for threshold, value in rule["ladder"]):
        raise _too_deep(limits, "ladder")
    if kind in ("amount_off", "buy_x_get_y"):
        covered = _cheapest_covered(product_ids, category_ids, prices)
        if kind == "amount_off" and beyond(rule["off_fen"], covered):
            raise _too_deep(limits, "off")
        if kind == "buy_x_get_y":
            gift = rule.get("gift_product_id")
            # same product: get ÷ buy of the price; another product: its price against the cheapest covered
            if gift and beyond(rule["get"] * prices.get(gift, 0), rule["buy"] * covered):
                raise _too_deep(limits, "get")
            if not gift and beyond(rule["get"], rule["buy"]):
                raise _too_deep(limits, "get")
    if kind == "bundle":
        listed = sum(prices.get(pid, 0) * qty for pid, qty in rule["items"])
        if beyond(listed - rule["price_fen"], listed):
            raise _too_deep(limits, "bundle_price")


def _cheapest_covered(product_ids, category_ids, prices: dict[int, int]) -> int:
    """The lowest list price among the products a promotion covers (deepest for so much off)."""
    if not product_ids and not category_ids:
        return db.session.scalar(select(func.min(Product.base_price_fen))) or 0
    found = [prices[pid] for pid in product_ids if pid in prices]
    if category_ids:
        found.append(db.session.scalar(select(func.min(Product.base_price_fen))
                                       .where(Product.category_id.in_(category_ids))) or 0)
    return min(found) if found else 0


def allowed_text(limits: Limits) -> str:
    """"P001、P002；品类 饮料" — the allowed products' codes and categories' names (one query each)."""
    parts = []
    if limits.product_ids:
        parts.append("、".join(db.session.scalars(select(Product.code).where(Product.id.in_(limits.product_ids))
                                                  .order_by(Product.code))))
    if limits.category_ids:
        parts.append(_("品类 %(names)s", names="、".join(db.session.scalars(
            select(Category.name_zh).where(Category.id.in_(limits.category_ids)).order_by(Category.code)))))
    return "；".join(parts) or _("全部商品")


def product_categories(product_ids) -> dict[int, int | None]:
    """{product id: category id} (one query; none when empty)."""
    if not product_ids:
        return {}
    return dict(db.session.execute(select(Product.id, Product.category_id).where(Product.id.in_(product_ids))).all())

