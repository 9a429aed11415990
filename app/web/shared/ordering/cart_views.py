"""The cart line handlers shared by the retailer's cart, the rep's cart for a retailer and the
dealer's replenishment cart. The view loads the buyer (scoped to the caller) and says how to answer:
`changed(message)` after a change, `refused(quote, status, line_errors=..., line_values=...)` to show
the cart again with the error and the typed value by the line."""
from collections.abc import Callable

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Organisation
from app.services.ordering import cart
from app.services.core.errors import DomainError
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import is_htmx


def update_cart_line(buyer: Organisation, line_id: int, changed: Callable, refused: Callable):
    """Set a line's quantity from the posted form; 404 for a line not in the buyer's cart."""
    from app.web.retailer.forms import CartLineForm  # here: app.web.retailer imports this module

    form = CartLineForm()
    if form.validate_on_submit():
        try:
            cart.update_line(current_user, buyer, line_id, form.qty.data)
        except cart.LineNotFound:
            abort(404)
        except DomainError as error:
            show_error(form, error)
        else:
            db.session.commit()
            return changed(_("数量已更新。"))
    db.session.rollback()
    quote = cart.quote_cart(current_user, buyer)
    if line_id not in {line.line_id for line in quote.lines}:
        abort(404)
    errors = " ".join(str(m) for m in list(form.qty.errors) + list(form.form_errors))
    return refused(quote, 422 if is_htmx() else 400, line_errors={line_id: errors},
                   line_values={line_id: (form.qty.raw_data or [""])[0][:12]})


def remove_cart_line(buyer: Organisation, line_id: int, changed: Callable):
    """Remove a line from the buyer's cart; 400 without a valid CSRF token, 404 for an unknown line."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cart.remove_line(current_user, buyer, line_id)
    except cart.LineNotFound:
        abort(404)
    db.session.commit()
    return changed(_("已从购物车移除。"))
