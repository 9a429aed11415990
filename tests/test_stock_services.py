"""Inventory services: receipts, reservations (all or nothing), FEFO shipping, the shelf-life
rule, returns, adjustments, stocktakes and the ledger check."""
import os

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ShelfLifeRule, StockBalance, StockLot, StockMovement, StockReservation
from app.services.core.errors import DomainError
from app.services.inventory import (ReturnLine, StockShortage, counts, operations, receive_return, release_order,
                                    reserve_order, ship_order_lines)
from app.services.inventory.reservations import reserve_stock
from app.services.inventory.verify import verify_stock
from tests import factories
from tests.builders_stock import days, order, stock, warehouse


def balance(wh, product):
    db.session.expire_all()
    return db.session.get(StockBalance, (wh.id, product.id))


@pytest.fixture
def setup(world):
    brand, dealer, retailer = world.brand, world.orgs["dealer"], world.orgs["retailer"]
    wh = warehouse(dealer, world.regions["hz"], is_default=True)
    p1, p2 = factories.product(shelf_life_days=360), factories.product(shelf_life_days=360)
    db.session.commit()
    return dict(brand=brand, dealer=dealer, retailer=retailer, wh=wh, p1=p1, p2=p2,
                actor=world.users["dealer"].id)


def test_receipt_creates_lot_balance_and_ledger_row(setup):
    wh, p1 = setup["wh"], setup["p1"]
    lot = operations.receive_stock(wh.id, p1.id, 40, "L1", actor_id=setup["actor"], production_date=days(-10))
    assert lot.expiry_date == days(-10 + 360)  # from shelf life
    operations.receive_stock(wh.id, p1.id, 10, "L1", actor_id=setup["actor"])
    db.session.commit()
    assert (balance(wh, p1).on_hand, balance(wh, p1).reserved) == (50, 0)
    assert db.session.scalar(select(StockLot.on_hand).where(StockLot.id == lot.id)) == 50
    assert [m.on_hand_delta for m in db.session.scalars(select(StockMovement).order_by(StockMovement.id))] == [40, 10]
    assert verify_stock() == []


def test_receipt_needs_a_date_for_a_new_batch(setup):
    with pytest.raises(DomainError) as error:
        operations.receive_stock(setup["wh"].id, setup["p1"].id, 5, "NEW", actor_id=None)
    assert error.value.field == "production_date"


def test_database_refuses_negative_available(setup):
    wh, p1 = setup["wh"], setup["p1"]
    stock(wh, p1, 5)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE stock_balances SET reserved = 6 WHERE warehouse_id = :w"), {"w": wh.id})
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE stock_lots SET on_hand = -1"))
    db.session.rollback()


def test_reserve_order_is_all_or_nothing_and_names_short_products(setup):
    wh, p1, p2 = setup["wh"], setup["p1"], setup["p2"]
    stock(wh, p1, 10)
    stock(wh, p2, 3)
    o = order(setup["retailer"], setup["dealer"], {p1: 8, p2: 5})
    db.session.commit()
    with pytest.raises(StockShortage) as error:
        reserve_order(o.id, setup["actor"])
    assert [s.product_id for s in error.value.shortages] == [p2.id]
    assert p2.code in error.value.message and "可用 3" in error.value.message
    db.session.commit()  # whatever the service left in the transaction
    assert balance(wh, p1).reserved == 0 and balance(wh, p2).reserved == 0
    assert db.session.scalar(select(StockReservation.id)) is None
    assert verify_stock() == []


def test_reserve_release_and_repeat(setup):
    wh, p1 = setup["wh"], setup["p1"]
    stock(wh, p1, 10)
    o = order(setup["retailer"], setup["dealer"], {p1: 4})
    reserve_order(o.id, setup["actor"])
    reserve_order(o.id, setup["actor"])  # again: no change
    db.session.commit()
    assert (balance(wh, p1).on_hand, balance(wh, p1).reserved) == (10, 4)
    line = db.session.scalars(select(StockMovement).where(StockMovement.document == f"order:{o.id}")).one()
    assert (line.kind, line.reserved_delta, line.actor_id, line.reason) == ("reserve", 4, setup["actor"], "")
    assert (line.reason_message.code, line.reason_message.params) == ("stock.order_approved", {"n": o.number})
    assert release_order(o.id, setup["actor"]) == {p1.id: 4}
    assert release_order(o.id, setup["actor"]) == {}
    db.session.commit()
    assert balance(wh, p1).reserved == 0
    assert verify_stock() == []


def test_reserving_again_for_a_document_adds_to_its_reservation(setup):
    """A second reservation for the same document and product (on PostgreSQL the stock_reserve
    function's update of the document's own row) adds to it and keeps the stricter cut-off."""
    wh, p1, p2 = setup["wh"], setup["p1"], setup["p2"]
    stock(wh, p1, 10)
    stock(wh, p2, 10)
    reserve_stock(wh.id, {p1.id: 2}, document="manual:1", min_expiry={p1.id: days(10)}, actor_id=None)
    reserve_stock(wh.id, {p1.id: 3, p2.id: 1}, document="manual:1", min_expiry={p1.id: days(5), p2.id: days(5)},
                  actor_id=None)
    db.session.commit()
    held = db.session.execute(select(StockReservation.product_id, StockReservation.qty, StockReservation.min_expiry_date)
                              .where(StockReservation.document == "manual:1").order_by(StockReservation.product_id))
    assert [tuple(row) for row in held] == [(p1.id, 5, days(10)), (p2.id, 1, days(5))]
    assert (balance(wh, p1).reserved, balance(wh, p2).reserved) == (5, 1)
    assert sorted(db.session.execute(select(StockMovement.product_id, StockMovement.reserved_delta).where(
        StockMovement.document == "manual:1", StockMovement.kind == "reserve")).all()) == sorted(
        [(p1.id, 2), (p1.id, 3), (p2.id, 1)])
    assert verify_stock() == []


STOCK_TABLES = ("stock_balances", "stock_reservations", "stock_movements", "stock_lots")


def _reads() -> dict[str, tuple[int, int]]:
    """{table: (sequential scans, rows fetched through an index)} so far in this transaction."""
    rows = db.session.execute(text("SELECT relname, seq_scan, idx_tup_fetch FROM pg_stat_xact_user_tables "
                                   "WHERE relname = ANY (:tables)"), {"tables": list(STOCK_TABLES)})
    return {name: (seq, fetched) for name, seq, fetched in rows}


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
                    reason="the stock_reserve function is PostgreSQL's (set DATABASE_URL)")
def test_reservation_reads_its_rows_by_key_whatever_the_statistics(setup):
    """The function plans once per connection and keeps the plan. Planned on statistics that say
    the stock tables are empty (as on a new installation), it must still reach every row through
    an index once the tables have grown: no sequential scan, and only the document's own
    reservations read, not every reservation in the table."""
    wh, p1, p2 = setup["wh"], setup["p1"], setup["p2"]
    others = [factories.product() for _ in range(40)]
    for product in [p1, p2, *others]:
        stock(wh, product, 10)
    db.session.commit()
    db.session.execute(text(f"ANALYZE {', '.join(STOCK_TABLES)}"))  # no reservations: the function plans anew
    for n, product in enumerate(others):
        reserve_stock(wh.id, {product.id: 1}, document=f"other:{n}", min_expiry={product.id: days(5)}, actor_id=None)
    before = _reads()
    for n in range(5):
        reserve_stock(wh.id, {p1.id: 1}, document=f"manual:{n}", min_expiry={p1.id: days(5)}, actor_id=None)
    reserve_stock(wh.id, {p1.id: 1, p2.id: 2}, document="manual:0", min_expiry={p1.id: days(9), p2.id: days(5)},
                  actor_id=None)  # adds to manual:0's reservation of p1
    after = _reads()
    seq_scans = {t: after[t][0] - before[t][0] for t in STOCK_TABLES}
    assert seq_scans == dict.fromkeys(STOCK_TABLES, 0)
    # Seven products reserved: for each at most the document's own row (read by the bounds, then
    # by the update adding to it) and the open reservation with the latest cut-off; not the
    # table's 45 reservations.
    assert after["stock_reservations"][1] - before["stock_reservations"][1] <= 3 * 7
    db.session.commit()
    assert (balance(wh, p1).reserved, balance(wh, p2).reserved) == (6, 2)
    held = db.session.execute(select(StockReservation.qty, StockReservation.min_expiry_date)
                              .where(StockReservation.document == "manual:0", StockReservation.product_id == p1.id))
    assert [tuple(row) for row in held] == [(2, days(9))]
    assert verify_stock() == []


def test_reserve_without_a_seller_warehouse_is_refused(setup, world):
    o = order(setup["retailer"], world.orgs["dealer_b"], {setup["p1"]: 1})
    with pytest.raises(DomainError) as error:
        reserve_order(o.id, None)
    assert error.value.field == "warehouse_id"


def test_ship_takes_first_expiry_first(setup):
    wh, p1 = setup["wh"], setup["p1"]
    late = stock(wh, p1, 10, batch="LATE", expires_in_days=300)
    early = stock(wh, p1, 4, batch="EARLY", expires_in_days=100)
    o = order(setup["retailer"], setup["dealer"], {p1: 6})
    reserve_order(o.id, setup["actor"])
    shipped = ship_order_lines(o.id, {p1.id: 6}, setup["actor"])
    db.session.commit()
    assert [(s.batch_no, s.qty) for s in shipped] == [("EARLY", 4), ("LATE", 2)]
    assert (balance(wh, p1).on_hand, balance(wh, p1).reserved) == (8, 0)
    assert db.session.get(StockLot, early.id).on_hand == 0 and db.session.get(StockLot, late.id).on_hand == 8
    kinds = db.session.scalars(select(StockMovement.kind).where(StockMovement.document == f"order:{o.id}")
                               .order_by(StockMovement.id)).all()
    assert kinds == ["reserve", "ship", "ship"]
    assert verify_stock() == []


def test_ship_more_than_reserved_is_refused(setup):
    wh, p1 = setup["wh"], setup["p1"]
    stock(wh, p1, 10)
    o = order(setup["retailer"], setup["dealer"], {p1: 2})
    reserve_order(o.id, None)
    with pytest.raises(DomainError):
        ship_order_lines(o.id, {p1.id: 3}, None)


def test_partial_shipment_then_release_of_the_rest(setup):
    wh, p1 = setup["wh"], setup["p1"]
    stock(wh, p1, 10)
    o = order(setup["retailer"], setup["dealer"], {p1: 5})
    reserve_order(o.id, None)
    ship_order_lines(o.id, {p1.id: 2}, None)
    assert release_order(o.id, None) == {p1.id: 3}
    db.session.commit()
    assert (balance(wh, p1).on_hand, balance(wh, p1).reserved) == (8, 0)


def test_expired_lots_are_never_allocated(setup):
    wh, p1 = setup["wh"], setup["p1"]
    stock(wh, p1, 10, batch="OLD", expires_in_days=0)  # expires today: expired
    o = order(setup["retailer"], setup["dealer"], {p1: 1})
    with pytest.raises(StockShortage) as error:
        reserve_order(o.id, None)
    assert error.value.shortages[0].shelf_life
    db.session.commit()
    assert balance(wh, p1).reserved == 0


def test_shelf_life_rule_keeps_short_dated_lots_from_a_customer_group(setup):
    wh, p1 = setup["wh"], setup["p1"]  # shelf life 360 days
    db.session.add(ShelfLifeRule(name="超市三分之一", audience="retailer", channel="kiosk", min_remaining_pct=34))
    stock(wh, p1, 10, batch="SHORT", expires_in_days=100)  # < 123 days left: not for kiosks
    stock(wh, p1, 5, batch="FRESH", expires_in_days=300)
    kiosk = order(setup["retailer"], setup["dealer"], {p1: 5})
    reserve_order(kiosk.id, None)
    too_many = order(setup["retailer"], setup["dealer"], {p1: 1})
    with pytest.raises(StockShortage) as error:  # the fresh lot is already promised
        reserve_order(too_many.id, None)
    assert error.value.shortages[0].shelf_life
    dealer_order = order(setup["dealer"], setup["dealer"], {p1: 10})  # dealers have no rule: old lot is fine
    reserve_order(dealer_order.id, None)
    shipped = ship_order_lines(kiosk.id, {p1.id: 5}, None)
    assert [(s.batch_no, s.qty) for s in shipped] == [("FRESH", 5)]
    db.session.commit()
    assert verify_stock() == []


def test_returns_go_back_into_the_shipped_lot(setup):
    wh, p1 = setup["wh"], setup["p1"]
    lot = stock(wh, p1, 10, batch="R1")
    o = order(setup["retailer"], setup["dealer"], {p1: 4})
    reserve_order(o.id, None)
    ship_order_lines(o.id, {p1.id: 4}, None)
    returned = receive_return(o.id, [ReturnLine(p1.id, 3)], None)
    assert [(r.lot_id, r.qty) for r in returned] == [(lot.id, 3)]
    with pytest.raises(DomainError):
        receive_return(o.id, [ReturnLine(p1.id, 2)], None)
    db.session.commit()
    assert balance(wh, p1).on_hand == 9
    assert verify_stock() == []


def test_adjust_needs_a_reason_and_cannot_take_reserved_stock(setup):
    wh, p1 = setup["wh"], setup["p1"]
    lot = stock(wh, p1, 10)
    o = order(setup["retailer"], setup["dealer"], {p1: 8})
    reserve_order(o.id, None)
    with pytest.raises(DomainError) as error:
        operations.adjust_lot(lot, -1, "", actor_id=None)
    assert error.value.field == "reason"
    with pytest.raises(DomainError) as error:
        operations.adjust_lot(lot, -3, "破损", actor_id=None)
    assert error.value.field == "delta"
    operations.adjust_lot(lot, -2, "破损", actor_id=None)
    db.session.commit()
    assert (balance(wh, p1).on_hand, balance(wh, p1).reserved) == (8, 8)
    assert verify_stock() == []


def test_stocktake_sets_counted_quantities_and_records_differences(setup):
    wh, p1, p2 = setup["wh"], setup["p1"], setup["p2"]
    a = stock(wh, p1, 10, batch="A")
    b = stock(wh, p2, 7, batch="B")
    count = counts.open_count(wh.id, actor_id=None)
    by_lot = {line.lot_id: line.id for line in count.lines}
    counts.record_counted(count, {by_lot[a.id]: 12, by_lot[b.id]: None})
    assert counts.post_count(count, actor_id=None) == 1
    db.session.commit()
    assert balance(wh, p1).on_hand == 12 and balance(wh, p2).on_hand == 7
    movement = db.session.scalar(select(StockMovement).where(StockMovement.kind == "count"))
    assert (movement.on_hand_delta, movement.document) == (2, f"count:{count.id}")
    with pytest.raises(DomainError):
        counts.post_count(count, actor_id=None)


def test_expire_lot_writes_off_only_expired_lots(setup):
    wh, p1 = setup["wh"], setup["p1"]
    fresh = stock(wh, p1, 5, expires_in_days=10)
    old = stock(wh, p1, 3, expires_in_days=-1)
    with pytest.raises(DomainError):
        operations.expire_lot(fresh, actor_id=None)
    assert operations.expire_lot(old, actor_id=None) == 3
    db.session.commit()
    assert balance(wh, p1).on_hand == 5
    assert verify_stock() == []


def test_verify_reports_a_tampered_balance(setup, app):
    wh, p1 = setup["wh"], setup["p1"]
    stock(wh, p1, 5)
    db.session.commit()
    db.session.execute(text("UPDATE stock_balances SET on_hand = 7"))
    db.session.commit()
    differences = verify_stock()
    assert [(d.what, d.stored, d.from_ledger) for d in differences] == [("balance.on_hand", 7, 5)]
    result = app.test_cli_runner().invoke(args=["stock", "verify"])
    assert result.exit_code == 1 and "balance.on_hand" in result.output
