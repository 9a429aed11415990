"""Brand admin (permission "marketing"): points settings, the points catalog, the member-tier
distribution and one retailer's ledger (looked up by code; only retailers, any other id is a
404). Forms put errors next to their fields; nothing is half saved."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.services.core.clock import today_local
from app.services.core.errors import NotFound
from app.services.loyalty import gifts, queries, settings
from app.services.loyalty.tiers import TIER_LABELS
from app.web.admin import bp
from app.web.common.access import permission_required
from app.web.common.envelope import attempt
from app.web.common.fields import YuanField
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page
from app.web.retailer.points import ENTRY_LABELS

WHOLE = dict(validators=[InputRequired(message=_l("请输入整数。")), NumberRange(0, 1_000_000)])


class SettingsForm(Form):
    earn_points_per_yuan = IntegerField(_l("每消费 ¥1 得积分"), **WHOLE)
    redeem_points_per_yuan = IntegerField(_l("多少积分抵 ¥1"), validators=[InputRequired(message=_l("请输入整数。")),
                                                                      NumberRange(1, 1_000_000)])
    max_redeem_pct = IntegerField(_l("积分最多抵订单的（%）"), validators=[InputRequired(message=_l("请输入整数。")),
                                                                     NumberRange(0, 100)])
    lot_life_days = IntegerField(_l("积分有效期（天）"), validators=[InputRequired(message=_l("请输入整数。")),
                                                                NumberRange(1, 3650)])
    notice_days = IntegerField(_l("到期前多少天提醒"), validators=[InputRequired(message=_l("请输入整数。")),
                                                              NumberRange(0, 365)])
    silver_from_fen = YuanField(_l("银卡门槛（近 12 个月消费，元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    gold_from_fen = YuanField(_l("金卡门槛（元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    diamond_from_fen = YuanField(_l("钻石门槛（元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    grace_days = IntegerField(_l("降级宽限期（天）"), validators=[InputRequired(message=_l("请输入整数。")),
                                                              NumberRange(0, 3650)])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in settings.NAMES}


class GiftForm(Form):
    product_code = StringField(_l("商品编码"), validators=[InputRequired(message=_l("请输入商品编码。")), Length(max=30)])
    points_price = IntegerField(_l("所需积分"), validators=[InputRequired(message=_l("请输入整数。")),
                                                        NumberRange(1, 100_000_000)])
    stock_cap = IntegerField(_l("可兑换数量上限"), validators=[InputRequired(message=_l("请输入整数。")),
                                                          NumberRange(0, 1_000_000)])
    active = BooleanField(_l("上架"), default=True)


class LookupForm(Form):
    class Meta:
        csrf = False  # a GET search

    code = StringField(_l("零售商编号"), validators=[Optional(), Length(max=20)])


def _home(lookup: LookupForm, status: int = 200):
    return render_page("admin/loyalty/home.html", status=status, distribution=queries.distribution(),
                       tier_labels=TIER_LABELS, lookup=lookup, config=settings.current())


@bp.get("/loyalty")
@permission_required("marketing")
def loyalty_home():
    return _home(LookupForm(formdata=None))


@bp.get("/loyalty/lookup")
@permission_required("marketing")
def loyalty_lookup():
    """A retailer's ledger by its code; no code: the overview; an unknown code (or one that is not a
    retailer's): the overview again with the reason next to the field, status 404."""
    form = LookupForm(request.args)
    if not (form.code.data or "").strip():
        return _home(form)
    if not form.validate():
        return _home(form, 400)
    try:
        retailer = queries.retailer_by_code(form.code.data)
    except NotFound as error:
        form.code.errors.append(error.message)
        return _home(form, 404)
    return redirect_to(url_for("admin.loyalty_retailer", retailer_id=retailer.id))


@bp.get("/loyalty/retailers/<int:retailer_id>")
@permission_required("marketing")
def loyalty_retailer(retailer_id: int):
    retailer = queries.retailer_by_id(retailer_id)
    page = request.args.get("page", "1")
    return render_page("admin/loyalty/retailer.html", "loyalty/_history.html", retailer=retailer,
                       summary=queries.summary(retailer.id, today_local()), lots=queries.lots(retailer.id),
                       history=queries.history(retailer.id, int(page) if page.isdigit() and len(page) < 7 else 1),
                       tier_labels=TIER_LABELS, entry_labels=ENTRY_LABELS, pager_endpoint="admin.loyalty_retailer",
                       pager_args={"retailer_id": retailer.id})


@bp.route("/loyalty/settings", methods=["GET", "POST"])
@permission_required("marketing")
def loyalty_settings():
    form = SettingsForm(formdata=None, data=settings.current().__dict__) if request.method == "GET" else SettingsForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            outcome = attempt(form, settings.save, current_user.id, form.values())
            if outcome.ok:
                flash(_("积分设置已保存。"), "success")
                return redirect_to(url_for("admin.loyalty_home"))
            status = outcome.status
        else:
            status = 400
    return render_page("admin/loyalty/settings.html", status=status, form=form)


@bp.get("/loyalty/gifts")
@permission_required("marketing")
def loyalty_gifts():
    return render_page("admin/loyalty/gifts.html", catalog=gifts.catalog(active_only=False))


def _gift_form_page(form, gift_id, status=200):
    return render_page("admin/loyalty/gift_form.html", status=status, form=form, gift_id=gift_id)


def _save_gift(form, gift_id):
    if form.validate_on_submit():
        outcome = attempt(form, gifts.save_gift, current_user.id, form.product_code.data, form.points_price.data,
                          form.stock_cap.data, form.active.data, gift_id)
        if outcome.ok:
            flash(_("礼品已保存。"), "success")
            return redirect_to(url_for("admin.loyalty_gifts"))
        return _gift_form_page(form, gift_id, outcome.status)
    return _gift_form_page(form, gift_id, 400)


@bp.route("/loyalty/gifts/new", methods=["GET", "POST"])
@permission_required("marketing")
def loyalty_gift_new():
    if request.method == "GET":
        return _gift_form_page(GiftForm(formdata=None), None)
    return _save_gift(GiftForm(), None)


@bp.route("/loyalty/gifts/<int:gift_id>", methods=["GET", "POST"])
@permission_required("marketing")
def loyalty_gift_edit(gift_id: int):
    row = gifts.gift(gift_id)  # NotFound: 404
    if request.method == "GET":
        return _gift_form_page(GiftForm(formdata=None, product_code=row.product.code, points_price=row.points_price,
                                        stock_cap=row.stock_cap, active=row.active), gift_id)
    return _save_gift(GiftForm(), gift_id)
