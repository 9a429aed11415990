"""Presale campaigns (预售) for admins holding "marketing": the list with commitments against the
planned production, the campaign form (errors next to the fields), products of a draft, and
the open / close / release buttons (release runs as a job after the commit)."""
from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, IntegerField, RadioField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.models.vocabulary import PresaleRule
from app.services.campaigns import presale, presale_reports
from app.web.admin import bp
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.fields import YuanField, choices
from app.web.common.forms import ActionForm, Form
from app.web.common.htmx import redirect_to, render_page


class CampaignForm(Form):
    code = StringField(_l("编号"), validators=[InputRequired(message=_l("请输入编号。")), Length(max=30)])
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请输入名称。")), Length(max=120)])
    deposit_pct = IntegerField(_l("定金比例（%，100 为全款预付）"),
                               validators=[InputRequired(message=_l("请输入 1 到 100 的整数。")), NumberRange(1, 100)])
    non_payment = RadioField(_l("尾款逾期未付时定金"), choices=choices(PresaleRule.labels()),
                             default=PresaleRule.REFUND.value)
    deposit_opens_on = DateField(_l("定金开始日"), validators=[InputRequired(message=_l("请输入日期。"))])
    deposit_closes_on = DateField(_l("定金截止日"), validators=[InputRequired(message=_l("请输入日期。"))])
    release_on = DateField(_l("发布日（到货）"), validators=[InputRequired(message=_l("请输入日期。"))])
    balance_opens_on = DateField(_l("尾款开始日"), validators=[InputRequired(message=_l("请输入日期。"))])
    balance_closes_on = DateField(_l("尾款截止日"), validators=[InputRequired(message=_l("请输入日期。"))])

    def values(self) -> presale.CampaignInput:
        return presale.CampaignInput(**{name: getattr(self, name).data for name in presale.CampaignInput.__annotations__})


class ItemForm(Form):
    product_code = StringField(_l("商品编码"), validators=[InputRequired(message=_l("请输入商品编码。")), Length(max=30)])
    price = YuanField(_l("预售价（元/销售单位）"), validators=[InputRequired(message=_l("请输入预售价。"))],
                      render_kw={"inputmode": "decimal"})
    planned_qty = IntegerField(_l("计划生产数量（预售上限）"),
                               validators=[InputRequired(message=_l("请输入计划数量。")), NumberRange(1, 10_000_000)])
    per_customer_limit = IntegerField(_l("每店限购（空：不限）"), validators=[Optional(), NumberRange(1, 10_000_000)])


def _guard() -> None:
    if not current_user.can("marketing"):
        abort(403)


def _page(template: str, status: int = 200, **context):
    return render_page(template, status=status, **context)


@bp.route("/presale")
def presale_list():
    _guard()
    return _page("admin/presale/list.html", rows=presale_reports.campaign_list())


@bp.route("/presale/new")
def presale_new():
    _guard()
    return _page("admin/presale/form.html", form=CampaignForm(formdata=None), campaign_id=None)


def _save(form: CampaignForm, campaign_id: int | None):
    if form.validate_on_submit():
        outcome = attempt(form, presale.save_campaign, current_user, form.values(), campaign_id)
        if outcome.ok:
            flash(_("预售活动 %(code)s 已保存。", code=outcome.result.code), "success")
            return redirect_to(url_for("admin.presale_detail", campaign_id=outcome.result.id))
        status = outcome.status
    else:
        status = 400
    return _page("admin/presale/form.html", status, form=form, campaign_id=campaign_id)


@bp.route("/presale/new", methods=["POST"])
def presale_create():
    _guard()
    return _save(CampaignForm(), None)


@bp.route("/presale/<int:campaign_id>/edit")
def presale_edit(campaign_id: int):
    _guard()
    row = presale.campaign(campaign_id)
    form = CampaignForm(formdata=None, obj=row)
    return _page("admin/presale/form.html", form=form, campaign_id=row.id)


@bp.route("/presale/<int:campaign_id>/edit", methods=["POST"])
def presale_update(campaign_id: int):
    _guard()
    presale.campaign(campaign_id)
    return _save(CampaignForm(), campaign_id)


def _detail(campaign_id: int, item_form: ItemForm | None = None, status: int = 200):
    summary, items = presale_reports.campaign_detail(campaign_id)
    return _page("admin/presale/detail.html", status, summary=summary, items=items,
                 item_form=item_form or ItemForm(formdata=None), action_form=ActionForm())


@bp.route("/presale/<int:campaign_id>")
def presale_detail(campaign_id: int):
    _guard()
    return _detail(campaign_id)


@bp.route("/presale/<int:campaign_id>/items", methods=["POST"])
def presale_item_add(campaign_id: int):
    _guard()
    presale.campaign(campaign_id)
    form = ItemForm()
    if form.validate_on_submit():
        outcome = attempt(form, presale.add_item, current_user, campaign_id, product_code=form.product_code.data,
                          price_fen=form.price.data, planned_qty=form.planned_qty.data,
                          per_customer_limit=form.per_customer_limit.data)
        if outcome.ok:
            flash(_("已添加预售商品。"), "success")
            return redirect_to(url_for("admin.presale_detail", campaign_id=campaign_id))
        return _detail(campaign_id, form, outcome.status)
    return _detail(campaign_id, form, 400)


def _button(campaign_id: int, service, done: str):
    _guard()
    presale.campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    flash_outcome(attempt(None, service, current_user, campaign_id), done)
    return redirect_to(url_for("admin.presale_detail", campaign_id=campaign_id))


@bp.route("/presale/<int:campaign_id>/open", methods=["POST"])
def presale_open(campaign_id: int):
    return _button(campaign_id, presale.open_campaign, _("预售已开始接受定金。"))


@bp.route("/presale/<int:campaign_id>/close", methods=["POST"])
def presale_close(campaign_id: int):
    return _button(campaign_id, presale.close_campaign, _("预售已截单。"))


@bp.route("/presale/<int:campaign_id>/release", methods=["POST"])
def presale_release(campaign_id: int):
    return _button(campaign_id, presale.request_release, _("已开始发布：预售订单转入正常流程，尾款通知客户。"))
