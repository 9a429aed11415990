"""The retailer's presale pages (phone first, plain forms): presale products with their release
date and what is paid when, the order form of one product, and "my presale orders" with the
button that pays a due balance from the prepayment balance."""
from __future__ import annotations

import uuid

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice
from wtforms.validators import InputRequired, NumberRange

from app.models.vocabulary import OrderPayment
from app.services.campaigns import presale, presale_reports
from app.services.ordering import delivery_terms
from app.web.common.access import current_org
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm, Form
from app.web.common.htmx import redirect_to
from app.web.retailer import bp
from app.web.retailer.common import retailer_page


class PresaleOrderForm(Form):
    qty = IntegerField(_l("数量"), validators=[InputRequired(message=_l("请输入数量。")), NumberRange(1, presale.MAX_QTY)],
                       render_kw={"inputmode": "numeric"})
    # Choices per shop (offer_methods); the service refuses 赊账 for a shop not on credit.
    payment_method = RadioField(_l("尾款付款方式"), choices=[], default=OrderPayment.PREPAYMENT.value,
                                validate_choice=False)
    idempotency_key = HiddenField()

    def offer_methods(self) -> "PresaleOrderForm":
        """The balance's payment methods the shop may use (delivery_terms.payment_options)."""
        methods = delivery_terms.checkout_facts(current_org()).payment.methods
        self.payment_method.choices = [SelectChoice(m, OrderPayment.label_of(m)) for m in methods]
        return self


@bp.get("/presale")
def presale_offers():
    return retailer_page("retailer/presale.html", "retailer/_presale_offers.html", offers=presale_reports.offers(current_org()),
                         split=presale.split)


def _item_page(item, form: PresaleOrderForm, status: int = 200):
    qty = form.qty.data if isinstance(form.qty.data, int) and 0 < form.qty.data <= presale.MAX_QTY else 1
    return retailer_page("retailer/presale_item.html", status=status, item=item, form=form, c=item.campaign,
                         money=presale.split(item.price_fen, qty, item.campaign.deposit_pct),
                         held=dict((i.id, h) for i, h in presale_reports.offers(current_org())).get(item.id, 0))


@bp.get("/presale/<int:presale_item_id>")
def presale_item(presale_item_id: int):
    item = presale.open_item(presale_item_id)
    form = PresaleOrderForm(formdata=None, qty=1, idempotency_key=uuid.uuid4().hex).offer_methods()
    return _item_page(item, form)


@bp.post("/presale/<int:presale_item_id>")
def presale_order(presale_item_id: int):
    item = presale.open_item(presale_item_id)
    form = PresaleOrderForm().offer_methods()
    if not form.validate_on_submit():
        return _item_page(item, form, 400)
    outcome = attempt(form, presale.place_order, current_user, current_org(), item.id, form.qty.data,
                      form.payment_method.data, form.idempotency_key.data)
    if outcome.ok:
        flash(_("预售订单 %(n)s 已提交，定金已从预存款支付。", n=outcome.result.order.number), "success")
        return redirect_to(url_for("retailer.presale_orders"))
    return _item_page(presale.open_item(presale_item_id), form, outcome.status)


@bp.get("/presale/orders")
def presale_orders():
    return retailer_page("retailer/presale_orders.html", "retailer/_presale_orders.html",
                         rows=presale_reports.orders_of(current_user.org_id), action_form=ActionForm())


@bp.post("/presale/orders/<int:presale_order_id>/pay")
def presale_pay_balance(presale_order_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    flash_outcome(attempt(None, presale.pay_balance, current_user, current_org(), presale_order_id),
                  _("尾款已从预存款支付。"))
    return redirect_to(url_for("retailer.presale_orders"))
