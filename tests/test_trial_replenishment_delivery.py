"""A dealer's replenishment order can be signed for: the dealer's delivery page shows the code for the
brand's driver (the brand's sign-off page asks for it) and confirms receipt with short or damaged
quantities, like a shop's. Before, the dealer had neither: a shipped replenishment order stayed
"已发货" (and "on order" in the reorder suggestions) for good. Signing also books what arrived into the
dealer's warehouse (before, the dealer retyped the delivery as a manual receipt): see
tests/test_replenishment_receipt.py for the details."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, StockBalance, Warehouse
from app.services.fulfilment import delivery
from tests import builders_fulfilment as f


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def shipped(world):
    items = f.products(2)
    f.warehouse_with_lots(world.brand, world.regions["zj"], {items[0]: [("B-1", 20, 200)], items[1]: [("B-2", 20, 200)]})
    f.builders_stock.warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    order = f.approved_order(world, [(items[0], 12), (items[1], 3)], buyer=world.orgs["dealer"], seller=world.brand)
    f.ship_all(world, order)
    db.session.commit()
    return order


def dealer_stock(world, order) -> dict[int, int]:
    """{product id: on hand} in the dealer's warehouses."""
    return dict(db.session.execute(
        select(StockBalance.product_id, func.sum(StockBalance.on_hand)).join(Warehouse)
        .where(Warehouse.owner_id == world.orgs["dealer"].id).group_by(StockBalance.product_id)
        .execution_options(populate_existing=True)).all())


def test_the_dealer_sees_the_code_and_the_brand_signs_with_it(world, shipped, login_as):
    dealer = login_as("dealer")
    detail = text(dealer.get(f"/dealer/replenishment/orders/{shipped.id}"))
    assert f"/dealer/replenishment/orders/{shipped.id}/delivery" in detail and "收货码与确认收货" in detail
    page = text(dealer.get(f"/dealer/replenishment/orders/{shipped.id}/delivery"))
    code = delivery.code_for(shipped.id)
    assert f'<b class="code">{code}</b>' in page and "确认收货" in page
    admin = login_as("admin")
    signed = admin.post(f"/admin/orders/{shipped.id}/sign-off", {"code": code, "seen": "shipped"})
    assert signed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, shipped.id).status == "delivered"
    a, b = shipped.lines
    assert dealer_stock(world, shipped) == {a.product_id: 12, b.product_id: 3}  # into the dealer's default warehouse
    after = text(dealer.get(f"/dealer/replenishment/orders/{shipped.id}/delivery"))
    assert code not in after and "确认收货" not in after.split("发货记录", 1)[1].split("</section>", 2)[-1]


def test_the_dealer_confirms_receipt_with_a_damaged_case(world, shipped, login_as):
    dealer = login_as("dealer")
    damaged = shipped.lines[0]
    response = dealer.post(f"/dealer/replenishment/orders/{shipped.id}/delivery",
                           {"seen": "shipped", f"damaged_{damaged.id}": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/dealer/replenishment/orders/{shipped.id}/delivery")
    db.session.expire_all()
    assert db.session.get(Order, shipped.id).status == "delivered"
    assert len(f.credit_notes(shipped)) == 1  # the brand credits the damaged case
    assert dealer_stock(world, shipped) == {damaged.product_id: 11, shipped.lines[1].product_id: 3}
    bad = dealer.post(f"/dealer/replenishment/orders/{shipped.id}/delivery", {"seen": "shipped"})
    assert bad.status_code in (400, 409)  # signed already: refused, nothing signed (or stocked) twice
    assert dealer_stock(world, shipped) == {damaged.product_id: 11, shipped.lines[1].product_id: 3}


def test_another_dealer_cannot_open_or_sign_it(world, shipped, login_as):
    other = login_as("dealer_b")
    assert other.get(f"/dealer/replenishment/orders/{shipped.id}/delivery").status_code == 404
    assert other.post(f"/dealer/replenishment/orders/{shipped.id}/delivery", {"seen": "shipped"}).status_code == 404
    assert db.session.get(Order, shipped.id).status == "shipped" and dealer_stock(world, shipped) == {}
