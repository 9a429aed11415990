"""The retailer's catalog: own prices, search as you type, add to cart in place or by plain POST."""
from urllib.parse import parse_qs, urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.services.ordering import cart
from app.services.catalog import storefront
from app.services.core.errors import DomainError
from app.web.common.access import current_org
from app.web.common.conditional import revalidate
from app.web.common.forms import show_error
from app.web.common.htmx import is_htmx, render_page
from app.web.retailer import bp
from app.web.retailer.common import catalog_back_url, retailer_page, thumb_url
from app.web.retailer.forms import AddToCartForm, CatalogSearchForm


def row_text() -> dict:
    """What every catalog row repeats, translated and built once per page rather than once per
    product (a 50-row page would otherwise spend most of its time in gettext and url_for)."""
    return {"add": _("加入"), "qty": _("数量"), "min": _("起订 %(n)d"), "multiple": _("%(n)d 的倍数"),
            "pack": _("每%(unit)s %(n)d"), "in_cart": _("购物车中 %(n)d"), "add_url": url_for("retailer.cart_add"),
            "csrf": generate_csrf(), "locale": str(get_locale()), "max_qty": cart.MAX_LINE_QTY}


def _catalog(args: MultiDict, back_url: str, status: int = 200, row_errors=None, row_values=None,
             page_errors=()):
    form = CatalogSearchForm(formdata=args)
    listing = storefront.browse_catalog(current_user, current_org(), per_page=current_app.config["PAGE_SIZE"],
                                        **form.criteria())
    form.set_categories(listing.categories, str(get_locale()))
    shown = {p.id for p in listing.page.items}
    page_errors = list(page_errors) + [m for pid, m in (row_errors or {}).items() if pid not in shown]
    params = {k: v for k, v in (("q", form.clean("q", "")), ("category", form.clean("category"))) if v}
    return retailer_page("retailer/catalog.html", "retailer/_catalog_list.html", status,
                         form=form, listing=listing, params=params, back_url=back_url,
                         row_errors=row_errors or {}, row_values=row_values or {}, row_notes={},
                         page_errors=page_errors, thumb_url=thumb_url, text=row_text(),
                         cart_count=listing.cart_count)


@bp.get("/catalog")
def catalog():
    return revalidate(_catalog(request.args, request.full_path.rstrip("?")))


@bp.post("/cart/add")
def cart_add():
    form = AddToCartForm()
    back = catalog_back_url(form.next.data)
    if form.validate_on_submit():
        try:
            cart.add_to_cart(current_user, current_org(), form.product_id.data, form.qty.data)
        except DomainError as error:
            show_error(form, error)
        else:
            db.session.commit()
            return _added(form.product_id.data, form.qty.data, back)
    db.session.rollback()
    return _add_failed(form, back)


def _added(product_id: int, qty: int, back: str):
    message = _("已加入购物车：%(n)d。", n=qty)
    if is_htmx():
        row = storefront.catalog_row(current_user, current_org(), product_id)
        return render_page("retailer/_product_row_update.html", p=row.product, listing=row, back_url=back,
                           row_errors={}, row_values={}, row_notes={row.product.id: message},
                           thumb_url=thumb_url, text=row_text(), cart_count=row.cart_count)
    flash(message, "success")
    return redirect(f"{back}#p{product_id}", code=303)


def _add_failed(form: AddToCartForm, back: str):
    """The form again with the message next to the quantity: the row alone for htmx (422), the
    whole catalog page the form came from otherwise (400). Nothing was saved."""
    product_id = form.product_id.data
    qty_errors = [str(m) for m in form.qty.errors]
    other_errors = [str(m) for m in form.product_id.errors] + [str(m) for m in form.form_errors] + [
        str(message) for name, messages in form.errors.items() if name not in ("qty", "product_id", None)
        for message in messages]
    row = None
    if product_id and not other_errors and 0 < product_id < 2**63:
        row = storefront.catalog_row(current_user, current_org(), product_id)
    raw_qty = (form.qty.raw_data or [""])[0][:12]
    if is_htmx():
        if row is None:
            return render_page("retailer/_row_error.html", status=422, product_id=product_id or 0,
                               message=" ".join(other_errors or qty_errors))
        return render_page("retailer/_product_row.html", status=422, p=row.product, listing=row, back_url=back,
                           row_errors={product_id: " ".join(qty_errors)}, row_values={product_id: raw_qty},
                           row_notes={}, thumb_url=thumb_url, text=row_text())
    args = MultiDict(parse_qs(urlsplit(back).query))
    if row is None:
        return _catalog(args, back, 400, page_errors=other_errors or qty_errors)
    return _catalog(args, back, 400, row_errors={product_id: " ".join(qty_errors)}, row_values={product_id: raw_qty})
