"""Ordering on a retailer's behalf: the catalog with the retailer's prices, its usual products
(one tap to add), and the cart the rep builds for it, checked out exactly once. The same cart,
catalog and checkout services as the retailer's own pages (the rep owns the cart, the retailer
buys); the retailer's catalog row template is reused. Everything works without JavaScript."""
import secrets
from urllib.parse import parse_qsl, urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Organisation
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.services.field_sales import portal as rep_portal
from app.services.catalog import storefront
from app.services.core.errors import DomainError, NotFound
from app.web.shared.ordering.cart_views import remove_cart_line, update_cart_line
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import is_htmx, redirect_to, render_page
from app.web.rep import bp
from app.web.retailer.common import thumb_url
from app.web.retailer.forms import AddToCartForm, CatalogSearchForm, CheckoutForm


def _retailer(retailer_id: int) -> Organisation:
    try:
        return rep_portal.rep_retailer(current_user, retailer_id)[0]
    except NotFound:
        abort(404)


def _order_url(retailer_id: int, **params) -> str:
    return url_for("rep.order_entry", retailer_id=retailer_id, **params)


def _back_url(retailer_id: int, target: str | None) -> str:
    """Where a plain add-to-cart form returns: the order page it came from, never elsewhere."""
    page = _order_url(retailer_id)
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path == page and "#" not in target:
            return target.rstrip("?")
    return page


def row_text(retailer_id: int) -> dict:
    """The fixed strings of the catalog rows (retailer/_product_row.html), built once per page."""
    return {"add": _("加入"), "qty": _("数量"), "min": _("起订 %(n)d"), "multiple": _("%(n)d 的倍数"),
            "pack": _("每%(unit)s %(n)d"), "in_cart": _("购物车中 %(n)d"),
            "add_url": url_for("rep.cart_add", retailer_id=retailer_id), "csrf": generate_csrf(),
            "locale": str(get_locale()), "max_qty": cart.MAX_LINE_QTY}


def cart_context(retailer: Organisation, quote: cart.CartQuote, checkout: CheckoutForm | None = None, *,
                 key: str | None = None, notice: str | None = None, line_errors=None, line_values=None,
                 oob: bool = False) -> dict:
    """What rep/_cart.html needs. A fresh idempotency key unless the page is shown again after
    a refused submit (then the same key, so a double tap still makes one order)."""
    return dict(retailer=retailer, quote=quote, checkout=checkout or CheckoutForm(formdata=None),
                idempotency_key=key or secrets.token_urlsafe(18), notice=notice, line_errors=line_errors or {},
                line_values=line_values or {}, oob=oob)


def _page(retailer_id: int, args: MultiDict, status: int = 200, *, row_errors=None, row_values=None,
          page_errors=(), **cart_kw):
    """The order page (the catalog list alone for an htmx search). `cart_kw` go to cart_context:
    a refused checkout's form and key, a notice, a cart line's error."""
    form = CatalogSearchForm(formdata=args)
    criteria = form.criteria()
    try:
        desk = rep_portal.order_desk(current_user, retailer_id, criteria["search"], criteria["category_id"],
                                     criteria["page"], per_page=current_app.config["PAGE_SIZE"])
    except NotFound:
        abort(404)
    form.set_categories(desk.listing.categories, str(get_locale()))
    params = {k: v for k, v in (("q", form.clean("q", "")), ("category", form.clean("category"))) if v}
    shown = {p.id for p in desk.listing.page.items}
    page_errors = list(page_errors) + [m for pid, m in (row_errors or {}).items() if pid not in shown]
    back_url = _order_url(retailer_id, **params, page=criteria["page"] if criteria["page"] > 1 else None)
    return render_page("rep/order.html", "rep/_catalog_list.html", status, form=form, desk=desk,
                       listing=desk.listing, params=params, back_url=back_url,
                       row_errors=row_errors or {}, row_values=row_values or {}, row_notes={},
                       page_errors=page_errors, thumb_url=thumb_url, text=row_text(retailer_id),
                       usual=desk.usual, usual_days=rep_portal.USUAL_PRODUCTS_DAYS, usual_in_place=True,
                       **cart_context(desk.retailer, desk.quote, **cart_kw))


@bp.get("/retailers/<int:retailer_id>/order")
def order_entry(retailer_id: int):
    return _page(retailer_id, request.args)


def _render_cart(retailer: Organisation, status: int = 200, **kw):
    quote = kw.pop("quote", None) or cart.quote_cart(current_user, retailer)
    return render_page("rep/_cart.html", status=status, **cart_context(retailer, quote, **kw))


def _cart_changed(retailer: Organisation, message: str, anchor: str = "rep-cart"):
    """After a change: the cart fragment for htmx, back to the order page otherwise."""
    if is_htmx():
        return _render_cart(retailer, notice=message)
    flash(message, "success")
    return redirect_to(_order_url(retailer.id) + f"#{anchor}")


@bp.post("/retailers/<int:retailer_id>/cart/add")
def cart_add(retailer_id: int):
    retailer = _retailer(retailer_id)
    form = AddToCartForm()
    back = _back_url(retailer_id, form.next.data)
    if form.validate_on_submit():
        try:
            cart.add_to_cart(current_user, retailer, form.product_id.data, form.qty.data)
        except DomainError as error:
            show_error(form, error)
        else:
            db.session.commit()
            return _added(retailer, form.product_id.data, form.qty.data, back)
    db.session.rollback()
    return _add_failed(retailer, form, back)


def _added(retailer: Organisation, product_id: int, qty: int, back: str):
    message = _("已加入购物车：%(n)d。", n=qty)
    if not is_htmx():
        flash(message, "success")
        return redirect(f"{back}#p{product_id}", code=303)
    row = storefront.catalog_row(current_user, retailer, product_id)
    return render_page("rep/_row_added.html", p=row.product, listing=row, back_url=back, row_errors={},
                       row_values={}, row_notes={row.product.id: message}, thumb_url=thumb_url,
                       text=row_text(retailer.id),
                       **cart_context(retailer, cart.quote_cart(current_user, retailer), oob=True))


def _add_failed(retailer: Organisation, form: AddToCartForm, back: str):
    """The message next to the quantity: the row alone for htmx (422), the order page the form
    came from otherwise (400). Nothing was saved."""
    product_id = form.product_id.data
    qty_errors = " ".join(str(m) for m in form.qty.errors)
    other_errors = [str(m) for name in ("product_id", "next") for m in getattr(form, name).errors] + [
        str(m) for m in form.form_errors]
    row = None
    if product_id and not other_errors and 0 < product_id < 2**63:
        row = storefront.catalog_row(current_user, retailer, product_id)
    raw_qty = (form.qty.raw_data or [""])[0][:12]
    if is_htmx():
        if row is None:
            return render_page("retailer/_row_error.html", status=422, product_id=product_id or 0,
                               message=" ".join(other_errors) or qty_errors)
        return render_page("retailer/_product_row.html", status=422, p=row.product, listing=row, back_url=back,
                           row_errors={product_id: qty_errors}, row_values={product_id: raw_qty}, row_notes={},
                           thumb_url=thumb_url, text=row_text(retailer.id))
    args = MultiDict(parse_qsl(urlsplit(back).query))
    if row is None:
        return _page(retailer.id, args, 400, page_errors=other_errors or [qty_errors])
    return _page(retailer.id, args, 400, row_errors={product_id: qty_errors}, row_values={product_id: raw_qty})


@bp.post("/retailers/<int:retailer_id>/usual/<int:product_id>/add")
def usual_add(retailer_id: int, product_id: int):
    """One tap on a usual product: its usual quantity goes into the cart."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        usual = rep_portal.add_usual_product(current_user, retailer_id, product_id)
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        retailer = _retailer(retailer_id)
        if is_htmx():
            return _render_cart(retailer, 422, notice=error.message)
        return _page(retailer_id, MultiDict(), 400, notice=error.message)
    db.session.commit()
    message = _("已加入购物车：%(name)s %(n)d%(unit)s。", name=usual.product.name(str(get_locale())),
                n=usual.usual_qty, unit=usual.product.unit)
    return _cart_changed(_retailer(retailer_id), message)


@bp.post("/retailers/<int:retailer_id>/cart/lines/<int:line_id>")
def cart_line_update(retailer_id: int, line_id: int):
    retailer = _retailer(retailer_id)

    def refused(quote: cart.CartQuote, status: int, **line_kw):
        if is_htmx():
            return _render_cart(retailer, status, quote=quote, **line_kw)
        return _page(retailer_id, MultiDict(), status, **line_kw)

    return update_cart_line(retailer, line_id, lambda message: _cart_changed(retailer, message), refused)


@bp.post("/retailers/<int:retailer_id>/cart/lines/<int:line_id>/remove")
def cart_line_remove(retailer_id: int, line_id: int):
    retailer = _retailer(retailer_id)
    return remove_cart_line(retailer, line_id, lambda message: _cart_changed(retailer, message))


@bp.post("/retailers/<int:retailer_id>/checkout")
def checkout(retailer_id: int):
    retailer = _retailer(retailer_id)
    form = CheckoutForm()
    if not form.validate_on_submit():
        db.session.rollback()
        broken = form.idempotency_key.errors or form.fingerprint.errors
        return _checkout_refused(retailer, form, 422 if is_htmx() else 400,
                                 key=None if broken else form.idempotency_key.data,
                                 notice=_("提交无效，请刷新页面后重试。") if broken else None)
    key = form.idempotency_key.data
    try:
        submission = rep_portal.place_order_for_retailer(current_user, retailer.id, key, form.fingerprint.data or None,
                                                         accept_changes=form.accept_changes.data == "1",
                                                         note=form.note.data or "")
    except ordering.PricesChanged as changed:
        db.session.rollback()
        return _checkout_refused(retailer, form, 409, key=key, notice=changed.message, quote=changed.quote)
    except ordering.KeyReused as reused:
        db.session.rollback()
        return _checkout_refused(retailer, form, 409, notice=reused.message)
    except DomainError as error:
        db.session.rollback()
        return _checkout_refused(retailer, form, 409, key=key, notice=error.message)
    db.session.commit()
    order = submission.order
    if submission.created:
        flash(_("已为 %(name)s 提交订单 %(number)s。", name=retailer.name, number=order.number), "success")
        if submission.dropped:
            flash(_("已移除不可订购的商品：%(names)s", names=_("、").join(p.name(str(get_locale())) for p in submission.dropped)),
                  "warning")
    else:
        flash(_("订单 %(number)s 已提交过，没有重复下单。", number=order.number), "info")
    return redirect_to(url_for("rep.order_detail", order_id=order.id))


def _checkout_refused(retailer: Organisation, form: CheckoutForm, status: int, *, key=None, notice=None, quote=None):
    """The cart again with the reason: the fragment for htmx, the whole order page otherwise."""
    if is_htmx():
        return _render_cart(retailer, status, quote=quote, checkout=form, key=key, notice=notice)
    return _page(retailer.id, MultiDict(), status, notice=notice, checkout=form, key=key)
