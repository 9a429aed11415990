"""Settings that steer stock: reorder rules set by hand, standard costs, shelf-life rules."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ProductCost, ReorderRule, ShelfLifeRule
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound

RULE_FIELDS = ["safety_stock", "reorder_point", "lead_time_days", "method"]


def set_reorder_rule(warehouse_id: int, product_id: int, *, safety_stock: int, reorder_point: int,
                     lead_time_days: int, actor_id: int | None) -> ReorderRule:
    if safety_stock < 0:
        raise DomainError(_("安全库存不能为负数。"), field="safety_stock")
    if reorder_point < safety_stock:
        raise DomainError(_("再订货点不能低于安全库存。"), field="reorder_point")
    if not 1 <= lead_time_days <= 365:
        raise DomainError(_("补货周期应为 1 到 365 天。"), field="lead_time_days")
    rule = db.session.get(ReorderRule, (warehouse_id, product_id))
    before = audit.snapshot(rule, RULE_FIELDS) if rule else None
    if rule is None:
        rule = ReorderRule(warehouse_id=warehouse_id, product_id=product_id)
        db.session.add(rule)
    rule.safety_stock, rule.reorder_point, rule.lead_time_days = safety_stock, reorder_point, lead_time_days
    rule.method = "manual"
    db.session.flush()
    audit.record(actor_id, "stock.reorder_rule", "warehouse", warehouse_id, before,
                 dict(audit.snapshot(rule, RULE_FIELDS), product_id=product_id))
    return rule


def set_product_cost(product_id: int, cost_fen: int, *, actor_id: int | None) -> ProductCost:
    if cost_fen < 0:
        raise DomainError(_("成本不能为负数。"), field="cost")
    row = db.session.get(ProductCost, product_id)
    before = {"cost_fen": row.cost_fen} if row else None
    if row is None:
        row = ProductCost(product_id=product_id, cost_fen=cost_fen)
        db.session.add(row)
    row.cost_fen = cost_fen
    audit.record(actor_id, "product.cost", "product", product_id, before, {"cost_fen": cost_fen})
    return row


def shelf_life_rules() -> list[ShelfLifeRule]:
    return list(db.session.scalars(select(ShelfLifeRule).order_by(ShelfLifeRule.min_remaining_pct.desc(),
                                                                  ShelfLifeRule.id)))


def create_shelf_life_rule(*, name: str, audience: str | None, tier: str | None, channel: str | None,
                           min_remaining_pct: int, actor_id: int | None) -> ShelfLifeRule:
    if not 0 < min_remaining_pct <= 100:
        raise DomainError(_("剩余保质期比例应在 1% 到 100% 之间。"), field="min_remaining_pct")
    rule = ShelfLifeRule(name=name.strip(), audience=audience or None, tier=tier or None, channel=channel or None,
                         min_remaining_pct=min_remaining_pct)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor_id, "stock.shelf_life_rule.create", "shelf_life_rule", rule.id, None,
                 audit.snapshot(rule, ["name", "audience", "tier", "channel", "min_remaining_pct"]))
    return rule


def delete_shelf_life_rule(rule_id: int, *, actor_id: int | None) -> None:
    rule = db.session.get(ShelfLifeRule, rule_id)
    if rule is None:
        raise NotFound(_("规则不存在。"))
    audit.record(actor_id, "stock.shelf_life_rule.delete", "shelf_life_rule", rule.id,
                 audit.snapshot(rule, ["name", "audience", "tier", "channel", "min_remaining_pct"]), None)
    db.session.delete(rule)
