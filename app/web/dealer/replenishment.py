"""Replenishment, the dealer buying from the brand: the catalog at the dealer's own prices, the
cart (with reorder suggestions from its stock) and checkout, exactly once, through the same
services as a retailer's (app/services/ordering/cart.py, replenishment.place_replenishment). The
dealer's replenishment orders are in replenishment_orders.py."""
import secrets
from urllib.parse import parse_qs, urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import OrderStatus
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.services.ordering import replenishment
from app.services.catalog import storefront
from app.services.core.errors import DomainError
from app.web.common.access import current_org
from app.web.shared.ordering.cart_views import remove_cart_line, update_cart_line
from app.web.dealer import bp
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import is_htmx, redirect_to, render_page
from app.web.retailer.forms import AddToCartForm, CatalogSearchForm, CheckoutForm


def _back(target: str | None) -> str:
    """Where a plain add-to-cart form returns: the replenishment catalog page it came from."""
    catalog = url_for("dealer.replenishment_catalog")
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path == catalog and "#" not in target:
            return target.rstrip("?")
    return catalog


def _catalog(args: MultiDict, back_url: str, status: int = 200, row_errors=None, row_values=None, page_errors=()):
    form = CatalogSearchForm(formdata=args)
    listing = storefront.browse_catalog(current_user, current_org(), per_page=current_app.config["PAGE_SIZE"],
                                        **form.criteria())
    form.set_categories(listing.categories, str(get_locale()))
    shown = {p.id for p in listing.page.items}
    page_errors = list(page_errors) + [m for pid, m in (row_errors or {}).items() if pid not in shown]
    params = {k: v for k, v in (("q", form.clean("q", "")), ("category", form.clean("category"))) if v}
    return render_page("dealer/replenishment/catalog.html", "dealer/replenishment/_catalog.html", status,
                       form=form, listing=listing, params=params, back_url=back_url, row_errors=row_errors or {},
                       row_values=row_values or {}, row_notes={}, page_errors=page_errors,
                       cart_count=listing.cart_count, oob_count=False)


@bp.get("/replenishment/")
def replenishment_catalog():
    return _catalog(request.args, request.full_path.rstrip("?"))


@bp.post("/replenishment/cart/add")
def replenishment_cart_add():
    form = AddToCartForm()
    back = _back(form.next.data)
    if form.validate_on_submit():
        try:
            cart.add_to_cart(current_user, current_org(), form.product_id.data, form.qty.data)
        except DomainError as error:
            show_error(form, error)
        else:
            db.session.commit()
            message = _("已加入购物车：%(n)d。", n=form.qty.data)
            if is_htmx():
                return _row(form.product_id.data, back, notes={form.product_id.data: message})
            flash(message, "success")
            return redirect(f"{back}#p{form.product_id.data}", code=303)
    db.session.rollback()
    product_id = form.product_id.data
    errors = " ".join(str(m) for messages in form.errors.values() for m in messages)
    raw_qty = (form.qty.raw_data or [""])[0][:12]
    known = bool(product_id) and 0 < product_id < 2**63 and \
        storefront.catalog_row(current_user, current_org(), product_id) is not None
    if is_htmx() and known:
        return _row(product_id, back, status=422, errors={product_id: errors}, values={product_id: raw_qty})
    args = MultiDict(parse_qs(urlsplit(back).query))
    if known:
        return _catalog(args, back, 400, row_errors={product_id: errors}, row_values={product_id: raw_qty})
    return _catalog(args, back, 422 if is_htmx() else 400, page_errors=[errors])


def _row(product_id: int, back: str, status: int = 200, errors=None, values=None, notes=None):
    row = storefront.catalog_row(current_user, current_org(), product_id)
    return render_page("dealer/replenishment/_row_update.html", status=status, p=row.product, listing=row,
                       back_url=back, row_errors=errors or {}, row_values=values or {}, row_notes=notes or {},
                       cart_count=row.cart_count, oob_count=True)


# --- the cart ---------------------------------------------------------------------------------

def _cart(quote: cart.CartQuote | None = None, checkout: CheckoutForm | None = None, status: int = 200, *,
          key: str | None = None, notice: str | None = None, line_errors=None, line_values=None):
    """The cart page, or its fragment for htmx. Never cached: the checkout carries a fresh key."""
    quote = quote or cart.quote_cart(current_user, current_org())
    return render_page("dealer/replenishment/cart.html", "dealer/replenishment/_cart.html", status, quote=quote,
                       checkout=checkout or CheckoutForm(formdata=None), idempotency_key=key or secrets.token_urlsafe(18),
                       notice=notice, line_errors=line_errors or {}, line_values=line_values or {},
                       suggestions=replenishment.reorder_suggestions(current_user, current_org()),
                       suggest_form=ActionForm())


@bp.get("/replenishment/cart")
def replenishment_cart():
    return _cart()


@bp.post("/replenishment/cart/lines/<int:line_id>")
def replenishment_cart_line_update(line_id: int):
    return update_cart_line(current_org(), line_id, _changed,
                            lambda quote, status, **line_kw: _cart(quote, status=status, **line_kw))


@bp.post("/replenishment/cart/lines/<int:line_id>/remove")
def replenishment_cart_line_remove(line_id: int):
    return remove_cart_line(current_org(), line_id, _changed)


@bp.post("/replenishment/cart/suggestions")
def replenishment_add_suggestions():
    """Put the reorder suggestions (from the dealer's stock and reorder points) in the cart."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        refill = replenishment.add_suggestions_to_cart(current_user, current_org())
    except DomainError as error:
        db.session.rollback()
        return _changed(error.message, "warning")
    db.session.commit()
    return _changed(_("已按补货建议加入 %(n)d 种商品。", n=len(refill.added)))


def _changed(message: str, category: str = "success"):
    if is_htmx():
        return _cart(notice=message)
    flash(message, category)
    return redirect_to(url_for("dealer.replenishment_cart"))


@bp.post("/replenishment/cart/checkout")
def replenishment_checkout():
    form = CheckoutForm()
    if not form.validate_on_submit():
        db.session.rollback()
        broken = form.idempotency_key.errors or form.fingerprint.errors
        return _cart(checkout=form, status=422 if is_htmx() else 400, key=None if broken else form.idempotency_key.data,
                     notice=_("提交无效，请刷新页面后重试。") if broken else None)
    key = form.idempotency_key.data
    try:
        submission = replenishment.place_replenishment(current_user, current_org(), key, form.fingerprint.data or None,
                                                       accept_changes=form.accept_changes.data == "1",
                                                       note=form.note.data or "")
    except ordering.PricesChanged as changed:
        db.session.rollback()
        return _cart(changed.quote, form, 409, key=key, notice=changed.message)
    except ordering.KeyReused as reused:
        db.session.rollback()
        return _cart(checkout=form, status=409, notice=reused.message)
    except DomainError as error:
        db.session.rollback()
        return _cart(checkout=form, status=409, key=key, notice=error.message)
    db.session.commit()
    order = submission.order
    if not submission.created:
        flash(_("补货单 %(n)s 已提交过，没有重复下单。", n=order.number), "info")
    elif order.status == OrderStatus.APPROVED.value:
        flash(_("补货单 %(n)s 已提交，并已自动审核通过。", n=order.number), "success")
    elif order.status == OrderStatus.ON_HOLD.value:
        flash(_("补货单 %(n)s 已提交，等待品牌方审核。", n=order.number), "info")
    else:
        flash(_("补货单 %(n)s 已提交。", n=order.number), "success")
    return redirect_to(url_for("dealer.replenishment_detail", order_id=order.id))
