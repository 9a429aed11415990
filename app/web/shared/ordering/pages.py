"""The counter's two pages, built the same way for every role: the catalog (with the cart beside
it when the role has no cart page of its own) and the cart with its checkout form. An htmx
request gets the fragment; a normal one the role's page around it."""
from __future__ import annotations

import secrets

from flask import Response, current_app, g, get_flashed_messages, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from app.models import Organisation
from app.services.catalog import storefront
from app.services.ordering import cart, delivery_terms
from app.web.common.fragments import render_framed
from app.web.common.i18n import current_locale
from app.web.common.htmx import hx_response, render_page, wants_fragment
from app.web.shared.ordering import rows
from app.web.shared.ordering.counter import Counter, thumb_url
from app.web.shared.ordering.forms import BlankCatalogSearch, CatalogSearchForm, CheckoutForm, CouponForm
from app.web.shared.loyalty.cart import points_requested


# A flash whose category is ROW_FLASH + product id is news about that product's row: the catalog
# page shows it in the row (one message where the buyer lands), not again at the top.
ROW_FLASH = "row:"


def _row_flashes(shown: set[int]) -> dict[int, str]:
    """The row notes flashed for products on this page; taken out of the page's top flashes."""
    notes = {}
    for category, message in get_flashed_messages(with_categories=True):
        if category.startswith(ROW_FLASH) and category[len(ROW_FLASH):].isdigit():
            notes[int(category[len(ROW_FLASH):])] = message
    if notes and set(notes) <= shown:
        g.row_flashes_shown = True
    return {pid: message for pid, message in notes.items() if pid in shown}


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(18)


def row_text(counter: Counter, buyer: Organisation) -> dict:
    """What every catalog row repeats, translated and built once per page rather than once per
    product (a 50-row page would otherwise spend most of its time in gettext and url_for); the
    translations once per language and process."""
    locale = current_locale()
    words = current_app.extensions.setdefault("catalog_row_words", {})
    if locale not in words:
        words[locale] = {
            "add": _("加入"), "qty": _("数量"), "min": _("起订 %(n)d"), "multiple": _("%(n)d 的倍数"),
            "pack": _("每%(unit)s %(n)d"), "in_cart": _("购物车中 %(n)d"), "less": _("减少"), "more": _("增加"),
            "set": _("确定"), "usual": _("常购 %(n)d%(unit)s"), "stock": {"in": _("有货"), "low": _("紧张"), "out": _("缺货")}}
    return dict(words[locale], add_url=counter.url("cart_add", buyer), csrf=generate_csrf(), locale=locale,
                max_qty=cart.MAX_LINE_QTY,
                set_url=counter.url("cart_set", buyer) if "cart_set" in counter.routes else None)


def row_context(counter: Counter, buyer: Organisation, back_url: str, **row) -> dict:
    """What a catalog row template needs besides the product and its prices."""
    text = row_text(counter, buyer)
    text["csrf_input"] = Markup('<input type="hidden" name="csrf_token" value="{}">').format(text["csrf"])
    text["next_input"] = Markup('<input type="hidden" name="next" value="{}">').format(back_url)
    return dict(counter=counter, buyer=buyer, back_url=back_url, cart_url=counter.cart_url(buyer),
                row_errors=row.get("row_errors") or {},
                row_values=row.get("row_values") or {}, row_notes=row.get("row_notes") or {},
                thumb_url=thumb_url, text=text)


_ADDRESS_SLOT, _NOTE_SLOT = "\x00address\x00", "\x00note\x00"
MAX_CHECKOUT_FIELDS = 500  # a few KB each: distinct (language, delivery dates, payment method)


def checkout_fields(checkout: CheckoutForm) -> Markup:
    """The checkout form's visible fields (shared/ordering/_checkout_fields.html), rendered once per
    process for each language, offered delivery dates and chosen date and payment method (rendering
    the WTForms fields was ~a fifth of the cart page's CPU). The typed address and note differ
    from buyer to buyer: they are slots in the cached HTML, filled (escaped) per page. A form with
    an error is rendered afresh."""
    if checkout.errors or current_app.jinja_env.auto_reload:
        return Markup(render_template("shared/ordering/_checkout_fields.html", checkout=checkout))
    dates, payment = checkout.delivery_date, checkout.payment_method
    key = (request.script_root, current_locale(), dates.data, tuple((c.value, str(c.label)) for c in dates.choices),
           payment.data, tuple((c.value, str(c.label)) for c in payment.choices), str(payment.description))
    cache = current_app.extensions.setdefault("checkout_fields", {})
    html = cache.get(key)
    if html is None:
        address, note = checkout.delivery_address.data, checkout.note.data
        checkout.delivery_address.data, checkout.note.data = _ADDRESS_SLOT, _NOTE_SLOT
        try:
            html = render_template("shared/ordering/_checkout_fields.html", checkout=checkout)
        finally:
            checkout.delivery_address.data, checkout.note.data = address, note
        if len(cache) >= MAX_CHECKOUT_FIELDS:
            cache.clear()
        cache[key] = html
    return Markup(html.replace(_ADDRESS_SLOT, str(escape(checkout.delivery_address._value())))
                  .replace(_NOTE_SLOT, str(escape(checkout.note._value()))))


def cart_context(counter: Counter, buyer: Organisation, quote: cart.CartQuote | None = None,
                 checkout: CheckoutForm | None = None, *, key: str | None = None, notice: str | None = None,
                 line_errors=None, line_values=None, oob: bool = False, oob_badge: bool = False,
                 coupon_form: CouponForm | None = None) -> dict:
    """What the cart fragment needs. A fresh idempotency key unless the cart is shown again after
    a refused checkout (then the same key, so a double tap still makes one order)."""
    quote = quote or cart.quote_cart(current_user, buyer, use_points=points_requested(), terms=True)
    # The buyer's delivery days and payment methods came with the cart's lines; one statement
    # when the cart is empty or was quoted elsewhere (a refused checkout).
    facts = quote.checkout_facts or delivery_terms.checkout_facts(buyer)
    checkout = (checkout or CheckoutForm(formdata=None)).for_buyer(
        buyer, delivery_terms.delivery_dates(facts.weekdays), facts.payment)
    context = dict(counter=counter, buyer=buyer, quote=quote, checkout=checkout,
                   idempotency_key=key or new_idempotency_key(), notice=notice, line_errors=line_errors or {},
                   line_values=line_values or {}, oob=oob, oob_badge=oob_badge, cart_count=quote.count,
                   checkout_label=counter.checkout_label(buyer, bool(quote.changed_lines)),
                   catalog_url=counter.url("catalog", buyer),
                   coupon_form=coupon_form or CouponForm(formdata=None, coupon_code=quote.coupon_code))
    if counter.cart_extras:
        context.update(counter.cart_extras(buyer))
    return context


def show_catalog(counter: Counter, buyer: Organisation, args: MultiDict, back_url: str, status: int = 200, *,
                 row_errors=None, row_values=None, page_errors=(), **cart_kw):
    """The catalog page (the list alone for an htmx search). `cart_kw` go to cart_context when
    the cart is on this page: a refused checkout's form and key, a notice, a line's error."""
    form = CatalogSearchForm(formdata=args) if args else BlankCatalogSearch()
    listing = storefront.browse_catalog(current_user, buyer, per_page=current_app.config["PAGE_SIZE"],
                                        **form.criteria())
    form.set_categories(listing.categories, current_locale())
    shown = {p.id for p in listing.page.items}
    page_errors = list(page_errors) + [m for pid, m in (row_errors or {}).items() if pid not in shown]
    context = dict(form=form, listing=listing, page_errors=page_errors, cart_count=listing.cart_count,
                   search_url=counter.url("catalog", buyer),
                   pager_args=dict(counter.buyer_args(buyer), **form.params()),
                   **row_context(counter, buyer, back_url, row_errors=row_errors, row_values=row_values,
                                 row_notes=_row_flashes(shown)))
    if counter.pages.row_key and listing.page.items:
        context["rows_html"] = rows.rows_html(counter.pages.row, counter.pages.row_key, listing.page.items,
                                              listing, context)
    if not wants_fragment():
        if counter.page_extras:
            context.update(counter.page_extras(buyer))
        if counter.cart_on_catalog:
            context.update(cart_context(counter, buyer, **cart_kw))
        if counter.pages.frame_slots:
            html = render_framed(counter.pages.catalog, counter.pages.frame_slots,
                                 (current_user.is_authenticated, current_user.role), **context)
            return hx_response(Response(html, status=status, mimetype="text/html"))
    return render_page(counter.pages.catalog, counter.pages.catalog_list, status, **context)


def show_cart(counter: Counter, buyer: Organisation, status: int = 200, **cart_kw):
    """The cart: its fragment for htmx (the count in the navigation out of band), the cart page
    otherwise, or the catalog page where the cart sits beside the catalog."""
    if counter.cart_on_catalog and not wants_fragment():
        return show_catalog(counter, buyer, MultiDict(), counter.url("catalog", buyer), status, **cart_kw)
    context = cart_context(counter, buyer, oob_badge=wants_fragment(), **cart_kw)
    page = counter.pages.cart or counter.pages.cart_fragment
    return render_page(page, counter.pages.cart_fragment, status, **context)

