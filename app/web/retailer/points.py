"""The retailer's points (积分) and member tier: balance, expiring soon, tier and what the next
tier needs, history (paged; the list alone for htmx), and the points catalog where a gift is
bought with points (plain POST, redirect; a refusal shows the catalog again with the reason next
to the gift's quantity). Only the caller's own account is ever read."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from app.services.core.clock import today_local
from app.services.loyalty import gifts, queries
from app.services.loyalty.tiers import TIER_LABELS
from app.web.common.access import current_org
from app.web.common.envelope import attempt
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page
from app.web.retailer import bp

ENTRY_LABELS = {"earn": _l("订单积分"), "redeem": _l("下单抵扣"), "release": _l("订单取消退回"),
                "expire": _l("积分过期"), "clawback": _l("退货扣回"), "gift": _l("兑换礼品"),
                "gift_back": _l("礼品退回"), "adjust": _l("调整")}


class ClaimForm(Form):
    qty = IntegerField(_l("数量"), default=1, validators=[InputRequired(message=_l("请输入数量。")),
                                                         NumberRange(1, gifts.MAX_CLAIM_QTY)])


def _page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


@bp.get("/points")
def points():
    org = current_org()
    return render_page("retailer/points.html", "loyalty/_history.html",
                       summary=queries.summary(org.id, today_local()), expiry=queries.expiry_schedule(org.id),
                       history=queries.history(org.id, _page_arg()), tier_labels=TIER_LABELS,
                       entry_labels=ENTRY_LABELS, pager_endpoint="retailer.points", pager_args={})


def _gifts_page(status: int = 200, errors: dict | None = None):
    org = current_org()
    return render_page("retailer/points_gifts.html", status=status, catalog=gifts.catalog(),
                       summary=queries.summary(org.id, today_local()), form=ClaimForm(formdata=None),
                       errors=errors or {})


@bp.get("/points/gifts")
def points_gifts():
    return _gifts_page()


@bp.post("/points/gifts/<int:gift_id>/claim")
def points_gift_claim(gift_id: int):
    form = ClaimForm()
    if form.validate_on_submit():
        outcome = attempt(form, gifts.claim_gift, current_org().id, gift_id, form.qty.data)
        if outcome.ok:
            flash(_("已兑换，礼品将随您的下一张订单配送。"), "success")
            return redirect_to(url_for("retailer.points"))
        status = outcome.status
    else:
        status = 400
    gifts.gift(gift_id)  # an unknown gift is a 404, not a form error
    return _gifts_page(status, {gift_id: " ".join(str(e) for e in form.qty.errors + list(form.form_errors))
                                or _("兑换失败。")})
