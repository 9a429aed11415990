"""The rebate agreement form: typed in yuan and percent, handed to the service in fen and basis
points (services/rebates/agreements.py checks the rules and names the field of each refusal)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms import ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.extensions import db
from app.models import DEALER_TIERS, Category, Organisation, OrgKind, Product
from app.models.rebates import (AgreementStatus, RebateBasis, RebateMode, RebatePayout, RebatePeriod,
                                RebateScope)
from app.web.common.fields import YuanField
from app.web.common.forms import Form


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _scaled(text: str | None, factor: int) -> int | None:
    """`text` × factor when that is a whole number (e.g. "2.5" % → 250 bp), else None."""
    value = _decimal(text)
    if value is None:
        return None
    scaled = value * factor
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _codes(text: str | None) -> list[str]:
    return sorted({c.strip() for c in (text or "").replace("，", ",").replace("\n", ",").split(",") if c.strip()})


def plain(number: int, factor: int) -> str:
    value = Decimal(number) / factor
    return f"{value:f}".rstrip("0").rstrip(".") if "." in f"{value:f}" else f"{value:f}"


class AgreementForm(Form):
    code = StringField(_l("编号"), validators=[InputRequired(message=_l("请输入编号。")), Length(max=30)])
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请输入名称。")), Length(max=120)])
    dealer = StringField(_l("经销商编码（单个经销商）"), validators=[Optional(), Length(max=20)])
    dealer_tier = SelectField(_l("或经销商等级"), choices=[SelectChoice("", _l("（不按等级）"))]
                              + [SelectChoice(t, t) for t in DEALER_TIERS])
    period = SelectField(_l("结算周期"), choices=[SelectChoice(k, label) for k, label in RebatePeriod.labels().items()])
    basis = SelectField(_l("计算基数"), choices=[SelectChoice(k, label) for k, label in RebateBasis.labels().items()])
    scope = SelectField(_l("商品范围"), choices=[SelectChoice(k, label) for k, label in RebateScope.labels().items()])
    products = TextAreaField(_l("适用商品编码"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 2})
    categories = StringField(_l("适用品类编码"), validators=[Optional(), Length(max=400)])
    exclude_promoted = BooleanField(_l("不计入品牌承担促销的销量"))
    mode = SelectField(_l("返利方式"), choices=[SelectChoice(k, label) for k, label in RebateMode.labels().items()])
    rate = StringField(_l("返利比例（%）"), validators=[Optional(), Length(max=10)], render_kw={"inputmode": "decimal"})
    tiers = StringField(_l("阶梯（起点:比例）"), validators=[Optional(), Length(max=400)],
                        render_kw={"placeholder": "0:2, 1000000:3"})
    per_case = YuanField(_l("每箱返利（元）"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    cap = YuanField(_l("封顶金额（元，空：不封顶）"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    payout = SelectField(_l("兑付方式"), choices=[SelectChoice(k, label) for k, label in RebatePayout.labels().items()])
    balance_share_pct = IntegerField(_l("返利账户每单最多抵扣（%）"), validators=[Optional(), NumberRange(0, 100)])
    starts_on = DateField(_l("开始日期"), validators=[InputRequired(message=_l("请输入开始日期。"))])
    ends_on = DateField(_l("结束日期（空：长期）"), validators=[Optional()])
    status = SelectField(_l("状态"), choices=[SelectChoice(k, label) for k, label in AgreementStatus.labels().items()])

    def validate_rate(self, field) -> None:
        if field.data and _scaled(field.data, 100) is None:
            raise ValidationError(_("请输入数字，最多两位小数。"))

    def validate_tiers(self, field) -> None:
        for part in self._tier_parts():
            if part is None:
                raise ValidationError(_("阶梯格式为 起点:比例，用逗号分隔，例如 0:2, 1000000:3。"))

    def validate_dealer(self, field) -> None:
        if field.data and self._dealer_id() is None:
            raise ValidationError(_("没有这个经销商编码。"))

    def validate_products(self, field) -> None:
        codes = _codes(field.data)
        found = set(db.session.scalars(select(Product.code).where(Product.code.in_(codes)))) if codes else set()
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(_("没有这些商品编码：%(codes)s", codes="、".join(missing[:5])))

    def validate_categories(self, field) -> None:
        codes = _codes(field.data)
        found = set(db.session.scalars(select(Category.code).where(Category.code.in_(codes)))) if codes else set()
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(_("没有这些品类编码：%(codes)s", codes="、".join(missing[:5])))

    def _dealer_id(self) -> int | None:
        code = (self.dealer.data or "").strip()
        return db.session.scalar(select(Organisation.id).where(Organisation.code == code,
                                                               Organisation.kind == OrgKind.DEALER.value)) if code else None

    def _tier_parts(self) -> list:
        """[[from, rate]] in stored units (fen or cases; bp or fen per case), None for a bad part."""
        cases = self.basis.data == "cases"
        parts = []
        for part in (self.tiers.data or "").replace("，", ",").replace("：", ":").split(","):
            if not part.strip():
                continue
            left, sep, right = part.partition(":")
            start = _scaled(left, 1 if cases else 100)
            rate = _scaled(right, 100)  # percent → bp; or yuan per case → fen
            parts.append([start, rate] if sep and start is not None and rate is not None else None)
        return parts

    def values(self) -> dict:
        product_ids = list(db.session.scalars(select(Product.id).where(Product.code.in_(_codes(self.products.data)))))
        category_ids = list(db.session.scalars(select(Category.id).where(
            Category.code.in_(_codes(self.categories.data)))))
        return dict(code=self.code.data, name=self.name.data, dealer_id=self._dealer_id(),
                    dealer_tier=self.dealer_tier.data or None, period=self.period.data, basis=self.basis.data,
                    scope=self.scope.data, product_ids=product_ids if self.scope.data == "products" else [],
                    category_ids=category_ids if self.scope.data == "categories" else [],
                    exclude_promoted=self.exclude_promoted.data, mode=self.mode.data,
                    rate_bp=_scaled(self.rate.data, 100) or 0,
                    tiers=[p for p in self._tier_parts() if p is not None], per_case_fen=self.per_case.data or 0,
                    cap_fen=self.cap.data, payout=self.payout.data, balance_share_pct=self.balance_share_pct.data or 0,
                    starts_on=self.starts_on.data, ends_on=self.ends_on.data, status=self.status.data)

    def fill(self, row) -> None:
        cases = row.basis == "cases"
        self.code.data, self.name.data = row.code, row.name
        self.dealer.data = row.dealer.code if row.dealer_id else ""
        self.dealer_tier.data = row.dealer_tier or ""
        self.period.data, self.basis.data, self.scope.data, self.mode.data = row.period, row.basis, row.scope, row.mode
        self.products.data = ", ".join(db.session.scalars(select(Product.code).where(
            Product.id.in_(row.product_ids or [-1])).order_by(Product.code)))
        self.categories.data = ", ".join(db.session.scalars(select(Category.code).where(
            Category.id.in_(row.category_ids or [-1])).order_by(Category.code)))
        self.exclude_promoted.data = row.exclude_promoted
        self.rate.data = plain(row.rate_bp, 100) if row.rate_bp else ""
        self.tiers.data = ", ".join(f"{plain(f, 1 if cases else 100)}:{plain(r, 100)}" for f, r in row.tiers or [])
        self.per_case.data, self.cap.data = row.per_case_fen or None, row.cap_fen
        self.payout.data, self.balance_share_pct.data = row.payout, row.balance_share_pct
        self.starts_on.data, self.ends_on.data, self.status.data = row.starts_on, row.ends_on, row.status
