"""Issue 14: `stock.below_reorder` is written to the outbox in the transaction of the stock change
that takes available stock from above a reorder point to at or below it: downwards only, once per
crossing, whichever ledger path changed the row (reservation, adjustment, shipment), and it can
be subscribed to. Every change also bumps the row's version (its API ETag)."""
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, ReorderRule, StockBalance
from app.services.inventory import operations
from app.services.inventory.reservations import release_document, reserve_stock
from tests import factories
from tests.builders_api import api_world, bearer, new_key
from tests.builders_stock import days, stock, warehouse


def below_reorder_events() -> list[OutboxEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "stock.below_reorder")
                                   .order_by(OutboxEvent.id)))


def setup(world):
    wh = warehouse(world.orgs["dealer"], world.regions["hz"], code="HZ-9", name="杭州九号仓")
    juice, water = factories.product(code="JUICE"), factories.product(code="WATER9")
    lot = stock(wh, juice, 20, batch="J1")
    stock(wh, water, 50, batch="W1")
    db.session.add_all([ReorderRule(warehouse_id=wh.id, product_id=juice.id, safety_stock=4, reorder_point=12),
                        ReorderRule(warehouse_id=wh.id, product_id=water.id, safety_stock=4, reorder_point=10)])
    db.session.commit()
    return wh, juice, water, lot


def reserve(wh, quantities: dict, document: str):
    reserve_stock(wh.id, {p.id: q for p, q in quantities.items()}, document=document,
                  min_expiry={p.id: days(0) for p in quantities}, actor_id=None)
    db.session.commit()


def test_the_change_that_crosses_downwards_writes_one_event(world):
    wh, juice, water, lot = setup(world)
    reserve(wh, {juice: 5, water: 5}, "order:1")      # juice 20 → 15, water 50 → 45: above both points
    assert below_reorder_events() == []
    reserve(wh, {juice: 4, water: 30}, "order:2")     # juice 15 → 11 crosses 12; water 45 → 15 does not
    [event] = below_reorder_events()
    assert event.data == {"warehouse_id": wh.id, "warehouse_code": "HZ-9", "product_id": juice.id,
                          "product_code": "JUICE", "available": 11, "reorder_point": 12}
    assert (event.aggregate_type, event.aggregate_id, event.sequence) == (f"stock:{wh.id}", juice.id, 1)
    assert event.org_ids == [world.orgs["dealer"].id]

    operations.adjust_lot(lot, -2, "破损", actor_id=None)  # 11 → 9: still below, no new crossing
    reserve(wh, {water: 5}, "order:3")                    # water 15 → 10: at the point is low
    assert [(e.data["product_code"], e.data["available"]) for e in below_reorder_events()] == [
        ("JUICE", 11), ("WATER9", 10)]

    release_document("order:2", actor_id=None)            # juice back to 13: above again (no event)
    operations.adjust_lot(lot, -3, "盘亏", actor_id=None)   # the adjustment path: 13 → 10, a new crossing
    db.session.commit()
    events = below_reorder_events()
    assert [(e.data["product_code"], e.data["available"]) for e in events] == [
        ("JUICE", 11), ("WATER9", 10), ("JUICE", 10)]
    assert events[-1].sequence == 2  # the stock row's second event


def test_a_rolled_back_change_leaves_no_event_and_versions_count_changes(world):
    wh, juice, _water, lot = setup(world)
    balance = db.session.get(StockBalance, (wh.id, juice.id))
    version = balance.version
    assert version >= 1  # the receipt changed it
    operations.adjust_lot(lot, -10, "破损", actor_id=None)
    db.session.rollback()
    assert below_reorder_events() == []
    assert db.session.get(StockBalance, (wh.id, juice.id)).version == version
    operations.adjust_lot(lot, 1, "盘盈", actor_id=None)
    reserve(wh, {juice: 1}, "order:9")
    assert db.session.get(StockBalance, (wh.id, juice.id)).version == version + 2


def test_integrators_can_subscribe_to_it(app, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ("example.com",))  # no DNS in tests
    api = api_world(world)
    answer = client.http.post("/api/v1/webhooks", json={"url": "https://example.com/hooks",
                                                        "event_types": ["stock.below_reorder"]},
                              headers=bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()}))
    assert answer.status_code == 201, answer.json
    assert answer.json["event_types"] == ["stock.below_reorder"]
    spec = client.http.get("/api/v1/openapi.json").json
    assert "stock.below_reorder" in str(spec)


def test_a_reservation_refused_for_a_shortage_announces_nothing_it_undid(world):
    """The juice would cross its point, but the water is short: nothing is reserved, and no event
    is left in the caller's transaction (which commits without a savepoint to roll back)."""
    import pytest

    from app.services.inventory.reservations import StockShortage

    wh, juice, water, _lot = setup(world)
    with pytest.raises(StockShortage):
        reserve_stock(wh.id, {juice.id: 10, water.id: 60}, document="order:1",
                      min_expiry={juice.id: days(0), water.id: days(0)}, actor_id=None)
    db.session.commit()
    assert below_reorder_events() == []
    assert {b.product_id: b.reserved for b in db.session.scalars(select(StockBalance))} == {juice.id: 0, water.id: 0}
    reserve(wh, {juice: 10}, "order:2")  # the same crossing, made: announced once
    assert [(e.data["product_code"], e.data["available"]) for e in below_reorder_events()] == [("JUICE", 10)]
