"""The cart: change quantities and remove lines (in place with htmx or by plain form), and
check out exactly once."""
import secrets

from flask import flash, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services.approval import automatic as approval
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.services.core.errors import DomainError
from app.web.common.access import current_org
from app.web.shared.ordering.cart_views import remove_cart_line, update_cart_line
from app.web.common.htmx import is_htmx, redirect_to
from app.web.retailer import bp
from app.web.retailer.common import retailer_page
from app.web.retailer.forms import CheckoutForm


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(18)


def _render(quote: cart.CartQuote, checkout: CheckoutForm | None = None, status: int = 200, *,
            key: str | None = None, notice: str | None = None, line_errors=None, line_values=None):
    """The cart page, or its fragment (with the badge out of band) for htmx. Never cached: the
    checkout form carries a fresh idempotency key."""
    checkout = checkout or CheckoutForm(formdata=None)
    return retailer_page("retailer/cart.html", "retailer/_cart.html", status,
                         quote=quote, checkout=checkout, idempotency_key=key or new_idempotency_key(),
                         notice=notice, line_errors=line_errors or {}, line_values=line_values or {},
                         oob_badge=is_htmx(), cart_count=quote.count)


@bp.get("/cart")
def cart_page():
    return _render(cart.quote_cart(current_user, current_org()))


@bp.post("/cart/lines/<int:line_id>")
def cart_line_update(line_id: int):
    return update_cart_line(current_org(), line_id, _changed,
                            lambda quote, status, **line_kw: _render(quote, status=status, **line_kw))


@bp.post("/cart/lines/<int:line_id>/remove")
def cart_line_remove(line_id: int):
    return remove_cart_line(current_org(), line_id, _changed)


def _changed(message: str):
    """After a change: the cart fragment for htmx, a redirect to the cart otherwise."""
    if is_htmx():
        return _render(cart.quote_cart(current_user, current_org()), notice=message)
    flash(message, "success")
    return redirect_to(url_for("retailer.cart_page"))


@bp.post("/cart/checkout")
def checkout():
    form = CheckoutForm()
    if not form.validate_on_submit():
        db.session.rollback()
        broken = form.idempotency_key.errors or form.fingerprint.errors
        return _render(cart.quote_cart(current_user, current_org()), form, 422 if is_htmx() else 400,
                       key=None if broken else form.idempotency_key.data,
                       notice=_("提交无效，请刷新页面后重试。") if broken else None)
    key = form.idempotency_key.data
    try:
        submission = approval.place_order(current_user, current_org(), key, form.fingerprint.data or None,
                                          accept_changes=form.accept_changes.data == "1", note=form.note.data or "")
    except ordering.PricesChanged as changed:
        db.session.rollback()
        return _render(changed.quote, form, 409, key=key, notice=changed.message)
    except ordering.KeyReused as reused:
        db.session.rollback()
        return _render(cart.quote_cart(current_user, current_org()), form, 409, notice=reused.message)
    except DomainError as error:
        db.session.rollback()
        return _render(cart.quote_cart(current_user, current_org()), form, 409, key=key, notice=error.message)
    db.session.commit()
    order = submission.order
    if not submission.created:
        flash(_("订单 %(number)s 已提交过，没有重复下单。", number=order.number), "info")
    else:
        flash(_("订单 %(number)s 已提交。", number=order.number), "success")
        if submission.dropped:
            flash(_("已移除不可订购的商品：%(names)s", names=_("、").join(p.name(str(get_locale())) for p in submission.dropped)),
                  "warning")
    return redirect_to(url_for("retailer.order_detail", order_id=order.id))
