"""Many processes reserve the last units of the same products at once (like gunicorn workers
approving orders): nobody oversells, nobody deadlocks, every refusal is a clean StockShortage,
and the ledger, the balances and the reservations agree afterwards.

20 workers on PostgreSQL (DATABASE_URL); 8 on SQLite, which serialises writers anyway."""
import random
import traceback
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import StockBalance, StockMovement, StockReservation
from app.services.inventory import StockShortage, reserve_order
from app.services.inventory.verify import verify_stock
from tests import factories
from tests.builders_stock import order, stock, warehouse
from tests.forked import run_forked

pytestmark = pytest.mark.xdist_group("serial")  # starts worker processes

UNITS_PER_PRODUCT = 6


def _worker(database_url: str, order_id: int, barrier, results) -> None:
    from app import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    with app.app_context():
        try:
            barrier.wait(timeout=60)
            reserve_order(order_id, None)
            db.session.commit()
            results.put((order_id, "reserved", ""))
        except StockShortage as shortage:
            db.session.rollback()
            results.put((order_id, "short", ",".join(str(s.product_id) for s in shortage.shortages)))
        except Exception:  # a deadlock, a constraint violation, a lock timeout: all failures
            db.session.rollback()
            results.put((order_id, "error", traceback.format_exc()))
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def contested(world):
    wh = warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    products = [factories.product() for _ in range(5)]
    for p in products:
        stock(wh, p, UNITS_PER_PRODUCT // 2, expires_in_days=100)
        stock(wh, p, UNITS_PER_PRODUCT - UNITS_PER_PRODUCT // 2, expires_in_days=200)
    db.session.commit()
    return wh, products


def test_concurrent_reservations_never_oversell_or_deadlock(app, world, contested):
    wh, products = contested
    wh_id, product_ids = wh.id, [p.id for p in products]
    postgres = db.engine.dialect.name == "postgresql"
    workers = 20 if postgres else 8
    rng = random.Random(4)
    orders = []
    for _ in range(workers):
        wanted = rng.sample(products, 3)
        orders.append(order(world.orgs["retailer"], world.orgs["dealer"], {p: rng.randint(1, 3) for p in wanted}))
    db.session.commit()
    order_lines = {o.id: {line.product_id: line.qty for line in o.lines} for o in orders}
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()

    outcomes = run_forked(_worker, [(url, o_id) for o_id in order_lines])

    errors = [detail for _o, outcome, detail in outcomes if outcome == "error"]
    assert errors == [], errors[0]
    reserved_orders = {o for o, outcome, _d in outcomes if outcome == "reserved"}
    refused_orders = {o for o, outcome, _d in outcomes if outcome == "short"}
    assert reserved_orders and refused_orders  # the race was real: some won, some lost
    assert len(reserved_orders) + len(refused_orders) == workers

    expected = {p: 0 for p in product_ids}
    for o in reserved_orders:
        for product_id, qty in order_lines[o].items():
            expected[product_id] += qty
    balances = {b.product_id: b for b in db.session.scalars(select(StockBalance).where(StockBalance.warehouse_id == wh_id))}
    for product_id, qty in expected.items():
        assert balances[product_id].reserved == qty <= balances[product_id].on_hand == UNITS_PER_PRODUCT
    for o in refused_orders:  # a refusal leaves no trace
        assert db.session.scalar(select(func.count()).select_from(StockReservation)
                                 .where(StockReservation.document == f"order:{o}")) == 0
        assert db.session.scalar(select(func.count()).select_from(StockMovement)
                                 .where(StockMovement.document == f"order:{o}")) == 0
        # and it was refused for a product that really was short for it
        short = [int(p) for p in dict((x[0], x[2]) for x in outcomes)[o].split(",")]
        assert any(expected[p] + order_lines[o][p] > UNITS_PER_PRODUCT for p in short)
    for o in reserved_orders:
        held = dict(db.session.execute(select(StockReservation.product_id, StockReservation.qty)
                                       .where(StockReservation.document == f"order:{o}")).all())
        assert held == order_lines[o]
    assert verify_stock() == []


LAST_UNITS = 7


def _reserving_worker(database_url: str, n: int, warehouse_id: int, quantities: dict, barrier, results) -> None:
    """reserve_stock straight (the path the checkout takes), counting the statements it sends."""
    from sqlalchemy import event

    from app import create_app
    from app.services.core.clock import today_local
    from app.services.inventory.reservations import reserve_stock

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        cutoff = today_local() + timedelta(days=1)
        try:
            barrier.wait(timeout=60)
            reserve_stock(warehouse_id, quantities, document=f"race:{n}", min_expiry=dict.fromkeys(quantities, cutoff),
                          actor_id=None)
            sent = len(statements)
            db.session.commit()
            results.put((n, "reserved", sent))
        except StockShortage:
            db.session.rollback()
            results.put((n, "short", 0))
        except Exception:
            db.session.rollback()
            results.put((n, "error", traceback.format_exc()))
        finally:
            db.session.remove()
            db.engine.dispose()


def test_racing_for_the_last_units_reserves_exactly_what_is_there(app, world):
    """Many processes race for the last units of a product, some together with a second product:
    exactly the units there were are reserved, never more, nobody deadlocks; on PostgreSQL each
    reservation is one statement (the stock_reserve function)."""
    wh = warehouse(world.orgs["dealer"], world.regions["hz"])
    scarce, plenty = factories.product(), factories.product()
    stock(wh, scarce, LAST_UNITS, expires_in_days=300)
    stock(wh, plenty, 100, expires_in_days=300)
    db.session.commit()
    postgres = db.engine.dialect.name == "postgresql"
    workers = 20 if postgres else 8
    wanted = {n: {scarce.id: 1} if n % 2 else {plenty.id: 1, scarce.id: 1} for n in range(workers)}
    wh_id, url = wh.id, db.engine.url.render_as_string(hide_password=False)
    db.session.remove()

    outcomes = run_forked(_reserving_worker, [(url, n, wh_id, wanted[n]) for n in wanted])

    errors = [detail for _n, outcome, detail in outcomes if outcome == "error"]
    assert errors == [], errors[0]
    winners = {n for n, outcome, _s in outcomes if outcome == "reserved"}
    expected_winners = min(LAST_UNITS, workers)
    assert len(winners) == expected_winners
    if postgres:
        assert {sent for _n, outcome, sent in outcomes if outcome == "reserved"} == {1}
    balances = {b.product_id: b for b in db.session.scalars(select(StockBalance).where(StockBalance.warehouse_id == wh_id))}
    assert (balances[scarce.id].on_hand, balances[scarce.id].reserved) == (LAST_UNITS, min(LAST_UNITS, workers))
    assert balances[plenty.id].reserved == sum(1 for n in winners if plenty.id in wanted[n])
    held = db.session.execute(select(StockReservation.document, StockReservation.product_id, StockReservation.qty)
                              .where(StockReservation.warehouse_id == wh_id)).all()
    assert sorted(held) == sorted((f"race:{n}", pid, 1) for n in winners for pid in wanted[n])
    assert db.session.scalar(select(func.count()).select_from(StockMovement).where(
        StockMovement.document.like("race:%"), StockMovement.kind == "reserve")) == sum(len(wanted[n]) for n in winners)
    assert verify_stock() == []
