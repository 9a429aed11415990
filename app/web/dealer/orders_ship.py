"""Shipping an order (whole or in parts, the rest kept open or cancelled with a reason) and
signing for the buyer with the delivery code the driver was given. The handlers are shared with
the brand's order desk (app.web.shared.fulfilment.desk)."""
from app.web.shared.fulfilment import desk as fulfilment_desk
from app.web.dealer import bp

DESK = fulfilment_desk.Desk("dealer/layout.html", {
    "order_detail": "dealer.order_detail", "order_ship": "dealer.order_ship",
    "order_cancel_rest": "dealer.order_cancel_rest", "order_sign_off": "dealer.order_sign_off",
    "returns_list": "dealer.returns_list", "return_detail": "dealer.return_detail",
    "return_accept": "dealer.return_accept", "return_refuse": "dealer.return_refuse"})


@bp.get("/orders/<int:order_id>/ship")
def order_ship_form(order_id: int):
    return fulfilment_desk.ship_form(DESK, order_id)


@bp.post("/orders/<int:order_id>/ship")
def order_ship(order_id: int):
    return fulfilment_desk.ship(DESK, order_id)


@bp.post("/orders/<int:order_id>/cancel-rest")
def order_cancel_rest(order_id: int):
    return fulfilment_desk.cancel_rest(DESK, order_id)


@bp.get("/orders/<int:order_id>/sign-off")
def order_sign_off_form(order_id: int):
    return fulfilment_desk.sign_off_form(DESK, order_id)


@bp.post("/orders/<int:order_id>/sign-off")
def order_sign_off(order_id: int):
    return fulfilment_desk.sign_off(DESK, order_id)
