"""The brand's rebate agreements: checked saving (each refusal names its field), the lists."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import DEALER_TIERS, Organisation, OrgKind, User
from app.models.rebates import (AgreementStatus, RebateAgreement, RebateBasis, RebateMode, RebatePayout, RebatePeriod,
                                RebateScope)
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound

FIELDS = ("code", "name", "dealer_id", "dealer_tier", "period", "basis", "scope", "product_ids", "category_ids",
          "exclude_promoted", "mode", "rate_bp", "tiers", "per_case_fen", "cap_fen", "payout", "balance_share_pct",
          "starts_on", "ends_on", "status")
MAX_RATE_BP = 5_000  # 50 %: anything above is a typing mistake


def _check(values: dict, agreement_id: int | None) -> dict:
    code = (values.get("code") or "").strip()
    if not code:
        raise DomainError(_("请输入编号。"), field="code")
    clash = db.session.scalar(select(RebateAgreement.id).where(RebateAgreement.code == code))
    if clash is not None and clash != agreement_id:
        raise DomainError(_("编号已被使用。"), field="code")
    if not (values.get("name") or "").strip():
        raise DomainError(_("请输入名称。"), field="name")
    dealer_id, tier = values.get("dealer_id"), values.get("dealer_tier") or None
    if (dealer_id is None) == (tier is None):
        raise DomainError(_("请指定一个经销商或一个经销商等级（二选一）。"), field="dealer")
    if dealer_id is not None and db.session.scalar(select(Organisation.id).where(
            Organisation.id == dealer_id, Organisation.kind == OrgKind.DEALER.value)) is None:
        raise DomainError(_("没有这个经销商。"), field="dealer")
    if tier is not None and tier not in DEALER_TIERS:
        raise DomainError(_("没有这个经销商等级。"), field="dealer")
    for name, vocab in (("period", RebatePeriod), ("basis", RebateBasis), ("scope", RebateScope), ("mode", RebateMode),
                        ("payout", RebatePayout), ("status", AgreementStatus)):
        if values.get(name) not in vocab.values():
            raise DomainError(_("请选择一项。"), field=name)
    mode, basis = values["mode"], values["basis"]
    if mode == "per_case" and basis != "cases":
        raise DomainError(_("每箱固定金额只适用于按发货箱数计算。"), field="mode")
    if mode == "flat":
        if basis == "cases":
            raise DomainError(_("按箱数计算请选择每箱固定金额或阶梯。"), field="mode")
        if not 0 < (values.get("rate_bp") or 0) <= MAX_RATE_BP:
            raise DomainError(_("返利比例须大于 0 且不超过 50%。"), field="rate")
    if mode == "per_case" and not (values.get("per_case_fen") or 0) > 0:
        raise DomainError(_("请输入每箱返利金额。"), field="per_case")
    tiers = values.get("tiers") or []
    if mode in ("retroactive", "incremental"):
        if not tiers:
            raise DomainError(_("请输入阶梯，例如 0:2, 1000000:3。"), field="tiers")
        starts = [t[0] for t in tiers]
        if any(len(t) != 2 or t[0] is None or t[1] is None or t[0] < 0 or t[1] < 0 for t in tiers):
            raise DomainError(_("阶梯格式为 起点:比例，用逗号分隔。"), field="tiers")
        if starts != sorted(set(starts)):
            raise DomainError(_("阶梯起点须从小到大且不重复。"), field="tiers")
        if basis != "cases" and any(t[1] > MAX_RATE_BP for t in tiers):
            raise DomainError(_("返利比例不超过 50%。"), field="tiers")
    if values.get("scope") == "products" and not values.get("product_ids"):
        raise DomainError(_("请输入适用商品编码。"), field="products")
    if values.get("scope") == "categories" and not values.get("category_ids"):
        raise DomainError(_("请输入适用品类编码。"), field="categories")
    if values.get("cap_fen") is not None and values["cap_fen"] <= 0:
        raise DomainError(_("封顶金额须大于 0。"), field="cap")
    share = values.get("balance_share_pct") or 0
    if values["payout"] == "balance" and not 0 < share <= 100:
        raise DomainError(_("返利账户每单最多抵扣比例须在 1 到 100 之间。"), field="balance_share_pct")
    starts_on: date | None = values.get("starts_on")
    if starts_on is None:
        raise DomainError(_("请输入开始日期。"), field="starts_on")
    if values.get("ends_on") is not None and values["ends_on"] < starts_on:
        raise DomainError(_("结束日期不能早于开始日期。"), field="ends_on")
    out = {k: values.get(k) for k in FIELDS}
    out.update(code=code, name=values["name"].strip(), dealer_tier=tier, tiers=[list(t) for t in tiers],
               rate_bp=values.get("rate_bp") or 0, per_case_fen=values.get("per_case_fen") or 0,
               balance_share_pct=share if values["payout"] == "balance" else 0,
               product_ids=values.get("product_ids") or [], category_ids=values.get("category_ids") or [],
               exclude_promoted=bool(values.get("exclude_promoted")))
    return out


def save(actor: User, values: dict, agreement_id: int | None = None) -> RebateAgreement:
    """Create or change an agreement. Changing the terms of an agreement with accruals changes
    what its periods earn from the next settlement run on (earned to date minus paid)."""
    checked = _check(values, agreement_id)
    if agreement_id is None:
        agreement, before = RebateAgreement(), None
        db.session.add(agreement)
    else:
        agreement = get(agreement_id)
        before = {k: _plain(getattr(agreement, k)) for k in FIELDS}
    for key, value in checked.items():
        setattr(agreement, key, value)
    db.session.flush()
    audit.record(actor.id, "rebate_agreement.save", "rebate_agreement", agreement.id, before,
                 {k: _plain(getattr(agreement, k)) for k in FIELDS})
    return agreement


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def get(agreement_id: int) -> RebateAgreement:
    agreement = db.session.get(RebateAgreement, agreement_id)
    if agreement is None:
        raise NotFound(_("返利协议不存在。"))
    return agreement


def for_dealer(dealer: Organisation, agreement_id: int | None = None):
    """The agreements a dealer may see (its own and its tier's, not drafts); one by id or 404."""
    from sqlalchemy import or_

    query = select(RebateAgreement).where(
        RebateAgreement.status != AgreementStatus.DRAFT.value,
        or_(RebateAgreement.dealer_id == dealer.id, RebateAgreement.dealer_tier == (dealer.tier or "-")))
    if agreement_id is None:
        return list(db.session.scalars(query.order_by(RebateAgreement.id)))
    found = db.session.scalar(query.where(RebateAgreement.id == agreement_id))
    if found is None:
        raise NotFound(_("返利协议不存在。"))
    return found


def all_agreements() -> list[RebateAgreement]:
    return list(db.session.scalars(select(RebateAgreement).options(selectinload(RebateAgreement.dealer))
                                   .order_by(RebateAgreement.status, RebateAgreement.id)))


def dealer_counts() -> dict[str, int]:
    """{tier: number of dealers} for the list (what a tier agreement reaches)."""
    return dict(db.session.execute(select(Organisation.tier, func.count()).where(
        Organisation.kind == OrgKind.DEALER.value).group_by(Organisation.tier)).all())
