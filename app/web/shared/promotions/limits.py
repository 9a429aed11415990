"""The brand's limits on dealers' own promotions: one settings page for marketing admins
(`/admin/promotions/dealer-limits`), one small form per dealer tier plus the default, each
posted on its own (`.../dealer-limits/<tier>`). Dealers see the limits in force for them on
their promotion list; they have no route that changes them (services/promotions/limits.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField, StringField, ValidationError
from wtforms.validators import Length, NumberRange, Optional

from app.extensions import db
from app.models import Category, Product
from app.services.promotions import limits
from app.web.common.envelope import attempt
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page


def _codes(text: str | None) -> list[str]:
    text = (text or "").replace("，", ",").replace("、", ",").replace("\n", ",")
    return sorted({c.strip() for c in text.split(",") if c.strip()})


class DealerLimitForm(Form):
    max_depth_pct = IntegerField(_l("最大折扣（%）"), validators=[Optional(), NumberRange(1, 99, message=_l(
        "最大折扣须在 1 到 99 之间，或留空表示不限。"))])
    product_codes = StringField(_l("允许的商品编码（空：不限）"), validators=[Optional(), Length(max=4000)],
                                render_kw={"placeholder": "P001, P002"})
    category_codes = StringField(_l("允许的品类编码（空：不限）"), validators=[Optional(), Length(max=1000)])

    def _lookup(self, model, field):
        codes = _codes(field.data)
        found = dict(db.session.execute(select(model.code, model.id).where(model.code.in_(codes))).all()) if codes else {}
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(_("没有这些编码：%(codes)s", codes="、".join(missing[:5])))
        return sorted(found.values())

    def validate_product_codes(self, field) -> None:
        self.product_ids = self._lookup(Product, field)

    def validate_category_codes(self, field) -> None:
        self.category_ids = self._lookup(Category, field)

    def fill(self, row: limits.Limits) -> None:
        self.max_depth_pct.data = row.max_depth_pct
        self.product_codes.data = ", ".join(db.session.scalars(
            select(Product.code).where(Product.id.in_(row.product_ids or [-1])).order_by(Product.code)))
        self.category_codes.data = ", ".join(db.session.scalars(
            select(Category.code).where(Category.id.in_(row.category_ids or [-1])).order_by(Category.code)))


def url_key(tier: str) -> str:
    """The tier as the page's URLs and form prefixes name it ("default" for "*")."""
    return "default" if tier == limits.DEFAULT else tier


def register_dealer_limit_pages(bp: Blueprint, guard) -> None:
    def page(forms, status=200):
        return render_page("shared/promotions/dealer_limits.html", status=status, layout="admin/layout.html",
                           endpoint=bp.name, forms=forms, url_key=url_key)

    def forms_for(table) -> dict:
        forms = {}
        for tier in limits.TIERS:
            form = DealerLimitForm(formdata=None, prefix=url_key(tier))
            form.fill(table.get(tier) or limits.Limits())
            forms[tier] = form
        return forms

    def dealer_limits():
        guard()
        return page(forms_for(limits.all_limits()))

    def dealer_limits_save(tier: str):
        guard()
        tier = limits.DEFAULT if tier == "default" else tier
        if tier not in limits.TIERS:
            abort(404)
        forms = forms_for(limits.all_limits())
        form = forms[tier] = DealerLimitForm(prefix=url_key(tier))
        if not form.validate_on_submit():
            return page(forms, 400)
        outcome = attempt(form, limits.save_limits, current_user, tier, form.max_depth_pct.data,
                          getattr(form, "product_ids", []), getattr(form, "category_ids", []))
        if not outcome.ok:
            return page(forms, outcome.status)
        flash(_("经销商促销限制已保存，立即生效。"), "success")
        return redirect_to(url_for(f"{bp.name}.dealer_limits"))

    bp.add_url_rule("/promotions/dealer-limits", "dealer_limits", dealer_limits)
    bp.add_url_rule("/promotions/dealer-limits/<tier>", "dealer_limits_save", dealer_limits_save, methods=["POST"])
