"""A notice is read in the reader's language, whatever the language of whoever triggered it, and
its link is made for the role it was addressed to when it is shown. One vocabulary: the same
order status reads the same in the order list, on the order page and in the notification."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, OrderStatus
from app.services.fulfilment import delivery
from tests import builders_fulfilment as f


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def shipped(world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    order = f.approved_order(world, [(items[0], 3)])
    f.ship_all(world, order)
    db.session.commit()
    return order


def _sign_off_in_chinese(login_as, order):
    """The dealer, on a Chinese page, enters the delivery code: the order is delivered and the
    retailer is told."""
    dealer = login_as("dealer")
    assert 'lang="zh' in text(dealer.get("/dealer/"))
    response = dealer.post(f"/dealer/orders/{order.id}/sign-off",
                           {"code": delivery.code_for(order.id), "seen": "shipped"})
    assert response.status_code == 303
    return db.session.scalar(select(Notification).where(Notification.dedupe_key == f"order:{order.id}:delivered"))


def test_a_notice_from_a_chinese_page_is_read_in_english_with_the_recipients_link(login_as, world, shipped):
    notice = _sign_off_in_chinese(login_as, shipped)
    assert notice.user_id == world.users["retailer"].id and notice.role == "retailer"
    assert (notice.subject, notice.subject_id, notice.message) == ("order", shipped.id, "order.status")
    # the title is stored as codes and numbers (the body is the transition's note, which is the
    # event note's own business: app/services/fulfilment/delivery.py)
    assert (notice.params["n"], notice.params["status"]) == (shipped.number, "delivered")

    retailer = login_as("retailer")
    retailer.post("/locale", {"locale": "en", "next": "/retailer/"})
    page = text(retailer.get("/retailer/notifications/"))
    assert f"Order {shipped.number}: Delivered" in page and "已送达" not in page
    follow = retailer.post(f"/retailer/notifications/{notice.id}/read", {"follow": "1"})
    assert follow.status_code == 303 and follow.headers["Location"] == f"/retailer/orders/{shipped.id}"
    assert retailer.get(follow.headers["Location"]).status_code == 200

    retailer.post("/locale", {"locale": "zh", "next": "/retailer/"})  # the same row, read in Chinese
    assert f"订单 {shipped.number}：已送达" in text(retailer.get("/retailer/notifications/"))


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_same_status_reads_the_same_in_the_list_the_order_page_and_the_notice(login_as, shipped, locale):
    _sign_off_in_chinese(login_as, shipped)
    retailer = login_as("retailer")
    retailer.post("/locale", {"locale": locale, "next": "/retailer/"})
    label = {"zh": "已送达", "en": "Delivered"}[locale]
    with retailer.app.test_request_context():
        from flask_babel import force_locale

        with force_locale(locale):
            assert str(OrderStatus.DELIVERED.label) == label
    listing = text(retailer.get("/retailer/orders"))
    assert re.search(rf"{shipped.number}</b></a>\s*<span[^>]*>{label}</span>", listing)
    assert label in text(retailer.get(f"/retailer/orders/{shipped.id}")).split("</h1>")[0]
    assert label in text(retailer.get("/retailer/notifications/"))
