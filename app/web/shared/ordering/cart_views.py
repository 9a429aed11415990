"""The counter's cart: the page, and a line's quantity changed or the line removed, in place with
htmx (the cart fragment again, with the notice) or by plain form (a redirect to the cart). A line
that is not in the buyer's cart built by the caller is a 404 (cart.LineNotFound)."""
from __future__ import annotations

from flask import abort, flash
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Organisation
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.web.common.envelope import attempt, error_status
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, wants_fragment
from app.web.shared.ordering.counter import Counter
from app.web.shared.ordering.forms import CartLineForm, CouponForm, raw_value
from app.web.shared.ordering.pages import show_cart


def cart_page(counter: Counter, **path):
    return show_cart(counter, counter.find_buyer(**path))


def cart_line_update(counter: Counter, line_id: int, **path):
    """Set a line's quantity from the posted form."""
    buyer = counter.find_buyer(**path)
    form = CartLineForm()
    if form.validate_on_submit():
        if attempt(form, cart.update_line, current_user, buyer, line_id, form.qty.data).ok:
            return cart_changed(counter, buyer, _("数量已更新。"))
    quote = cart.quote_cart(current_user, buyer)
    if line_id not in {line.line_id for line in quote.lines}:
        abort(404)
    errors = " ".join(str(m) for m in list(form.qty.errors) + list(form.form_errors))
    return show_cart(counter, buyer, error_status(), quote=quote, line_errors={line_id: errors},
                     line_values={line_id: raw_value(form.qty)})


def cart_line_remove(counter: Counter, line_id: int, **path):
    """Remove a line; 400 without a valid CSRF token."""
    buyer = counter.find_buyer(**path)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(None, cart.remove_line, current_user, buyer, line_id)
    return cart_changed(counter, buyer, _("已从购物车移除。"))


def coupon_apply(counter: Counter, **path):
    """Put a coupon code on the cart; a refused code shows its reason next to the field and
    changes nothing."""
    buyer = counter.find_buyer(**path)
    form = CouponForm()
    if form.validate_on_submit():
        if attempt(form, cart.enter_coupon, current_user, buyer, form.coupon_code.data).ok:
            return cart_changed(counter, buyer, _("优惠券已使用。"))
    return show_cart(counter, buyer, error_status(), coupon_form=form)


def coupon_remove(counter: Counter, **path):
    buyer = counter.find_buyer(**path)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(None, cart.leave_coupon, current_user, buyer)
    return cart_changed(counter, buyer, _("已取消使用优惠券。"))


def order_again(counter: Counter, order_id: int, **path):
    """Fill the cart from one of the buyer's earlier orders (another buyer's order is a 404),
    naming what can no longer be ordered, then go to the cart."""
    buyer = counter.find_buyer(**path)
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = attempt(None, ordering.order_again, current_user, buyer, order_id)
    if not outcome.ok:
        flash(outcome.error.message, "warning")
        return redirect_to(counter.cart_url(buyer))
    refill = outcome.result
    if refill.added:
        flash(_("已将 %(n)d 种商品加入购物车。", n=len(refill.added)), "success")
    if refill.skipped:
        locale = str(get_locale())
        flash(_("以下商品已不可订购，未加入：%(names)s", names=_("、").join(p.name(locale) for p in refill.skipped)),
              "warning")
    return redirect_to(counter.cart_url(buyer))


def cart_changed(counter: Counter, buyer: Organisation, message: str, category: str = "success"):
    """After a change to the cart (here, or the role's own: the rep's usual products, the dealer's
    reorder suggestions): the cart fragment for htmx, a redirect to the cart otherwise."""
    if wants_fragment():
        return show_cart(counter, buyer, notice=message)
    flash(message, category)
    return redirect_to(counter.cart_url(buyer))
