"""The dealer's order desk: orders by status and by delivery day / route, approve and reject with
a reason through the lifecycle, ticking orders to print order sheets and a pick list (grouped by
route, then retailer, with the lots to pick) on A4 from the browser and as PDFs."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, OrderEvent, RepRoute, StockReservation
from tests import builders_documents
from tests import builders_fulfilment as f
from tests import factories


@pytest.fixture
def desk(world):
    """Three shops of the dealer: 西湖小卖部 (Monday route, 杭州市), 滨江便利店 (Wednesday route,
    滨江区) and 临平超市 (no route, 临平区); an approved order of product A for each of the first
    two (30 each), a submitted order for the third, and dealer_b's order."""
    a, b = f.products(2)
    warehouse = f.stocked_dealer(world, [a, b])
    dealer = world.orgs["dealer"]
    binjiang = factories.region("滨江区", world.regions["hz"])
    linping = factories.region("临平区", world.regions["hz"])
    wednesday_shop = factories.org("retailer", "滨江便利店", region_id=binjiang.id, dealer_id=dealer.id,
                                   address="江南大道 8 号")
    loose_shop = factories.org("retailer", "临平超市", region_id=linping.id, dealer_id=dealer.id)
    db.session.add(RepRoute(rep_id=world.users["rep"].id, retailer_id=wednesday_shop.id, weekday=2))
    orders = {
        "monday": f.approved_order(world, [(a, 30), (b, 2)]),
        "wednesday": f.approved_order(world, [(a, 30)], buyer=wednesday_shop),
        "loose": f.builders_lifecycle.order(loose_shop, dealer, [(b, 5)]),
        "theirs": f.builders_lifecycle.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(b, 1)]),
    }
    db.session.commit()
    return orders, (a, b), warehouse


def text(response):
    return response.get_data(as_text=True)


def ids(*orders):
    return "&".join(f"order_ids={o.id}" for o in orders)


# ---- the list ----------------------------------------------------------------------------------------

def test_the_desk_lists_orders_with_routes_boxes_and_status_counts(login_as, desk):
    orders, _, _ = desk
    dealer = login_as("dealer")
    page = text(dealer.get("/dealer/orders?status="))  # every order (the bare list opens on those to act on)
    for key in ("monday", "wednesday", "loose"):
        assert orders[key].number in page and f'name="order_ids" value="{orders[key].id}"' in page
    assert orders["theirs"].number not in page
    assert "周一 · 杭州市" in page and "周三 · 滨江区" in page and "临平区" in page
    assert "已审核 <span class=\"badge\">2</span>" in page and "已提交 <span class=\"badge\">1</span>" in page
    assert "打印订货单" in page and "打印拣货单" in page and 'action="/dealer/orders/print/sheets"' in page


def test_the_desk_filters_by_delivery_day_route_and_status(login_as, desk, world):
    orders, _, _ = desk
    dealer = login_as("dealer")
    page = text(dealer.hx_get("/dealer/orders?day=2"))
    assert orders["wednesday"].number in page and orders["monday"].number not in page and "<html" not in page
    region = db.session.scalar(select(factories.Region.id).where(factories.Region.name == "临平区"))
    page = text(dealer.get(f"/dealer/orders?region={region}"))
    assert orders["loose"].number in page and orders["monday"].number not in page
    page = text(dealer.get("/dealer/orders?status=approved&day=0"))
    assert orders["monday"].number in page and orders["wednesday"].number not in page
    page = text(dealer.get("/dealer/orders?day=9&region=abc&status=nope"))  # bad values fall back to "all"
    assert all(orders[k].number in page for k in ("monday", "wednesday", "loose"))
    other_region = world.regions["cd"].id  # not one of the dealer's regions: ignored
    assert orders["monday"].number in text(dealer.get(f"/dealer/orders?region={other_region}"))


# ---- decisions -----------------------------------------------------------------------------------------

def test_approving_on_the_desk_reserves_stock(login_as, desk):
    orders, _, _ = desk
    loose = orders["loose"]
    dealer = login_as("dealer")
    page = text(dealer.get(f"/dealer/orders/{loose.id}"))
    assert "审核通过" in page and "拒绝" in page
    response = dealer.post(f"/dealer/orders/{loose.id}/approve", {"seen": "submitted"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/dealer/orders/{loose.id}"
    assert f.status_of(loose) == "approved"
    assert db.session.scalar(select(StockReservation.qty).where(StockReservation.document == f"order:{loose.id}")) == 5


def test_rejecting_needs_a_reason_next_to_the_note(login_as, desk):
    orders, _, _ = desk
    loose = orders["loose"]
    dealer = login_as("dealer")
    response = dealer.post(f"/dealer/orders/{loose.id}/reject", {"note": "", "seen": "submitted"})
    assert response.status_code == 400 and 'id="note-msg"' in text(response) and "请填写原因" in text(response)
    response = dealer.post(f"/dealer/orders/{loose.id}/reject", {"note": "", "seen": "submitted"}, htmx=True)
    assert response.status_code == 422 and 'id="decision"' in text(response) and "<html" not in text(response)
    assert f.status_of(loose) == "submitted"
    response = dealer.post(f"/dealer/orders/{loose.id}/reject", {"note": "超出配送范围", "seen": "submitted", "confirmed": "1"})
    assert response.status_code == 303 and f.status_of(loose) == "rejected"
    event = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == loose.id)
                               .order_by(OrderEvent.id.desc())).first()
    assert event.to_status == "rejected" and event.note == "超出配送范围"


def test_decisions_in_the_wrong_status_are_refused(login_as, desk):
    orders, _, _ = desk
    dealer = login_as("dealer")
    monday = orders["monday"]
    response = dealer.post(f"/dealer/orders/{monday.id}/approve", {"seen": "approved"})
    assert response.status_code == 409 and "不能改为" in text(response)
    response = dealer.post(f"/dealer/orders/{orders['loose'].id}/approve", {"seen": "on_hold"})
    assert response.status_code == 409 and "请刷新" in text(response)
    assert f.status_of(monday) == "approved" and f.status_of(orders["loose"]) == "submitted"
    page = text(dealer.get(f"/dealer/orders/{monday.id}"))
    assert "开始拣货" in page and "审核通过" not in page


def test_decisions_on_another_dealers_order_are_not_found(login_as, desk):
    orders, _, _ = desk
    theirs = orders["theirs"]
    dealer = login_as("dealer")
    for action in ("approve", "reject", "hold", "picking", "cancel"):
        response = dealer.post(f"/dealer/orders/{theirs.id}/{action}", {"note": "x", "seen": "submitted"})
        assert response.status_code == 404
    assert login_as("retailer").post(f"/dealer/orders/{theirs.id}/approve", {"seen": "submitted"}).status_code == 403
    assert f.status_of(theirs) == "submitted"


# ---- printing -------------------------------------------------------------------------------------------

def test_order_sheets_print_one_a4_page_per_order(login_as, desk):
    orders, (a, b), _ = desk
    dealer = login_as("dealer")
    response = dealer.get(f"/dealer/orders/print/sheets?{ids(orders['monday'], orders['loose'], orders['theirs'])}")
    page = text(response)
    assert response.status_code == 200
    assert orders["monday"].number in page and orders["loose"].number in page and orders["theirs"].number not in page
    assert page.count('<article class="sheet') == 2 and page.count("page-break") == 1
    assert a.name_zh in page and "西湖小卖部" in page and "临平超市" in page and "客户签字" in page
    assert "税率 13%：不含税" in page
    assert 'media="print"' in page and "data-print" in page  # the print button (static/app.js)
    link = page.split('media="print"')[0].rsplit('href="', 1)[1].split('"')[0]
    css = text(dealer.get(link))
    assert "size:A4" in css and ".page-break{break-after:page}" in css and ".print-toolbar{display:none" in css


def test_printing_needs_a_ticked_order_of_ones_own(login_as, desk):
    orders, _, _ = desk
    dealer = login_as("dealer")
    for url in ("/dealer/orders/print/sheets", "/dealer/orders/print/pick-list"):
        response = dealer.get(url)
        assert response.status_code == 200 and "请先在订单列表中勾选" in text(response)
        response = dealer.get(f"{url}?{ids(orders['theirs'])}")
        assert response.status_code == 404 and orders["theirs"].number not in text(response)
        assert dealer.get(f"{url}?order_ids=abc").status_code == 200
    response = dealer.post("/dealer/orders/print/pick-list/pdf", {"order_ids": [orders["theirs"].id]})
    assert response.status_code == 404
    assert db.session.scalar(select(Document.id)) is None


def test_the_pick_list_groups_by_route_then_retailer_with_lots(login_as, desk):
    orders, (a, b), _ = desk
    dealer = login_as("dealer")
    chosen = ids(orders["wednesday"], orders["loose"], orders["monday"])
    response = dealer.get(f"/dealer/orders/print/pick-list?{chosen}")
    page = text(response)
    assert response.status_code == 200
    monday, wednesday, loose = (page.index("线路：周一 · 杭州市"), page.index("线路：周三 · 滨江区"),
                                page.index("线路：临平区"))
    assert monday < wednesday < loose  # by weekday, routes without a day last
    assert monday < page.index("西湖小卖部", monday) < wednesday < page.index("滨江便利店", wednesday) < loose
    assert page.index(orders["monday"].number, monday) < wednesday
    # 60 of A for the two orders: the early lot (50) first, then 10 from the late lot
    summary = page[:monday]
    assert f"E-{a.code} × 50" in summary and f"L-{a.code} × 10" in summary
    assert f"E-{a.code} × 30" in page[monday:wednesday]
    assert f"E-{a.code} × 20" in page[wednesday:loose] and f"L-{a.code} × 10" in page[wednesday:loose]
    assert "无预留批次" not in summary.split(b.code)[0] and "—" in page[loose:]  # the submitted order holds no lots
    assert "3 个订单，共 67 件" in page and 'class="sheet pick-list"' in page


def test_the_pick_list_and_order_sheets_as_pdf(login_as, desk, app):
    orders, (a, _b), _ = desk
    dealer = login_as("dealer")
    response = dealer.post("/dealer/orders/print/pick-list/pdf",
                           {"order_ids": [orders["monday"].id, orders["wednesday"].id, orders["theirs"].id]})
    document = db.session.scalar(select(Document).where(Document.kind == "pick_list"))
    assert response.status_code == 303 and response.headers["Location"] == f"/documents/{document.id}/status"
    # another dealer's order ticked in (a forged form) is left out, as on the print page
    assert document.params["order_ids"] == sorted([orders["monday"].id, orders["wednesday"].id])
    assert document.owner_org_id == orders["monday"].seller_id
    builders_documents.run_queued_jobs(app)
    document = db.session.get(Document, document.id)
    assert document.status == "ready"
    pdf = builders_documents.pdf_text(document.pdf)
    assert "周一 · 杭州市" in pdf and "滨江便利店" in pdf and f"E-{a.code}" in pdf and f"L-{a.code}" in pdf
    assert document.params["routes"][str(orders["wednesday"].id)] == "周三 · 滨江区"

    response = dealer.post("/dealer/orders/print/sheets/pdf", {"order_ids": [orders["monday"].id, orders["loose"].id]})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/dealer/orders/print/sheets?{ids(orders['monday'], orders['loose'])}"
    builders_documents.run_queued_jobs(app)
    sheets = db.session.scalars(select(Document).where(Document.kind == "order_sheet")).all()
    assert {d.order_id for d in sheets} == {orders["monday"].id, orders["loose"].id}
    assert all(d.status == "ready" for d in sheets)
    page = text(dealer.get(response.headers["Location"]))
    assert all(f"/documents/{d.id}" in page for d in sheets)
    monday_sheet = next(d for d in sheets if d.order_id == orders["monday"].id)
    assert orders["monday"].number in builders_documents.pdf_text(monday_sheet.pdf)
