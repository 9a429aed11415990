"""The catalog of the counter: the buyer's own prices, search as you type, and add to cart in
place (htmx: the row again, the cart count out of band) or by plain POST (back to the catalog
page the form came from)."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.models import Organisation
from app.services.catalog import storefront
from app.services.ordering import cart
from app.web.common.conditional import revalidate
from app.web.common.envelope import attempt
from app.web.common.htmx import is_htmx, render_page
from app.web.shared.ordering.counter import Counter
from app.web.shared.ordering.forms import AddToCartForm, SetQuantityForm, raw_value
from app.web.shared.ordering.pages import ROW_FLASH, cart_context, row_context, show_catalog


def catalog_page(counter: Counter, **path):
    buyer = counter.find_buyer(**path)
    response = show_catalog(counter, buyer, request.args, request.full_path.rstrip("?"))
    # A page that carries the checkout's one-time key must not be revalidated (see conditional).
    return response if counter.cart_on_catalog else revalidate(response)


def cart_add(counter: Counter, **path):
    buyer = counter.find_buyer(**path)
    form = AddToCartForm()
    back = counter.back_url(buyer, form.next.data)
    if form.validate_on_submit():
        outcome = attempt(form, _add, counter, buyer, form.product_id.data, form.qty.data, back)
        if outcome.ok:
            return outcome.result
    return _add_failed(counter, buyer, form, back)


def cart_set(counter: Counter, **path):
    """The stepper (− / + or a typed quantity): the cart holds that many of the product after."""
    buyer = counter.find_buyer(**path)
    form = SetQuantityForm.from_request()
    back = counter.back_url(buyer, form.next.data)
    if form.validate_on_submit():
        outcome = attempt(form, _set, counter, buyer, form.product_id.data, form.qty.data, back)
        if outcome.ok:
            return outcome.result
    return _add_failed(counter, buyer, form, back)


def _set(counter: Counter, buyer: Organisation, product_id: int, qty: int, back: str):
    """Set the quantity and build the answer in the same transaction, like `_add`."""
    cart.set_quantity(current_user, buyer, product_id, qty)
    return _quantity_set(counter, buyer, product_id, qty, back)


def _quantity_set(counter: Counter, buyer: Organisation, product_id: int, qty: int, back: str):
    """htmx: the row again (its stepper shows the quantity), the badge and the cart bar out of
    band; otherwise back to the same catalog page and row, with the news."""
    if not is_htmx():
        return _back_after_tap(counter, buyer, product_id, back, set=1) or _back_to_row(
            product_id, back, _("购物车中 %(n)d", n=qty) if qty else _("已从购物车移除。"))
    row = storefront.catalog_row(current_user, buyer, product_id)
    if row is None:  # removed from the cart and no longer orderable: nothing left to show
        return render_page(counter.pages.row_error, status=200, product_id=product_id,
                           message=_("已从购物车移除。"), counter=counter)
    context = row_context(counter, buyer, back)
    if counter.cart_on_catalog:
        context.update(cart_context(counter, buyer, oob=True))
    context["cart_count"] = row.cart_count
    return render_page("shared/ordering/_row_added.html", p=row.product, listing=row, **context)
def _add(counter: Counter, buyer: Organisation, product_id: int, qty: int, back: str):
    """Add to the cart and build the answer in the same transaction, before the commit: the row
    is read from what was just written, not in a second transaction after it."""
    added = storefront.add_to_cart(current_user, buyer, product_id, qty, row=is_htmx())
    return _added(counter, buyer, product_id, qty, added, back)


def _added(counter: Counter, buyer: Organisation, product_id: int, qty: int, added: storefront.Added, back: str):
    # One message says both what was added and what the cart now holds: the row shows it in
    # place of its "in the cart" line (htmx), the flash shows it alone (plain POST).
    message = _("已加入 %(n)d，购物车中共 %(total)d。", n=qty, total=added.qty)
    if not is_htmx():
        return _back_after_tap(counter, buyer, product_id, back, added=qty) or _back_to_row(product_id, back, message)
    row = added.row()  # from what adding read and wrote: no query
    context = row_context(counter, buyer, back, row_notes={product_id: message})
    if counter.cart_on_catalog:  # the cart beside the catalog is sent out of band
        context.update(cart_context(counter, buyer, oob=True))
    context["cart_count"] = row.cart_count
    return render_page("shared/ordering/_row_added.html", p=row.product, listing=row, **context)


def _back_after_tap(counter: Counter, buyer: Organisation, product_id: int, back: str, **news):
    """Where a plain (no-JS) add or stepper tap lands when the counter has the small page with the
    row and the cart bar (a phone on 2G does not reload 50 products per tap), or None. `news`
    says what the page tells (cart_added): `added=<n>` or `set=1`; in its address, not in the
    session, so the tap writes no session cookie (nor the page, which would pop a flash)."""
    if counter.pages.added and "cart_added" in counter.routes:
        return redirect(counter.url("cart_added", buyer, product=product_id, **news, next=back), code=303)
    return None


def _back_to_row(product_id: int, back: str, message: str):
    """Back to the catalog page the tap came from, at the row, with the note for that row
    (pages.ROW_FLASH)."""
    flash(message, f"{ROW_FLASH}{product_id}")
    return redirect(f"{back}#p{product_id}", code=303)


def cart_added(counter: Counter, **path):
    """GET: the product just changed in the cart (its row, with the stepper that keeps working
    from here), the cart bar, what changed (`added=<n>`: "added n, the cart holds m"; `set=1`:
    "the cart holds m" or "removed") and the link back to the catalog page at that row. A product
    the buyer may not see (or none) leads back to the catalog."""
    buyer = counter.find_buyer(**path)
    back = counter.back_url(buyer, request.args.get("next"))
    product_id = request.args.get("product", type=int)
    row = storefront.catalog_row(current_user, buyer, product_id) if product_id and product_id > 0 else None
    in_cart = row.cart.quantities.get(product_id, 0) if row is not None else 0
    added = request.args.get("added", type=int)
    if added is not None and 0 < added <= cart.MAX_LINE_QTY and in_cart:
        notice = _("已加入 %(n)d，购物车中共 %(total)d。", n=added, total=in_cart)
    elif request.args.get("set"):
        notice = _("购物车中 %(n)d", n=in_cart) if in_cart else _("已从购物车移除。")
    else:
        notice = None
    if row is None:
        if notice:
            flash(notice, "success")
        return redirect(back, code=303)
    context = row_context(counter, buyer, back)
    return render_page(counter.pages.added, p=row.product, listing=row, cart=row.cart, cart_count=row.cart_count,
                       back_to=f"{back}#p{product_id}", notice=notice, **context)


def _add_failed(counter: Counter, buyer: Organisation, form: AddToCartForm, back: str):
    """The form again with the message next to the quantity: the row alone for htmx (422), the
    whole catalog page the form came from otherwise (400). Nothing was saved."""
    product_id = form.known_product_id()
    row = storefront.catalog_row(current_user, buyer, product_id) if product_id else None
    qty_errors = " ".join(str(m) for m in form.qty.errors)
    if row is None:
        message = " ".join(form.other_errors()) or qty_errors
        if is_htmx():
            return render_page(counter.pages.row_error, status=422, product_id=form.product_id.data or 0,
                               message=message, counter=counter)
        return show_catalog(counter, buyer, _args_of(back), back, 400, page_errors=[message])
    errors, values = {product_id: qty_errors}, {product_id: raw_value(form.qty)}
    if is_htmx():
        return render_page(counter.pages.row, status=422, p=row.product, listing=row,
                           **row_context(counter, buyer, back, row_errors=errors, row_values=values))
    return show_catalog(counter, buyer, _args_of(back), back, 400, row_errors=errors, row_values=values)


def _args_of(back: str) -> MultiDict:
    return MultiDict(parse_qsl(urlsplit(back).query))
