"""The desk's "approve what is available" card: availability per line before the decision, the
approval with the rest backordered or cancelled, errors next to the line, another seller's order
not found; with and without htmx."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderLine
from app.services.ordering import shortage
from tests import builders_lifecycle as b
from tests import factories


@pytest.fixture
def short(world):
    cola = factories.product(name_zh="可乐")
    tea = factories.product(name_zh="绿茶")
    b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {cola: 6, tea: 10})
    order = b.order(world.orgs["retailer"], world.orgs["dealer"], [(cola, 10), (tea, 10)])
    db.session.commit()
    lines = {line.product_id: line.id for line in order.lines}
    return order, lines[cola.id], lines[tea.id]


def status_of(order) -> str:
    return db.session.scalar(select(Order.status).where(Order.id == order.id))


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_order_page_shows_availability_per_line_before_the_decision(login_as, short):
    order, cola_line, tea_line = short
    page = text(login_as("dealer").get(f"/dealer/orders/{order.id}"))
    assert 'id="shortage"' in page and "缺 4" in page and "可用库存" in page
    assert f'name="keep_{cola_line}"' in page and 'value="6"' in page


@pytest.mark.parametrize("htmx", [False, True])
def test_approving_what_is_available_backorders_the_rest(login_as, short, htmx):
    order, cola_line, tea_line = short
    desk = login_as("dealer")
    response = desk.post(f"/dealer/orders/{order.id}/approve-available",
                         {f"keep_{cola_line}": "6", f"keep_{tea_line}": "10", "rest": "backorder",
                          "reason": "", "short_seen": "submitted"}, htmx=htmx)
    assert response.status_code == (204 if htmx else 303)
    assert status_of(order) == "approved"
    backorder = shortage.backorder_for(order.id)
    assert status_of(backorder) == "on_hold"
    page = text(desk.get(f"/dealer/orders/{order.id}"))
    assert backorder.number in page and "审核前调整数量" in page
    assert "查看原订单" in text(desk.get(f"/dealer/orders/{backorder.id}"))


@pytest.mark.parametrize("htmx", [False, True])
def test_cancelling_the_rest_without_a_reason_is_refused_in_place(login_as, short, htmx):
    order, cola_line, tea_line = short
    response = login_as("dealer").post(f"/dealer/orders/{order.id}/approve-available",
                                       {f"keep_{cola_line}": "6", f"keep_{tea_line}": "10",
                                        "rest": "cancel", "short_seen": "submitted"}, htmx=htmx)
    page = text(response)
    assert response.status_code == (422 if htmx else 400)
    assert "取消缺货部分请填写原因" in page and ("<html" in page) != htmx
    assert status_of(order) == "submitted"
    assert db.session.scalar(select(OrderLine.qty).where(OrderLine.id == cola_line)) == 10


def test_a_quantity_above_the_order_is_shown_next_to_its_line(login_as, short):
    order, cola_line, tea_line = short
    response = login_as("dealer").post(f"/dealer/orders/{order.id}/approve-available",
                                       {f"keep_{cola_line}": "11", f"keep_{tea_line}": "10",
                                        "rest": "backorder", "short_seen": "submitted"})
    assert response.status_code == 400 and f'id="keep_{cola_line}-msg"' in text(response)
    assert status_of(order) == "submitted"


def test_more_than_is_available_is_refused_and_nothing_changes(login_as, short):
    order, cola_line, tea_line = short
    response = login_as("dealer").post(f"/dealer/orders/{order.id}/approve-available",
                                       {f"keep_{cola_line}": "8", f"keep_{tea_line}": "10",
                                        "rest": "backorder", "short_seen": "submitted"})
    assert response.status_code == 409 and "库存不足" in text(response)
    assert status_of(order) == "submitted" and shortage.backorder_for(order.id) is None


def test_another_dealers_order_is_not_found(login_as, world):
    product = factories.product()
    theirs = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 3)])
    db.session.commit()
    line = theirs.lines[0].id
    response = login_as("dealer").post(f"/dealer/orders/{theirs.id}/approve-available",
                                       {f"keep_{line}": "1", "rest": "cancel", "reason": "x",
                                        "short_seen": "submitted"})
    assert response.status_code == 404 and status_of(theirs) == "submitted"
