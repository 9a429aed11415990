"""Transfers between warehouses (库存调配): reservation at creation, in transit after shipping,
the same lots arriving; suggestions; and the pages."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ReorderRule, StockBalance, StockLot, Transfer
from app.services.core.errors import DomainError
from app.services.inventory import StockShortage, transfers
from app.services.inventory.scope import scope_for_org
from app.services.inventory.verify import verify_stock
from tests import factories
from tests.builders_stock import stock, warehouse


@pytest.fixture
def two(world):
    dealer = world.orgs["dealer"]
    a = warehouse(dealer, world.regions["hz"], code="A", name="甲仓")
    b = warehouse(dealer, world.regions["hz"], code="B", name="乙仓")
    other = warehouse(world.orgs["dealer_b"], world.regions["cd"], code="C", name="丙仓")
    product = factories.product(code="COLA")
    stock(a, product, 20, batch="EARLY", expires_in_days=60)
    stock(a, product, 20, batch="LATE", expires_in_days=200)
    db.session.commit()
    return dict(a=a, b=b, other=other, product=product, dealer=dealer)


def _bal(wh, product):
    db.session.expire_all()
    b = db.session.get(StockBalance, (wh.id, product.id))
    return (b.on_hand, b.reserved) if b else (0, 0)


def test_transfer_reserves_ships_and_arrives_in_the_same_lots(two):
    a, b, product = two["a"], two["b"], two["product"]
    t = transfers.create_transfer(a, b, {product.id: 25}, actor_id=None)
    db.session.commit()
    assert _bal(a, product) == (40, 25)
    assert transfers.in_transit_to([b.id]) == {}
    transfers.ship_transfer(t, actor_id=None)
    db.session.commit()
    assert _bal(a, product) == (15, 0) and _bal(b, product) == (0, 0)
    assert transfers.in_transit_to([b.id]) == {(b.id, product.id): 25}
    transfers.receive_transfer(t, actor_id=None)
    db.session.commit()
    assert _bal(b, product) == (25, 0)
    lots = {lot.batch_no: lot.on_hand for lot in db.session.scalars(select(StockLot).where(StockLot.warehouse_id == b.id))}
    assert lots == {"EARLY": 20, "LATE": 5}
    assert transfers.in_transit_to([b.id]) == {}
    assert verify_stock() == []
    with pytest.raises(DomainError):
        transfers.receive_transfer(t, actor_id=None)


def test_transfer_rules(two):
    a, b, other, product = two["a"], two["b"], two["other"], two["product"]
    with pytest.raises(DomainError):
        transfers.create_transfer(a, other, {product.id: 1}, actor_id=None)  # another owner
    with pytest.raises(DomainError):
        transfers.create_transfer(a, a, {product.id: 1}, actor_id=None)
    with pytest.raises(StockShortage):
        transfers.create_transfer(a, b, {product.id: 41}, actor_id=None)
    db.session.rollback()
    t = transfers.create_transfer(a, b, {product.id: 5}, actor_id=None)
    transfers.cancel_transfer(t, actor_id=None)
    db.session.commit()
    assert _bal(a, product) == (40, 0) and t.status == "cancelled"


def test_suggestions_pair_a_short_warehouse_with_a_surplus(two):
    a, b, product = two["a"], two["b"], two["product"]
    db.session.add(ReorderRule(warehouse_id=b.id, product_id=product.id, safety_stock=4, reorder_point=10))
    db.session.add(ReorderRule(warehouse_id=a.id, product_id=product.id, safety_stock=5, reorder_point=15))
    db.session.commit()
    [s] = transfers.suggest_transfers(scope_for_org(two["dealer"].id, False))
    # b needs 10 + 4 - 0 = 14; a can spare 40 - (15 + 5) = 20
    assert (s.source.id, s.dest.id, s.product.id, s.qty) == (a.id, b.id, product.id, 14)
    assert transfers.suggest_transfers(scope_for_org(two["other"].owner_id, False)) == []


def test_transfer_pages(login_as, two):
    a, b, product = two["a"], two["b"], two["product"]
    c = login_as("dealer")
    c.get("/dealer/stock/transfers/new")
    bad = c.post("/dealer/stock/transfers/new", {"source_id": a.id, "dest_id": b.id,
                                                 "lines-0-product_code": "NOPE", "lines-0-qty": "3"})
    assert bad.status_code == 400 and "商品编码不存在" in bad.get_data(as_text=True)
    short = c.post("/dealer/stock/transfers/new", {"source_id": a.id, "dest_id": b.id,
                                                   "lines-0-product_code": "COLA", "lines-0-qty": "99"})
    assert short.status_code == 400 and "库存不足" in short.get_data(as_text=True)
    foreign = c.post("/dealer/stock/transfers/new", {"source_id": a.id, "dest_id": two["other"].id,
                                                     "lines-0-product_code": "COLA", "lines-0-qty": "1"})
    assert foreign.status_code == 400  # not one of the dealer's warehouses: not a valid choice
    assert db.session.scalar(select(Transfer.id)) is None

    ok = c.post("/dealer/stock/transfers/new", {"source_id": a.id, "dest_id": b.id, "note": "补货",
                                                "lines-0-product_code": "COLA", "lines-0-qty": "6"})
    assert ok.status_code == 303
    t = db.session.scalar(select(Transfer))
    assert ok.headers["Location"].endswith(f"/dealer/stock/transfers/{t.id}")
    detail = c.get(f"/dealer/stock/transfers/{t.id}").get_data(as_text=True)
    assert t.number in detail and "出库" in detail
    assert c.post(f"/dealer/stock/transfers/{t.id}/ship", {}).status_code == 303
    assert "在途" in c.get("/dealer/stock/transfers/").get_data(as_text=True)
    fragment = c.hx_get("/dealer/stock/transfers/?status=shipped").get_data(as_text=True)
    assert 'id="transfers"' in fragment and t.number in fragment and "<html" not in fragment
    assert c.post(f"/dealer/stock/transfers/{t.id}/receive", {}, htmx=True).headers["HX-Redirect"].endswith(
        f"/dealer/stock/transfers/{t.id}")
    assert _bal(b, product) == (6, 0)
    other = login_as("dealer_b")
    assert other.get(f"/dealer/stock/transfers/{t.id}").status_code == 404
    assert other.post(f"/dealer/stock/transfers/{t.id}/cancel", {}).status_code == 404


def test_suggestion_page_links_to_a_prefilled_transfer(login_as, two):
    a, b, product = two["a"], two["b"], two["product"]
    db.session.add(ReorderRule(warehouse_id=b.id, product_id=product.id, safety_stock=0, reorder_point=8))
    db.session.commit()
    c = login_as("dealer")
    page = c.get("/dealer/stock/transfers/suggestions").get_data(as_text=True)
    assert "COLA" in page and "生成调拨单" in page
    form = c.get(f"/dealer/stock/transfers/new?source_id={a.id}&dest_id={b.id}&product_code=COLA&qty=8")
    assert 'value="COLA"' in form.get_data(as_text=True) and 'value="8"' in form.get_data(as_text=True)
    # query-string ids are scoped like path ids: another dealer's warehouse is not found
    for query in (f"source_id={two['other'].id}&dest_id={b.id}", f"source_id={a.id}&dest_id={two['other'].id}"):
        foreign = c.get(f"/dealer/stock/transfers/new?{query}")
        assert foreign.status_code == 404 and "丙仓" not in foreign.get_data(as_text=True)


def test_cancelling_a_transfer_on_its_page_asks_first(login_as, two):
    a, b, product = two["a"], two["b"], two["product"]
    t = transfers.create_transfer(a, b, {product.id: 6}, actor_id=None)
    db.session.commit()
    c = login_as("dealer")
    assert 'hx-confirm="取消这张调拨单？预留的库存会释放。"' in c.get(f"/dealer/stock/transfers/{t.id}").get_data(as_text=True)
    asked = c.post(f"/dealer/stock/transfers/{t.id}/cancel", {})
    assert asked.status_code == 200 and "取消这张调拨单？" in asked.get_data(as_text=True)
    assert _bal(a, product)[1] == 6  # still reserved
    done = c.post(f"/dealer/stock/transfers/{t.id}/cancel", {"confirmed": "1"})
    assert done.status_code == 303 and _bal(a, product) == (40, 0)
