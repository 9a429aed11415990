"""The brand's order desk, fulfilment of the orders the brand sells: shipping (whole or in parts,
the rest kept open or cancelled with a reason), delivery sign-off with the buyer's code, and the
decision on a return. The same pages and services as the dealer's desk (app.web.shared.fulfilment.desk),
seller = the brand; another seller's order or return is not found. Permission "orders"."""
from app.web.shared.fulfilment import desk as fulfilment_desk
from app.web.common.access import permission_required
from app.web.admin import bp

DESK = fulfilment_desk.Desk("admin/layout.html", {
    "order_detail": "admin.order_detail", "order_ship": "admin.order_ship",
    "order_cancel_rest": "admin.order_cancel_rest", "order_sign_off": "admin.order_sign_off",
    "returns_list": None, "return_detail": "admin.return_detail",
    "return_accept": "admin.return_accept", "return_refuse": "admin.return_refuse"})


@bp.get("/orders/<int:order_id>/ship")
@permission_required("orders")
def order_ship_form(order_id: int):
    return fulfilment_desk.ship_form(DESK, order_id)


@bp.post("/orders/<int:order_id>/ship")
@permission_required("orders")
def order_ship(order_id: int):
    return fulfilment_desk.ship(DESK, order_id)


@bp.post("/orders/<int:order_id>/cancel-rest")
@permission_required("orders")
def order_cancel_rest(order_id: int):
    return fulfilment_desk.cancel_rest(DESK, order_id)


@bp.get("/orders/<int:order_id>/sign-off")
@permission_required("orders")
def order_sign_off_form(order_id: int):
    return fulfilment_desk.sign_off_form(DESK, order_id)


@bp.post("/orders/<int:order_id>/sign-off")
@permission_required("orders")
def order_sign_off(order_id: int):
    return fulfilment_desk.sign_off(DESK, order_id)


@bp.get("/returns/<int:return_id>")
@permission_required("orders")
def return_detail(return_id: int):
    return fulfilment_desk.return_detail(DESK, return_id)


@bp.post("/returns/<int:return_id>/accept")
@permission_required("orders")
def return_accept(return_id: int):
    return fulfilment_desk.return_accept(DESK, return_id)


@bp.post("/returns/<int:return_id>/refuse")
@permission_required("orders")
def return_refuse(return_id: int):
    return fulfilment_desk.return_refuse(DESK, return_id)
