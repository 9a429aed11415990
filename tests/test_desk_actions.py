"""The dealer's desk opens on what needs action, sorts by column, and acts on many ticked orders:
approve (after a confirmation page; each order on its own, the refused ones left with their
reason), export to XLSX; another dealer's orders are never touched."""
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from tests import builders_fulfilment as f
from tests.test_dealer_desk import desk, ids  # noqa: F401  (the fixture)


def text(response) -> str:
    return response.get_data(as_text=True)


def status_of(order) -> str:
    return db.session.scalar(select(Order.status).where(Order.id == order.id))


@pytest.fixture
def waiting(world, desk):  # noqa: F811
    """The desk's orders plus one on hold and one submitted that the stock cannot cover."""
    orders, (a, b), _warehouse = desk
    orders["held"] = f.builders_lifecycle.order(world.orgs["retailer"], world.orgs["dealer"], [(b, 1)], status="on_hold")
    orders["short"] = f.builders_lifecycle.order(world.orgs["retailer"], world.orgs["dealer"], [(a, 10_000)])
    db.session.commit()
    return orders


def test_the_bare_list_opens_on_the_orders_to_act_on(login_as, waiting):
    page = text(login_as("dealer").get("/dealer/orders"))
    for key in ("loose", "held", "short"):
        assert waiting[key].number in page
    for key in ("monday", "wednesday", "theirs"):
        assert waiting[key].number not in page
    assert '待处理 <span class="badge">3</span>' in page and 'href="/dealer/orders?status="' in page
    every = text(login_as("dealer").get("/dealer/orders?status="))
    assert waiting["monday"].number in every and waiting["theirs"].number not in every


@pytest.mark.parametrize("htmx", [False, True])
def test_columns_sort_both_ways(login_as, waiting, htmx):
    dealer = login_as("dealer")
    get = dealer.hx_get if htmx else dealer.get
    def totals(url):
        numbers = re.findall(r">(SO\d+)</a>", text(get(url)))
        return [db.session.scalar(select(Order.total_fen).where(Order.number == n)) for n in numbers]

    ascending = totals("/dealer/orders?status=&sort=total&dir=asc")
    assert ascending == sorted(ascending) and len(ascending) == 5 and len(set(ascending)) > 1
    assert totals("/dealer/orders?status=&sort=total&dir=desc") == sorted(ascending, reverse=True)
    page = text(get("/dealer/orders?status=&sort=buyer&dir=asc"))
    assert 'aria-sort="ascending"' in page and "sort=buyer&amp;dir=desc" in page
    assert text(get("/dealer/orders?sort=bogus&dir=sideways")).count("<tr>") >= 1  # bad values: the default order


def test_export_gives_a_sheet_of_the_ticked_orders_lines(login_as, waiting):
    response = login_as("dealer").get(f"/dealer/orders/export.xlsx?{ids(waiting['monday'], waiting['theirs'])}")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "订单号" and {r[0] for r in rows[1:]} == {waiting["monday"].number}
    assert len(rows) == 1 + len(waiting["monday"].lines)
    assert login_as("dealer").get(f"/dealer/orders/export.xlsx?{ids(waiting['theirs'])}").status_code == 404


def test_approving_many_asks_first_then_approves_what_passes(login_as, waiting):
    dealer = login_as("dealer")
    picked = ids(waiting["loose"], waiting["held"], waiting["short"], waiting["theirs"])
    confirm = text(dealer.get(f"/dealer/orders/approve-selected?{picked}"))
    assert waiting["loose"].number in confirm and waiting["theirs"].number not in confirm and "确认审核" in confirm
    assert status_of(waiting["loose"]) == "submitted"  # asking changes nothing

    form = {"order_ids": [str(waiting[k].id) for k in ("loose", "held", "short", "theirs")]}
    response = dealer.post("/dealer/orders/approve-selected", form)
    assert response.status_code == 303
    assert status_of(waiting["loose"]) == "approved" and status_of(waiting["held"]) == "approved"
    assert status_of(waiting["short"]) == "submitted" and status_of(waiting["theirs"]) == "submitted"
    page = text(dealer.get(response.headers["Location"]))
    assert "已审核 2 个订单" in page and f"订单 {waiting['short'].number} 未审核" in page and "库存不足" in page


def test_approving_nothing_or_without_csrf_is_refused(login_as, waiting):
    dealer = login_as("dealer")
    assert dealer.post("/dealer/orders/approve-selected", {"order_ids": [str(waiting["loose"].id)]},
                       csrf=False).status_code == 400
    response = dealer.post("/dealer/orders/approve-selected", {})
    assert response.status_code == 303 and status_of(waiting["loose"]) == "submitted"


def test_the_confirmation_page_with_nothing_ticked_says_so(login_as, waiting):
    page = text(login_as("dealer").get("/dealer/orders/approve-selected"))
    assert "请先勾选要审核的订单" in page and "确认审核" not in page
