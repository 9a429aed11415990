"""Points gifts of a product the retailer also buys: the automatic review prices the product by its
paid line (not at the 1-unit tier of the free one) and free units in past orders do not lower the
usual quantity; the order counts the product once and shows the gifts as one "赠品 × n" row; the
points page lists every expiry date of the balance, adding up to it."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderLine, PointsGift
from app.models.approval import OrderReviewReason
from tests import builders_loyalty as pts
from tests import builders_lifecycle as lifecycle_builders
from tests import builders_ordering as b
from tests import factories

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FINGERPRINT_RE = re.compile(r'name="fingerprint" value="([^"]+)"')
USE_RE = re.compile(r'type="hidden" name="use_points" value="([^"]*)"')


def text(response):
    return response.get_data(as_text=True)


def _checkout_form(page: str) -> dict:
    return {"idempotency_key": KEY_RE.search(page).group(1), "fingerprint": FINGERPRINT_RE.search(page).group(1),
            "use_points": USE_RE.search(page).group(1), "accept_changes": "", "note": ""}


def _order_with_two_gifts_of_a_bought_product(retailer, shop):
    """20 × 可乐 at the 10+ break (¥47 instead of ¥48) and two other products, plus two claims of
    one 可乐 each as a points gift; checked out through the cart page."""
    user, org = shop
    cola = factories.product(name_zh="可乐礼品测试", base_price_fen=4_800)
    b.price_list({cola: 4_700}, min_qty=10)
    b.cart_line(user, org, cola, 20, quoted=4_700)
    for price in (6_120, 6_820):
        b.cart_line(user, org, factories.product(base_price_fen=price), 20, quoted=price)
    gift = PointsGift(product_id=cola.id, points_price=100, stock_cap=10, claimed=0, active=True)
    db.session.add(gift)
    pts.earn(org, 1_000)
    db.session.commit()
    for _claim in range(2):
        assert retailer.post(f"/retailer/points/gifts/{gift.id}/claim", {"qty": 1}).status_code == 303
    page = text(retailer.get("/retailer/cart"))
    assert retailer.post("/retailer/cart/checkout", _checkout_form(page)).status_code == 303
    return db.session.scalar(select(Order).where(Order.buyer_id == org.id))


def test_a_gift_of_a_bought_product_does_not_hold_the_order_for_a_price_change(retailer, shop):
    order = _order_with_two_gifts_of_a_bought_product(retailer, shop)
    lines = db.session.execute(select(OrderLine.qty, OrderLine.unit_price_fen, OrderLine.is_gift)
                               .where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    assert [tuple(line) for line in lines] == [(20, 4_700, False), (20, 6_120, False), (20, 6_820, False),
                                               (1, 0, True), (1, 0, True)]
    assert db.session.scalars(select(OrderReviewReason.code).where(OrderReviewReason.order_id == order.id)).all() == []
    assert order.status == "approved"


def test_the_order_counts_the_product_once_and_shows_its_gifts_as_one_row(retailer, shop):
    order = _order_with_two_gifts_of_a_bought_product(retailer, shop)
    assert order.line_count == 3
    assert "3 种商品" in text(retailer.get("/retailer/orders"))
    detail = text(retailer.get(f"/retailer/orders/{order.id}"))
    assert detail.count("赠品 × 2") == 1 and "赠品 × 1" not in detail
    assert detail.count("可乐礼品测试") == 2  # the paid line and the one gift row


def test_the_points_page_lists_every_expiry_date_adding_up_to_the_balance(retailer, shop):
    _user, org = shop
    for day in range(1, 13):  # 12 lots, more than the 10 the page used to show
        pts.earn(org, 100 * day, expires_in_days=30 * day)
    pts.earn(org, 7, expires_in_days=360)  # a second lot on the last date: summed with it
    db.session.commit()
    page = text(retailer.get("/retailer/points"))
    shown = [int(n.replace(",", "")) for n in re.findall(r'<li><b class="num">([\d,]+)</b> <span class="small muted">'
                                                         r'[\d-]+ 到期', page)]
    assert shown == [100 * day for day in range(1, 12)] + [1_207]
    assert sum(shown) == pts.balance(org) == 7_807
    assert '<b class="num">7,807</b> <span class="small muted">合计（即当前积分余额）' in page


def test_free_units_in_past_orders_do_not_lower_the_usual_quantity(shop, world):
    user, org = shop
    cola = factories.product(base_price_fen=4_800)
    for past in lifecycle_builders.history(org, world.orgs["dealer"], cola, [20, 20, 20]):  # usual: 20
        db.session.add(OrderLine(order_id=past.id, product_id=cola.id, qty=1, unit_price_fen=0, tax_rate=cola.tax_rate,
                                 line_total_fen=0, tax_fen=0, is_gift=True))
    db.session.flush()
    order = lifecycle_builders.checkout(user, org, [(cola, 40)]).order  # 2× the usual, under 3×
    assert order.status == "approved"
    assert db.session.scalars(select(OrderReviewReason.code).where(OrderReviewReason.order_id == order.id)).all() == []
