"""Quotes and orders from a list of lines (the API): the lines become the cart of the caller's
service user for the buyer, and then exactly what the web does happens: `quote_cart` prices it,
the checkout (approval.place_order: submit_order exactly once, then the automatic review) turns
it into an order. A quote writes nothing (its cart lives in a savepoint that is rolled back)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import insert, select

from app.extensions import db
from app.models import CartLine, Order, Organisation, OrgKind, OrderChannel, OrderStatus, Product, User
from app.services.catalog.visibility import visible_clause
from app.services.core.errors import DomainError, NotFound
from app.services.ordering import cart, lifecycle
from app.services.pricing.prices import region_profile


class LinesRejected(DomainError):
    """One or more lines cannot be ordered; `errors` lists each as {row, field, message}."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["message"], field=errors[0]["field"])
        self.errors = errors


def fill_cart(owner: User, buyer: Organisation, lines: list[tuple[str, int]], check_quantities: bool = True) -> None:
    """Make the cart (owner, buyer) hold exactly `lines` ((product code, qty), in order); every
    line's problems at once (LinesRejected). Without
    `check_quantities` a quantity below the minimum (or off the multiple) stays in the cart,
    for the quote to name the problem."""
    cart.clear_cart(owner, buyer)
    profile = region_profile(buyer)
    codes = {code for code, _qty in lines}
    products = {p.code: p for p in db.session.scalars(
        select(Product).where(Product.code.in_(codes), visible_clause(profile)))}
    errors, seen, wanted = [], set(), {}
    for row, (code, qty) in enumerate(lines, start=1):
        product = products.get(code)
        if product is None:
            errors.append({"row": row, "field": "product_code", "message": _("该商品不存在或暂不可订购。")})
        elif code in seen:
            errors.append({"row": row, "field": "product_code", "message": _("同一商品只能出现一次。")})
        else:
            problem = cart.quantity_problem(product, qty)
            if problem and check_quantities:
                errors.append({"row": row, "field": "qty", "message": problem})
            else:
                wanted[product.id] = qty
        seen.add(code)
    if errors:
        raise LinesRejected(errors)
    # No quoted price: the caller sees the price quote_cart gives now (nothing to confirm). One Core
    # INSERT (quote_cart reads the lines as columns: no ORM object is needed for them).
    if wanted:
        db.session.execute(_CART_LINE_INSERT, [dict(owner_id=owner.id, buyer_id=buyer.id, product_id=product_id, qty=qty)
                                               for product_id, qty in wanted.items()])


_CART_LINE_INSERT = insert(CartLine.__table__)


def quote_lines(owner: User, buyer: Organisation, lines: list[tuple[str, int]]) -> cart.CartQuote:
    """Price the lines for the buyer as its cart would be priced, writing nothing."""
    savepoint = db.session.begin_nested()
    try:
        fill_cart(owner, buyer, lines, check_quantities=False)
        return cart.quote_cart(owner, buyer)
    finally:
        savepoint.rollback()


def place_lines_order(owner: User, buyer: Organisation, lines: list[tuple[str, int]], idempotency_key: str,
                      note: str = "", terms=None):
    """One order from the lines, exactly once per (buyer, key): a repeat returns the order the
    key already made (Submission.created False); the key with other lines is refused. `terms`:
    delivery_terms.TermsInput (delivery date, address, payment method), checked like the web's."""
    from app.services.approval.automatic import place_order

    existing = db.session.scalar(select(Order).where(Order.buyer_id == buyer.id, Order.idempotency_key == idempotency_key))
    if existing is None:
        fill_cart(owner, buyer, lines)
    return place_order(owner, buyer, idempotency_key, None, accept_changes=True, channel=OrderChannel.API.value,
                       note=note, terms=terms)


def cancel_as_party(org: Organisation, order: Order, actor_id: int, note: str, seen: str) -> Order:
    """The buyer withdraws the order (while the seller has not accepted it), or the seller (the
    brand for any seller) cancels it. `seen` is the status the caller last read: if the order
    moved since, nothing happens (TransitionRefused)."""
    if order.buyer_id == org.id:
        if order.status != seen:
            raise lifecycle.TransitionRefused(_("订单状态已变化。"))
        return lifecycle.cancel_as_buyer(org.id, order.id, actor_id, note or "API")
    if order.seller_id == org.id or org.kind == OrgKind.BRAND.value:
        return lifecycle.act_as_seller(order.seller_id, order.id, OrderStatus.CANCELLED.value, actor_id,
                                       note or "API", seen=seen)
    raise NotFound(_("订单不存在。"))
