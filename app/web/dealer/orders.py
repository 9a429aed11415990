"""The dealer's order desk: the shared seller desk (app.web.shared.fulfilment) mounted on the
dealer blueprint: incoming orders by status and delivery day / route with boxes to tick for
printing (orders_print.py), an order's page with its decisions, documents, shipping and sign-off,
and the customers' returns. The dealer's list keeps its endpoint name `dealer.orders`."""
from app.web.dealer import bp
from app.web.shared.fulfilment.desk import Desk, register_desk

register_desk(bp, Desk("dealer", "dealer/layout.html", names={"orders_list": "orders"}, printing=True,
                       documents=True, returns_list=True, opens_on_action=True))
