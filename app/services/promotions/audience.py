"""Who a promotion may reach, beyond the organisation's own columns: the shop's sales reps (their
route holds it: RepRoute) and the named customer groups (客户组) the brand's admins keep here.

`buyer_facts` builds the engine's Buyer; it looks the reps and groups up in one query, and only
when a live promotion targets reps or groups or is allocated per rep (the index says so), so a
quote without such promotions runs no extra query."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import literal, select, union_all

from app.extensions import db
from app.models import Organisation, RepRoute, User
from app.models.customer_groups import CustomerGroup, CustomerGroupMember
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.promotions import index as promo_index
from app.services.promotions.engine import Buyer

MAX_MEMBERS = 5_000
_CODE = re.compile(r"^[A-Z0-9_-]{1,30}$")


def buyer_facts(buyer: Organisation, profile, index=None, member_tier: str | None = None) -> Buyer:
    reps: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    if index is not None and (getattr(index, "needs_reps", False) or getattr(index, "needs_groups", False)):
        rows = db.session.execute(union_all(
            select(literal("rep").label("kind"), RepRoute.rep_id.label("ref")).where(RepRoute.retailer_id == buyer.id),
            select(literal("group").label("kind"), CustomerGroupMember.group_id.label("ref"))
            .where(CustomerGroupMember.customer_id == buyer.id))).all()
        reps = tuple(sorted(ref for kind, ref in rows if kind == "rep"))
        groups = tuple(sorted(ref for kind, ref in rows if kind == "group"))
    return Buyer(id=buyer.id, kind=buyer.kind, channel=buyer.channel, tier=buyer.tier, region_ids=profile.region_ids,
                 dealer_id=buyer.dealer_id, rep_ids=reps, group_ids=groups, member_tier=member_tier)


# -- the groups, as the admin keeps them ---------------------------------------------------------

def groups_with_counts() -> list[tuple[CustomerGroup, int]]:
    from sqlalchemy import func

    counts = (select(CustomerGroupMember.group_id, func.count().label("n")).group_by(CustomerGroupMember.group_id)
              .subquery())
    return [(group, n or 0) for group, n in db.session.execute(
        select(CustomerGroup, counts.c.n).outerjoin(counts, counts.c.group_id == CustomerGroup.id)
        .order_by(CustomerGroup.code)).all()]


def group(group_id: int) -> CustomerGroup:
    row = db.session.get(CustomerGroup, group_id) if isinstance(group_id, int) else None
    if row is None:
        raise NotFound(_("客户组不存在。"))
    return row


def member_codes(row: CustomerGroup) -> list[str]:
    return list(db.session.scalars(select(Organisation.code).join(
        CustomerGroupMember, CustomerGroupMember.customer_id == Organisation.id)
        .where(CustomerGroupMember.group_id == row.id).order_by(Organisation.code)))


def save_group(actor: User, code: str, name: str, customer_codes: list[str], group_id: int | None = None) -> CustomerGroup:
    """Create or edit a group with exactly these members (customer codes); errors name the field;
    the promotions' version moves so quotes see the new membership."""
    code = (code or "").strip().upper()
    if not _CODE.match(code):
        raise DomainError(_("编号为 1 到 30 位字母、数字、-、_。"), field="code")
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError(_("请输入名称（最多 80 字）。"), field="name")
    wanted = sorted({c.strip().upper() for c in customer_codes if c.strip()})
    if len(wanted) > MAX_MEMBERS:
        raise DomainError(_("一个客户组最多 %(n)d 个客户。", n=MAX_MEMBERS), field="members")
    found = dict(db.session.execute(select(Organisation.code, Organisation.id).where(
        Organisation.code.in_(wanted), Organisation.kind.in_(("retailer", "dealer")))).all()) if wanted else {}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise DomainError(_("没有这些客户编码：%(codes)s", codes="、".join(missing[:5])), field="members")
    clash = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.code == code))
    if clash is not None and clash != group_id:
        raise DomainError(_("编号 %(code)s 已被使用。", code=code), field="code")
    row = CustomerGroup() if group_id is None else group(group_id)
    before = None if group_id is None else {"code": row.code, "name": row.name, "members": member_codes(row)}
    row.code, row.name = code, name
    if group_id is None:
        db.session.add(row)
    db.session.flush()
    keep = set(found.values())
    for member in list(row.members):
        if member.customer_id not in keep:
            row.members.remove(member)
    have = {member.customer_id for member in row.members}
    row.members.extend(CustomerGroupMember(customer_id=cid) for cid in sorted(keep - have))
    db.session.flush()
    audit.record(actor.id, "customer_group.create" if group_id is None else "customer_group.update", "customer_group",
                 row.id, before, {"code": code, "name": name, "members": wanted})
    promo_index.bump_version()
    return row
