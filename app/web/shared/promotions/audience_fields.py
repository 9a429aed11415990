"""The promotion form's rep and customer-group fields, typed as people write them (usernames,
group codes, "rep01:5000" allocations in yuan) and turned into the ids the service checks. An
unknown name becomes id -1 and a malformed part stays text, so the service names the field."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.extensions import db
from app.models import PromotionScopedBudget, Region, User
from app.models.customer_groups import CustomerGroup


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("，", ",").replace("、", ",").split(",") if part.strip()]


def _lookup(column, id_column, names: list[str]) -> dict[str, int]:
    return dict(db.session.execute(select(column, id_column).where(column.in_(names))).all()) if names else {}


def rep_group_audience(reps_text: str | None, groups_text: str | None) -> dict:
    reps, groups = _names(reps_text), [n.upper() for n in _names(groups_text)]
    rep_ids = _lookup(User.username, User.id, reps)
    group_ids = _lookup(CustomerGroup.code, CustomerGroup.id, groups)
    return {"rep_ids": [rep_ids.get(n, -1) for n in reps], "group_ids": [group_ids.get(n, -1) for n in groups]}


def _fen(text: str) -> int | None:
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        return None
    return int(value) if value == value.to_integral_value() else None


def allocations(rep_text: str | None, region_text: str | None) -> list:
    """[(scope, id, fen)] from "rep01:5000, rep02:3000" and "330100:8000"."""
    found = []
    for scope, text, column, id_column in (("rep", rep_text, User.username, User.id),
                                           ("region", region_text, Region.code, Region.id)):
        parts = [part.replace("：", ":").partition(":") for part in _names(text)]
        ids = _lookup(column, id_column, [name.strip() for name, _sep, _amount in parts])
        for name, sep, amount in parts:
            fen = _fen(amount.strip()) if sep else None
            found.append([scope, ids.get(name.strip(), -1), fen if fen is not None else f"{name}{sep}{amount}"])
    return found


def fill_rep_group_fields(form, row) -> None:
    audience = row.audience or {}
    if audience.get("rep_ids"):
        form.reps.data = ", ".join(db.session.scalars(select(User.username).where(User.id.in_(audience["rep_ids"]))
                                                      .order_by(User.username)))
    if audience.get("group_ids"):
        form.groups.data = ", ".join(db.session.scalars(select(CustomerGroup.code).where(
            CustomerGroup.id.in_(audience["group_ids"])).order_by(CustomerGroup.code)))
    budgets = list(db.session.scalars(select(PromotionScopedBudget).where(PromotionScopedBudget.promotion_id == row.id)
                                      .order_by(PromotionScopedBudget.scope, PromotionScopedBudget.scope_id)))
    reps = dict(db.session.execute(select(User.id, User.username).where(
        User.id.in_([b.scope_id for b in budgets if b.scope == "rep"]))).all()) if budgets else {}
    regions = dict(db.session.execute(select(Region.id, Region.code).where(
        Region.id.in_([b.scope_id for b in budgets if b.scope == "region"]))).all()) if budgets else {}

    def yuan(fen: int) -> str:
        return f"{Decimal(fen) / 100:f}".rstrip("0").rstrip(".") if fen % 100 else str(fen // 100)

    form.rep_allocations.data = ", ".join(f"{reps.get(b.scope_id, b.scope_id)}:{yuan(b.budget_fen)}"
                                          for b in budgets if b.scope == "rep")
    form.region_allocations.data = ", ".join(f"{regions.get(b.scope_id, b.scope_id)}:{yuan(b.budget_fen)}"
                                             for b in budgets if b.scope == "region")
