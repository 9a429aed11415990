"""Promotions as the marketing admin (or a dealer, for its own retailers) writes them: checked
field by field (errors name the form field), saved with an audit event, and the promotions'
version bumped so every process reloads its index. Coupon codes: one shared code or a batch."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models import (MEMBER_TIERS, Category, CouponCode, Organisation, Product, Promotion, PromotionScopedBudget,
                        Region, User)
from app.models.customer_groups import CustomerGroup
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.promotions import index as promo_index
from app.services.promotions import limits
from app.services.promotions.coupons import normalise_code

ITEM_KINDS = ("percent_off", "amount_off", "buy_x_get_y", "bundle", "volume_tier")
LADDER_KINDS = ("spend_off", "spend_percent")
STATUSES = ("draft", "approved", "active", "paused", "ended")
AUDIT_FIELDS = ["code", "name", "kind", "lane", "rule", "product_ids", "category_ids", "audience", "owner_id",
                "starts_at", "ends_at", "status", "funding", "brand_share_pct", "priority", "exclusive_group",
                "stop_further", "budget_fen", "budget_uses", "per_customer_limit", "version"]
AUDIENCE_KEYS = ("kinds", "channels", "tiers", "region_ids", "dealer_ids", "customer_ids", "member_tiers")
REP_GROUP_KEYS = ("rep_ids", "group_ids")  # shops on these sales reps' routes; members of these customer groups
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def promotions_visible_to(user: User):
    """The brand's marketing admins see every promotion; a dealer only its own."""
    if user.role == "admin" and user.can("marketing"):
        return select(Promotion)
    if user.role == "dealer":
        return select(Promotion).where(Promotion.owner_id == user.org_id)
    raise NotFound(_("促销不存在。"))


def promotion_for(user: User, promotion_id: int) -> Promotion:
    row = db.session.scalar(promotions_visible_to(user).where(Promotion.id == promotion_id))
    if row is None:
        raise NotFound(_("促销不存在。"))
    return row


def _check_rule(kind: str, rule: dict) -> dict:
    def whole(name, low, high, field):
        value = rule.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise DomainError(_("请输入 %(low)d 到 %(high)d 之间的整数。", low=low, high=high), field=field)
        return value

    if kind == "percent_off":
        return {"percent_x100": whole("percent_x100", 1, 9_999, "percent")}
    if kind == "amount_off":
        return {"off_fen": whole("off_fen", 1, 100_000_000, "off")}
    if kind == "buy_x_get_y":
        clean = {"buy": whole("buy", 1, 9_999, "buy"), "get": whole("get", 1, 9_999, "get"),
                 "repeat": bool(rule.get("repeat", True))}
        gift = rule.get("gift_product_id")
        if gift:
            if not isinstance(gift, int) or db.session.get(Product, gift) is None:
                raise DomainError(_("赠品商品不存在。"), field="gift_product")
            clean["gift_product_id"] = gift
        return clean
    if kind == "bundle":
        return _check_bundle(rule)
    if kind == "volume_tier":
        return _check_tiers(rule)
    ladder = rule.get("ladder") or []
    if not ladder:
        raise DomainError(_("请至少填写一档门槛。"), field="ladder")
    rungs = []
    for rung in ladder:
        if (not isinstance(rung, (list, tuple)) or len(rung) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in rung)):
            raise DomainError(_("每档写成“门槛金额:优惠”，例如 3000:300。"), field="ladder")
        threshold, value = rung
        if threshold < 0 or value <= 0:
            raise DomainError(_("门槛不能为负，优惠须大于 0。"), field="ladder")
        if kind == "spend_off" and threshold and value >= threshold:
            raise DomainError(_("减免金额须小于门槛金额。"), field="ladder")
        if kind == "spend_percent" and value >= 10_000:
            raise DomainError(_("折扣须小于 100%。"), field="ladder")
        rungs.append([threshold, value])
    if len({t for t, _v in rungs}) != len(rungs):
        raise DomainError(_("门槛金额不能重复。"), field="ladder")
    basis = rule.get("basis", "discounted")
    if basis not in ("list", "discounted"):
        raise DomainError(_("请选择门槛计算方式。"), field="basis")
    return {"ladder": sorted(rungs), "basis": basis}


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_bundle(rule: dict) -> dict:
    """A bundle: at least two units of existing products, at a price below their list price."""
    items = rule.get("items") or []
    if (not items or not all(isinstance(i, (list, tuple)) and len(i) == 2 and all(_is_int(x) for x in i) for i in items)
            or any(qty < 1 or qty > 9_999 for _pid, qty in items)):
        raise DomainError(_("每项写成“商品编码:数量”，例如 P001:2, P002:1。"), field="bundle_items")
    if len({pid for pid, _qty in items}) != len(items):
        raise DomainError(_("同一商品只能写一次。"), field="bundle_items")
    if sum(qty for _pid, qty in items) < 2:
        raise DomainError(_("套餐至少包含两件商品。"), field="bundle_items")
    prices = dict(db.session.execute(select(Product.id, Product.base_price_fen)
                                     .where(Product.id.in_([pid for pid, _qty in items]))).all())
    if len(prices) != len(items):
        raise DomainError(_("套餐中有不存在的商品。"), field="bundle_items")
    price = rule.get("price_fen")
    listed = sum(prices[pid] * qty for pid, qty in items)
    if not _is_int(price) or not 1 <= price < listed:
        raise DomainError(_("套餐价须大于 0 且低于套餐商品原价合计 %(list)s 元。", list=f"{listed / 100:.2f}"),
                          field="bundle_price")
    return {"items": sorted([list(i) for i in items]), "price_fen": price}


def _check_tiers(rule: dict) -> dict:
    """Volume tiers: ascending distinct cumulative quantities, each with a percent off under 100."""
    tiers = rule.get("tiers") or []
    if not tiers or not all(isinstance(t, (list, tuple)) and len(t) == 2 and all(_is_int(x) for x in t) for t in tiers):
        raise DomainError(_("每档写成“累计数量:折扣%”，例如 100:5, 300:8。"), field="tiers")
    if any(not 1 <= qty <= 10_000_000 or not 1 <= pct < 10_000 for qty, pct in tiers):
        raise DomainError(_("累计数量须大于 0，折扣须在 0 到 100% 之间。"), field="tiers")
    if len({qty for qty, _pct in tiers}) != len(tiers):
        raise DomainError(_("累计数量不能重复。"), field="tiers")
    return {"tiers": sorted([list(t) for t in tiers])}


def _rep_group_audience(audience: dict) -> dict:
    """The sales reps (users with the rep role) and customer groups a promotion targets."""
    found = {}
    reps = _ids(audience.get("rep_ids"), User, "reps")
    if reps and db.session.query(User.id).filter(User.id.in_(reps), User.role == "rep").count() != len(reps):
        raise DomainError(_("包含不是业务员的用户。"), field="reps")
    groups = _ids(audience.get("group_ids"), CustomerGroup, "groups")
    for key, items in (("rep_ids", reps), ("group_ids", groups)):
        if items:
            found[key] = items
    return found


def _save_allocations(row: Promotion, wanted) -> list | None:
    """Make the promotion's rep and region allocations exactly `wanted` ([(scope, scope id,
    budget fen)]; None leaves them as they are). A budget cannot go below what is used, and a
    used allocation cannot be removed. Errors name `rep_allocations` or `region_allocations`.
    Returns what was saved (for the audit)."""
    if wanted is None:
        return None
    clean: dict[tuple[str, int], int] = {}
    for item in wanted:
        scope = item[0] if isinstance(item, (list, tuple)) and item and item[0] in ("rep", "region") else "rep"
        field = f"{scope}_allocations"
        if not (isinstance(item, (list, tuple)) and len(item) == 3 and _is_int(item[1]) and _is_int(item[2])
                and item[2] >= 1):
            raise DomainError(_("每项写成“名称:金额（元）”，例如 rep01:5000。"), field=field)
        if (scope, item[1]) in clean:
            raise DomainError(_("同一业务员或地区只能分配一次。"), field=field)
        clean[(scope, item[1])] = item[2]
    for scope, model, extra in (("rep", User, User.role == "rep"), ("region", Region, None)):
        ids = [sid for s, sid in clean if s == scope]
        query = db.session.query(model.id).filter(model.id.in_(ids))
        if ids and (query.filter(extra) if extra is not None else query).count() != len(ids):
            raise DomainError(_("分配中有不存在的业务员或地区。"), field=f"{scope}_allocations")
    existing = {(b.scope, b.scope_id): b for b in db.session.scalars(
        select(PromotionScopedBudget).where(PromotionScopedBudget.promotion_id == row.id))}
    for key, budget in existing.items():
        if key not in clean:
            if budget.used_fen:
                raise DomainError(_("已有使用的分配不能删除。"), field=f"{key[0]}_allocations")
            db.session.delete(budget)
        elif clean[key] < budget.used_fen:
            raise DomainError(_("分配金额不能低于已用的金额。"), field=f"{key[0]}_allocations")
        else:
            budget.budget_fen = clean[key]
    for (scope, sid), fen in clean.items():
        if (scope, sid) not in existing:
            db.session.add(PromotionScopedBudget(promotion_id=row.id, scope=scope, scope_id=sid, budget_fen=fen, used_fen=0))
    db.session.flush()
    return [[scope, sid, fen] for (scope, sid), fen in sorted(clean.items())]


def _ids(values, model, field: str) -> list[int]:
    ids = sorted({v for v in values or [] if isinstance(v, int) and not isinstance(v, bool)})
    if len(ids) != len(values or []) or (ids and db.session.query(model.id).filter(model.id.in_(ids)).count() != len(ids)):
        raise DomainError(_("包含不存在的编号。"), field=field)
    return ids


def _optional_int(value, field: str, low: int = 0):
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise DomainError(_("请输入不小于 %(n)d 的整数，或留空。", n=low), field=field)
    return value


def save_promotion(actor: User, owner: Organisation, values: dict, promotion_id: int | None = None) -> Promotion:
    """Create or edit a promotion from checked `values` (the form's fields, typed); raises
    DomainError naming the field. A dealer's promotion targets only the retailers it serves and
    is always dealer funded and kept within the brand's limits for its tier (limits.py).
    `owner` makes a new promotion; an edited one keeps its owner."""
    row = Promotion(used_fen=0, used_uses=0, version=0) if promotion_id is None else db.session.get(Promotion, promotion_id)
    if row is None:
        raise NotFound(_("促销不存在。"))
    if promotion_id is not None:
        owner = db.session.get(Organisation, row.owner_id)
    code = normalise_code(values.get("code"))[:30]
    if not code:
        raise DomainError(_("请输入编号。"), field="code")
    name = (values.get("name") or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("请输入名称（最多 120 字）。"), field="name")
    kind = values.get("kind")
    if kind not in ITEM_KINDS + LADDER_KINDS:
        raise DomainError(_("请选择促销类型。"), field="kind")
    lane = "item" if kind in ITEM_KINDS else values.get("lane", "order")
    if lane not in ("order", "coupon") and kind in LADDER_KINDS:
        raise DomainError(_("请选择整单或优惠券。"), field="lane")
    rule = _check_rule(kind, values.get("rule") or {})
    if lane == "coupon" and (values.get("rule") or {}).get("claimable"):  # listed for retailers to claim
        limit = _optional_int((values.get("rule") or {}).get("claim_limit"), "claim_limit", 1) or 1
        rule.update(claimable=True, claim_limit=min(limit, 100))
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        raise DomainError(_("请输入开始时间。"), field="starts_at")
    if not isinstance(ends_at, datetime) or ends_at.tzinfo is None or ends_at <= starts_at:
        raise DomainError(_("结束时间须晚于开始时间。"), field="ends_at")
    status = values.get("status", "draft")
    if status not in STATUSES:
        raise DomainError(_("请选择状态。"), field="status")
    funding = values.get("funding", "brand")
    if funding not in ("brand", "dealer", "shared"):
        raise DomainError(_("请选择费用承担方。"), field="funding")
    share = {"brand": 100, "dealer": 0}.get(funding, values.get("brand_share_pct"))
    if not isinstance(share, int) or isinstance(share, bool) or not 0 <= share <= 100:
        raise DomainError(_("品牌承担比例须在 0 到 100 之间。"), field="brand_share_pct")
    audience = {}
    for key in AUDIENCE_KEYS:
        items = (values.get("audience") or {}).get(key) or []
        if key in ("region_ids", "dealer_ids", "customer_ids"):
            items = _ids(items, Region if key == "region_ids" else Organisation, "audience")
        if key == "member_tiers" and not set(items) <= set(MEMBER_TIERS):
            raise DomainError(_("请选择会员等级。"), field="member_tier")
        if items:
            audience[key] = list(items)
    audience.update(_rep_group_audience(values.get("audience") or {}))
    if owner.kind == "dealer":
        funding, share = "dealer", 0
        audience.pop("dealer_ids", None)
    clash = db.session.scalar(select(Promotion.id).where(Promotion.code == code))
    if clash is not None and clash != promotion_id:
        raise DomainError(_("编号 %(code)s 已被使用。", code=code), field="code")
    before = audit.snapshot(row, AUDIT_FIELDS) if promotion_id else None
    terms_before = _terms(row) if promotion_id else None
    budget_fen = _optional_int(values.get("budget_fen"), "budget_fen", 1)
    budget_uses = _optional_int(values.get("budget_uses"), "budget_uses", 1)
    if budget_fen is not None and budget_fen < row.used_fen:
        raise DomainError(_("预算不能低于已用的金额。"), field="budget_fen")
    if budget_uses is not None and budget_uses < row.used_uses:
        raise DomainError(_("预算不能低于已用的次数。"), field="budget_uses")
    product_ids = ([pid for pid, _qty in rule["items"]] if kind == "bundle"  # a bundle covers its own items
                   else _ids(values.get("product_ids"), Product, "product_ids"))
    category_ids = [] if kind == "bundle" else _ids(values.get("category_ids"), Category, "category_ids")
    if owner.kind == "dealer":
        limits.check_promotion(owner, kind, rule, product_ids, category_ids)
    row.code, row.name, row.kind, row.lane, row.rule = code, name, kind, lane, rule
    row.product_ids, row.category_ids = product_ids, category_ids
    row.audience, row.owner_id, row.starts_at, row.ends_at, row.status = audience, owner.id, starts_at, ends_at, status
    row.funding, row.brand_share_pct = funding, share
    row.priority = _optional_int(values.get("priority"), "priority")
    row.exclusive_group = ((values.get("exclusive_group") or "").strip()[:30]) or None
    row.stop_further = bool(values.get("stop_further"))
    row.budget_fen, row.budget_uses = budget_fen, budget_uses
    row.per_customer_limit = _optional_int(values.get("per_customer_limit"), "per_customer_limit", 1)
    row.version = (row.version or 0) + 1
    if _terms(row) != terms_before:
        row.authored_by_id, row.approved_by_id = actor.id, None  # new terms: approved afresh
    if needs_second_approval(row, owner) and row.approved_by_id is None and row.status != "draft":
        raise DomainError(_("预算超过 %(limit)s 或不限预算的促销，须由另一位管理员批准后才能启用；请先保存为草稿。",
                            limit=_approval_limit_text()), field="status")
    if promotion_id is None:
        db.session.add(row)
    db.session.flush()
    allocations = _save_allocations(row, values.get("allocations"))
    after = audit.snapshot(row, AUDIT_FIELDS + ["authored_by_id", "approved_by_id"])
    if allocations is not None:
        after["allocations"] = allocations
    audit.record(actor.id, "promotion.create" if promotion_id is None else "promotion.update", "promotion", row.id,
                 before, after)
    promo_index.bump_version()
    return row


TERMS = [f for f in AUDIT_FIELDS if f not in ("code", "name", "status", "version")]


def _terms(row: Promotion) -> list:
    """What an approval approves: everything but the wording and the status."""
    return [getattr(row, name) for name in TERMS]


def _approval_limit():
    from flask import current_app

    return current_app.config.get("PROMOTION_APPROVAL_ABOVE_FEN")


def _approval_limit_text() -> str:
    from app.services.credit.limits import format_yuan

    return format_yuan(_approval_limit() or 0)


def needs_second_approval(row: Promotion, owner: Organisation | None = None) -> bool:
    """A brand promotion with a budget above the configured cost, or none at all."""
    limit = _approval_limit()
    if limit is None:
        return False
    owner = owner or db.session.get(Organisation, row.owner_id)
    return owner.kind == "brand" and (row.budget_fen is None or row.budget_fen > limit)


def approval_state(row: Promotion, user: User) -> dict | None:
    """For the edit page: None when no approval is needed; else who wrote the terms, whether
    they are approved, and whether `user` may approve them."""
    if not needs_second_approval(row):
        return None
    author = db.session.get(User, row.authored_by_id) if row.authored_by_id else None
    approver = db.session.get(User, row.approved_by_id) if row.approved_by_id else None
    return {"author": author, "approver": approver, "limit": _approval_limit_text(),
            "can_approve": approver is None and row.status == "draft" and user.role == "admin"
            and user.can("marketing") and user.id != row.authored_by_id}


def approve_promotion(actor: User, promotion_id: int) -> Promotion:
    """A second admin approves a draft's terms: draft → approved (live once its window opens).
    The author cannot approve their own terms."""
    row = promotion_for(actor, promotion_id)
    if actor.role != "admin" or not actor.can("marketing"):
        raise NotFound(_("促销不存在。"))
    if not needs_second_approval(row):
        raise DomainError(_("该促销无需第二位管理员批准。"))
    if row.authored_by_id == actor.id:
        raise DomainError(_("不能批准自己制定的促销，须由另一位管理员批准。"))
    done = db.session.execute(
        update(Promotion).where(Promotion.id == row.id, Promotion.status == "draft", Promotion.approved_by_id.is_(None),
                                Promotion.version == row.version)
        .values(status="approved", approved_by_id=actor.id).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise DomainError(_("只有未批准的草稿可以批准（可能刚被修改或批准）。"))
    db.session.refresh(row)
    audit.record(actor.id, "promotion.approve", "promotion", row.id,
                 {"status": "draft", "approved_by_id": None},
                 {"status": "approved", "approved_by_id": actor.id, "version": row.version})
    promo_index.bump_version()
    return row


def issue_codes(actor: User, promotion: Promotion, count: int = 1, shared_code: str | None = None,
                max_uses: int | None = 1, customer_ids: list[int] | None = None) -> list[CouponCode]:
    """A shared code (`shared_code`, any number of uses unless `max_uses`) or `count` random
    unique codes; with `customer_ids`, one code issued to each of those customers."""
    if promotion.lane != "coupon":
        raise DomainError(_("只有优惠券类促销可以生成券码。"), field="promotion")
    if shared_code is not None:
        code = normalise_code(shared_code)[:40]
        if not code or db.session.scalar(select(CouponCode.id).where(CouponCode.code == code)) is not None:
            raise DomainError(_("券码为空或已被使用。"), field="code")
        rows = [CouponCode(promotion_id=promotion.id, code=code, max_uses=max_uses)]
    else:
        owners = customer_ids or [None] * count
        if not 1 <= len(owners) <= 10_000:
            raise DomainError(_("一次最多生成 10000 个券码。"), field="count")
        rows = [CouponCode(promotion_id=promotion.id, code=promotion.code[:8] + "".join(
                    secrets.choice(CODE_ALPHABET) for _ in range(10)), customer_id=owner, max_uses=max_uses)
                for owner in owners]
    db.session.add_all(rows)
    db.session.flush()
    audit.record(actor.id, "coupon.issue", "promotion", promotion.id, None, {"codes": len(rows)})
    promo_index.bump_version()
    return rows


def overlapping(row: Promotion) -> list[tuple[Promotion, str]]:
    """The conflict report at save time: live promotions of the same lane whose window, products
    and audience overlap `row`'s, each with who would win ("priority": the other's pinned
    priority beats this one; "this": this one's does; "best": the bigger saving per cart;
    "exclusive": they share an exclusive group, only the better one applies)."""
    if row.status not in promo_index.LIVE_STATUSES:
        return []
    others = db.session.scalars(select(Promotion).where(
        Promotion.id != row.id, Promotion.lane == row.lane, Promotion.status.in_(promo_index.LIVE_STATUSES),
        Promotion.starts_at < row.ends_at, Promotion.ends_at > row.starts_at).order_by(Promotion.id))
    found = []
    for other in others:
        if not (_meets(row.product_ids, other.product_ids) and _meets(row.category_ids, other.category_ids)):
            continue
        if not all(_meets((row.audience or {}).get(k), (other.audience or {}).get(k))
                   for k in AUDIENCE_KEYS + REP_GROUP_KEYS):
            continue
        if row.exclusive_group and row.exclusive_group == other.exclusive_group:
            winner = "exclusive"
        elif row.priority is not None or other.priority is not None:
            winner = "priority" if (other.priority or -1) > (row.priority or -1) else "this"
        else:
            winner = "best"
        found.append((other, winner))
    return found


def _meets(mine, theirs) -> bool:
    """Two scopes overlap: either is unrestricted (empty) or they share a member."""
    return not mine or not theirs or bool(set(mine) & set(theirs))
