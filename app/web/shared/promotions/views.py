"""Promotion pages, written once and mounted on two blueprints (`register_promotion_pages`):
admins holding the "marketing" permission manage the brand's and every dealer's promotions;
a dealer manages only its own, for the retailers it serves (dealer funded, whatever the form
says). The list shows status, window, budget used, orders and discount given; the create/edit
form puts errors next to their fields. The window is typed in Asia/Shanghai time and stored in
UTC. Coupon promotions get a shared code from the same form. The service audits every change."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms import ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.extensions import db
from app.models import MEMBER_TIERS, Product
from app.services.loyalty.tiers import TIER_LABELS
from app.models.vocabulary import Funding, PromotionKind, PromotionStatus
from app.services.core.clock import LOCAL
from app.services.promotions import admin as promotions
from app.services.promotions import limits
from app.services.promotions import reports
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.fields import YuanField
from app.web.common.forms import ActionForm, Form
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.promotions.audience_fields import allocations, fill_rep_group_fields, rep_group_audience

WINNER = {"priority": _l("对方优先级更高，对方胜出"), "this": _l("本促销优先级更高，本促销胜出"),
          "best": _l("按买家最优自动选择"), "exclusive": _l("同一互斥组，只取优惠更大的一个")}
CHANNEL_CHOICES = (("kiosk", _l("小卖部")), ("convenience", _l("便利店")), ("supermarket", _l("超市")),
                   ("catering", _l("餐饮")))


def _percent_x100(text: str | None) -> int | None:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    scaled = value * 100
    return int(scaled) if scaled == scaled.to_integral_value() else None


class PromotionForm(Form):
    code = StringField(_l("编号"), validators=[InputRequired(message=_l("请输入编号。")), Length(max=30)])
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请输入名称（最多 120 字）。")), Length(max=120)])
    kind = SelectField(_l("类型"), choices=[SelectChoice(k.value, k.label) for k in PromotionKind])
    lane = SelectField(_l("满减/满折用于"), choices=[SelectChoice("order", _l("整单自动")), SelectChoice("coupon", _l("优惠券"))])
    percent = StringField(_l("折扣（%）"), validators=[Optional()], render_kw={"inputmode": "decimal", "placeholder": "10"})
    off = YuanField(_l("每件立减（元）"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    buy = IntegerField(_l("每买"), validators=[Optional(), NumberRange(1, 9_999)])
    get = IntegerField(_l("赠送"), validators=[Optional(), NumberRange(1, 9_999)])
    repeat = BooleanField(_l("可累计（每满 N 赠 M）"), default=True)
    gift_product = StringField(_l("赠品商品编码（空：同一商品）"), validators=[Optional(), Length(max=30)])
    ladder = StringField(_l("门槛阶梯"), validators=[Optional(), Length(max=200)],
                         render_kw={"placeholder": "3000:300, 5000:600"})
    bundle_items = StringField(_l("套餐商品（编码:数量）"), validators=[Optional(), Length(max=400)],
                               render_kw={"placeholder": "P001:2, P002:1"})
    bundle_price = YuanField(_l("套餐价（元/套）"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    tiers = StringField(_l("累计阶梯（数量:折扣%）"), validators=[Optional(), Length(max=200)],
                        render_kw={"placeholder": "100:5, 300:10"})
    basis = SelectField(_l("门槛计算"), choices=[SelectChoice("discounted", _l("按单品优惠后金额")),
                                               SelectChoice("list", _l("按原价金额"))])
    product_codes = TextAreaField(_l("适用商品编码（空：全部商品）"), validators=[Optional(), Length(max=4000)],
                                  render_kw={"rows": 2})
    channels = SelectField(_l("渠道"), choices=[SelectChoice("", _l("全部渠道"))] + [SelectChoice(v, l) for v, l in CHANNEL_CHOICES])
    member_tier = SelectField(_l("会员等级"), choices=[SelectChoice("", _l("全部会员"))] + [
        SelectChoice(t, _l("%(tier)s及以上", tier=TIER_LABELS[t])) for t in MEMBER_TIERS[1:]], default="")
    starts_at = DateTimeLocalField(_l("开始（北京时间）"), format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired(message=_l("请输入开始时间。"))])
    ends_at = DateTimeLocalField(_l("结束（北京时间）"), format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired(message=_l("结束时间须晚于开始时间。"))])
    status = SelectField(_l("状态"), choices=[SelectChoice(s.value, s.label) for s in PromotionStatus])
    # not on the dealer's form (its promotions are always dealer funded): the default keeps that form valid
    funding = SelectField(_l("费用承担"), choices=[SelectChoice(f.value, f.label) for f in Funding], default="brand")
    brand_share_pct = IntegerField(_l("品牌承担比例（%）"), default=100, validators=[Optional(), NumberRange(0, 100)])
    priority = IntegerField(_l("优先级（空：择优）"), validators=[Optional(), NumberRange(0, 1_000_000)])
    exclusive_group = StringField(_l("互斥组"), validators=[Optional(), Length(max=30)])
    stop_further = BooleanField(_l("命中后不再叠加后续优惠"))
    budget_fen = YuanField(_l("预算金额（元）"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    budget_uses = IntegerField(_l("预算订单数"), validators=[Optional(), NumberRange(1, 1_000_000_000)])
    per_customer_limit = IntegerField(_l("每位客户限用次数"), validators=[Optional(), NumberRange(1, 1_000_000)])
    coupon_code = StringField(_l("共享券码（优惠券）"), validators=[Optional(), Length(max=40)])
    claimable = BooleanField(_l("零售商可在“我的优惠券”中领取"))
    claim_limit = IntegerField(_l("每位客户可领张数"), default=1, validators=[Optional(), NumberRange(1, 100)])
    reps = StringField(_l("业务员（用户名，空：不限）"), validators=[Optional(), Length(max=400)],
                       render_kw={"placeholder": "rep01, rep02"})
    groups = StringField(_l("客户组（编号，空：不限）"), validators=[Optional(), Length(max=400)])
    rep_allocations = StringField(_l("按业务员分配预算（用户名:元）"), validators=[Optional(), Length(max=1000)],
                                  render_kw={"placeholder": "rep01:5000, rep02:3000"})
    region_allocations = StringField(_l("按地区分配预算（地区编码:元）"), validators=[Optional(), Length(max=1000)])

    def validate_percent(self, field) -> None:
        if field.data and _percent_x100(field.data) is None:
            raise ValidationError(_("请输入数字，最多两位小数。"))

    def validate_product_codes(self, field) -> None:
        codes = self.codes()
        if codes:
            found = set(db.session.scalars(select(Product.code).where(Product.code.in_(codes))))
            missing = [c for c in codes if c not in found]
            if missing:
                raise ValidationError(_("没有这些商品编码：%(codes)s", codes="、".join(missing[:5])))

    def codes(self) -> list[str]:
        text = (self.product_codes.data or "").replace("，", ",").replace("\n", ",")
        return sorted({c.strip() for c in text.split(",") if c.strip()})

    def values(self) -> dict:
        """The form as the service takes it (typed; the service checks the rules)."""
        ladder = []
        for part in (self.ladder.data or "").replace("，", ",").split(","):
            if not part.strip():
                continue
            left, _sep, right = part.replace("：", ":").partition(":")
            threshold, value = _percent_x100(left), _percent_x100(right)  # both are "× 100" numbers
            ladder.append([threshold, value] if threshold is not None and value is not None else [part])
        product_ids = list(db.session.scalars(select(Product.id).where(Product.code.in_(self.codes())))) \
            if self.codes() else []
        gift = None
        if self.gift_product.data:
            gift = db.session.scalar(select(Product.id).where(Product.code == self.gift_product.data.strip())) or -1
        rule = {"percent_x100": _percent_x100(self.percent.data), "off_fen": self.off.data, "buy": self.buy.data,
                "get": self.get.data, "repeat": self.repeat.data, "gift_product_id": gift, "ladder": ladder,
                "basis": self.basis.data, "items": _bundle_items(self.bundle_items.data),
                "price_fen": self.bundle_price.data, "tiers": _tiers(self.tiers.data),
                "claimable": self.claimable.data, "claim_limit": self.claim_limit.data}
        local = {name: getattr(self, name).data for name in ("starts_at", "ends_at")}
        values = dict(code=self.code.data, name=self.name.data, kind=self.kind.data, lane=self.lane.data, rule=rule,
                    product_ids=product_ids, audience={"channels": [self.channels.data] if self.channels.data else [],
                              "member_tiers": list(MEMBER_TIERS[MEMBER_TIERS.index(self.member_tier.data):])
                              if self.member_tier.data in MEMBER_TIERS else []},
                    starts_at=local["starts_at"].replace(tzinfo=LOCAL) if local["starts_at"] else None,
                    ends_at=local["ends_at"].replace(tzinfo=LOCAL) if local["ends_at"] else None,
                    status=self.status.data, funding=self.funding.data, brand_share_pct=self.brand_share_pct.data,
                    priority=self.priority.data, exclusive_group=self.exclusive_group.data,
                    stop_further=self.stop_further.data, budget_fen=self.budget_fen.data,
                    budget_uses=self.budget_uses.data, per_customer_limit=self.per_customer_limit.data)
        values["audience"].update(rep_group_audience(self.reps.data, self.groups.data))
        values["allocations"] = allocations(self.rep_allocations.data, self.region_allocations.data)
        return values

    def fill(self, row) -> None:
        rule = row.rule or {}
        self.code.data, self.name.data, self.kind.data, self.lane.data = row.code, row.name, row.kind, row.lane
        pct = rule.get("percent_x100")
        self.percent.data = f"{Decimal(pct) / 100:f}".rstrip("0").rstrip(".") if pct else ""
        self.off.data, self.buy.data, self.get.data = rule.get("off_fen"), rule.get("buy"), rule.get("get")
        self.repeat.data = rule.get("repeat", True)
        if rule.get("gift_product_id"):
            self.gift_product.data = db.session.scalar(select(Product.code).where(Product.id == rule["gift_product_id"]))
        self.ladder.data = ", ".join(f"{_plain(t)}:{_plain(v)}" for t, v in rule.get("ladder", []))
        self.basis.data = rule.get("basis", "discounted")
        if rule.get("items"):
            codes = dict(db.session.execute(select(Product.id, Product.code).where(
                Product.id.in_([pid for pid, _qty in rule["items"]]))).all())
            self.bundle_items.data = ", ".join(f"{codes.get(pid, pid)}:{qty}" for pid, qty in rule["items"])
        self.bundle_price.data = rule.get("price_fen")
        self.tiers.data = ", ".join(f"{qty}:{_plain(pct)}" for qty, pct in rule.get("tiers", []))
        self.claimable.data, self.claim_limit.data = bool(rule.get("claimable")), rule.get("claim_limit", 1)
        self.product_codes.data = ", ".join(db.session.scalars(select(Product.code).where(
            Product.id.in_(row.product_ids or [-1])).order_by(Product.code)))
        self.channels.data = ((row.audience or {}).get("channels") or [""])[0]
        tiers = (row.audience or {}).get("member_tiers") or []
        self.member_tier.data = min(tiers, key=MEMBER_TIERS.index) if tiers else ""
        self.starts_at.data = row.starts_at.astimezone(LOCAL).replace(tzinfo=None)
        self.ends_at.data = row.ends_at.astimezone(LOCAL).replace(tzinfo=None)
        self.status.data, self.funding.data, self.brand_share_pct.data = row.status, row.funding, row.brand_share_pct
        self.priority.data, self.exclusive_group.data, self.stop_further.data = (row.priority, row.exclusive_group,
                                                                                 row.stop_further)
        self.budget_fen.data, self.budget_uses.data = row.budget_fen, row.budget_uses
        self.per_customer_limit.data = row.per_customer_limit
        fill_rep_group_fields(self, row)


def _pairs(text: str | None) -> list[tuple[str, str, str]]:
    """"a:b, c:d" (full-width separators too) → [(part, a, b)]."""
    found = []
    for part in (text or "").replace("，", ",").replace("：", ":").split(","):
        if part.strip():
            left, _sep, right = part.partition(":")
            found.append((part.strip(), left.strip(), right.strip()))
    return found


def _bundle_items(text: str | None) -> list:
    """"P001:2, P002:1" → [[product id, 2], ...]; an unknown code becomes id -1 and a malformed
    part stays a string, so the service names the field."""
    pairs = _pairs(text)
    ids = dict(db.session.execute(select(Product.code, Product.id).where(
        Product.code.in_([code for _p, code, _q in pairs]))).all()) if pairs else {}
    return [[ids.get(code, -1), int(qty)] if qty.isascii() and qty.isdigit() else [part] for part, code, qty in pairs]


def _tiers(text: str | None) -> list:
    """"100:5, 300:10" → [[100, 500], [300, 1000]] (percent × 100)."""
    found = []
    for part, qty, pct in _pairs(text):
        scaled = _percent_x100(pct)
        found.append([int(qty), scaled] if qty.isascii() and qty.isdigit() and scaled is not None else [part])
    return found


def _plain(x100: int) -> str:
    whole, cents = divmod(int(x100), 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")


def save_with_code(actor, values, promotion_id, coupon_code):
    """One unit of work: the promotion and, for a coupon, its shared code."""
    row = promotions.save_promotion(actor, actor.org, values, promotion_id)
    if coupon_code and row.lane == "coupon":
        promotions.issue_codes(actor, row, shared_code=coupon_code, max_uses=None)
    return row


def register_promotion_pages(bp: Blueprint, layout: str, guard=None) -> None:
    """Mount /promotions (list), /promotions/new, /promotions/<id>/edit and /promotions/<id>/effect on `bp`. Every
    promotion is found through promotions_visible_to(caller): another dealer's is a 404."""

    def check():
        if guard is not None:
            guard()

    def page(template, status=200, **context):
        return render_page(template, status=status, layout=layout, endpoint=bp.name, **context)

    def save(form, promotion_id):
        if form.validate_on_submit():
            outcome = attempt(form, save_with_code, current_user, form.values(), promotion_id, form.coupon_code.data)
            if outcome.ok:
                flash(_("促销 %(code)s 已保存。", code=outcome.result.code), "success")
                overlaps = promotions.overlapping(outcome.result)
                if overlaps:
                    flash(_("与进行中的促销重叠：%(list)s", list=_("、").join(
                        f"{other.code}（{WINNER[winner]}）" for other, winner in overlaps[:10])), "warning")
                return redirect_to(url_for(f"{bp.name}.promotions_list"))
            status = outcome.status
        else:
            status = 400
        approval = promotions.approval_state(promotions.promotion_for(current_user, promotion_id), current_user) if promotion_id else None
        return page("shared/promotions/form.html", status, form=form, promotion_id=promotion_id, approval=approval,
                    action_form=ActionForm())

    def promotions_list():
        check()
        brand_limits = allowed = None
        if current_user.role == "dealer":  # the brand's limits in force for this dealer
            brand_limits = limits.limits_for(current_user.org)
            allowed = limits.allowed_text(brand_limits) if brand_limits.restricts_products else None
        return page("shared/promotions/list.html", rows=reports.promotion_list(promotions.promotions_visible_to(current_user)),
                    brand_limits=brand_limits, allowed=allowed)

    def promotion_new():
        check()
        return page("shared/promotions/form.html", form=PromotionForm(formdata=None), promotion_id=None)

    def promotion_create():
        check()
        return save(PromotionForm(), None)

    def promotion_edit(promotion_id: int):
        check()
        row = promotions.promotion_for(current_user, promotion_id)
        form = PromotionForm(formdata=None)
        form.fill(row)
        return page("shared/promotions/form.html", form=form, promotion_id=row.id,
                    approval=promotions.approval_state(row, current_user), action_form=ActionForm())

    def promotion_update(promotion_id: int):
        check()
        promotions.promotion_for(current_user, promotion_id)
        return save(PromotionForm(), promotion_id)

    def promotion_effect(promotion_id: int):
        check()
        return page("shared/promotions/effect.html",
                    effect=reports.effect(promotions.promotion_for(current_user, promotion_id)))

    bp.add_url_rule("/promotions", "promotions_list", promotions_list)
    bp.add_url_rule("/promotions/<int:promotion_id>/effect", "promotion_effect", promotion_effect)
    bp.add_url_rule("/promotions/new", "promotion_new", promotion_new)
    bp.add_url_rule("/promotions/new", "promotion_create", promotion_create, methods=["POST"])
    bp.add_url_rule("/promotions/<int:promotion_id>/edit", "promotion_edit", promotion_edit)
    bp.add_url_rule("/promotions/<int:promotion_id>/edit", "promotion_update", promotion_update, methods=["POST"])


def register_promotion_approval(bp: Blueprint, guard) -> None:
    """POST /promotions/<id>/approve: a second admin approves a costly promotion's terms."""

    def promotion_approve(promotion_id: int):
        guard()
        promotions.promotion_for(current_user, promotion_id)
        if not ActionForm().validate_on_submit():
            abort(400)
        flash_outcome(attempt(None, promotions.approve_promotion, current_user, promotion_id),
                      _("促销已批准，到开始时间自动生效。"))
        return redirect_to(url_for(f"{bp.name}.promotion_edit", promotion_id=promotion_id))

    bp.add_url_rule("/promotions/<int:promotion_id>/approve", "promotion_approve", promotion_approve, methods=["POST"])


def marketing_guard() -> None:
    if not current_user.can("marketing"):
        abort(403)


class SimulatorForm(Form):
    buyer = StringField(_l("客户编码"), validators=[InputRequired(message=_l("请输入客户编码。")), Length(max=20)])
    at = DateTimeLocalField(_l("时间（北京时间）"), format="%Y-%m-%dT%H:%M",
                            validators=[InputRequired(message=_l("请输入时间。"))])
    lines = TextAreaField(_l("购物车（每行：商品编码 数量）"), validators=[InputRequired(message=_l("请至少填写一行商品。")),
                                                               Length(max=4000)], render_kw={"rows": 5})
    coupon = StringField(_l("优惠券码（可选）"), validators=[Optional(), Length(max=40)])


WHY_NOT = {"lost": _l("同一通道内另一促销胜出（优先级或对买家更优）"), "budget": _l("预算不足"),
           "exclusive": _l("同一互斥组内另一促销更优"), "not_reached": _l("未达到条件"),
           "stopped": _l("前一促销设置了不再叠加"), "excluded": _l("已排除")}


def _simulate(form: SimulatorForm):
    from app.models import Organisation
    from app.services.core.errors import DomainError
    from app.services.promotions import simulate

    items = simulate.parse_lines(form.lines.data)
    buyer = db.session.scalar(select(Organisation).where(func.upper(Organisation.code) == form.buyer.data.strip().upper()))
    if buyer is None:
        raise DomainError(_("客户编码不存在。"), field="buyer")
    at = form.at.data.replace(tzinfo=LOCAL)
    return simulate.simulate(buyer, items, at, form.coupon.data or "")


def register_promotion_simulator(bp: Blueprint, guard) -> None:
    """GET/POST /promotions/simulate: price a typed cart as a customer at a time, lane by lane.
    Nothing is written (the POST carries the form only because the cart is long)."""

    def page(form, simulation=None, status=200):
        return render_page("shared/promotions/simulate.html", status=status, layout="admin/layout.html",
                           endpoint=bp.name, form=form, simulation=simulation, why_not=WHY_NOT)

    def promotion_simulator():
        guard()
        return page(SimulatorForm(formdata=None))

    def promotion_simulate():
        guard()
        form = SimulatorForm()
        if not form.validate_on_submit():
            return page(form, status=400)
        outcome = attempt(form, _simulate, form)
        db.session.rollback()  # a read: nothing to keep
        if not outcome.ok:
            return page(form, status=outcome.status)
        return page(form, outcome.result)

    bp.add_url_rule("/promotions/simulate", "promotion_simulator", promotion_simulator)
    bp.add_url_rule("/promotions/simulate", "promotion_simulate", promotion_simulate, methods=["POST"])
