"""People acting on the same order at once (double clicks, two desk clerks, a driver trying codes):
shipments never ship more than is open, and wrong delivery codes are counted exactly up to the
limit. On PostgreSQL (DATABASE_URL) the workers are processes released together by a barrier;
SQLite serialises writers, so there the same attempts run one after another."""
import traceback

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import StockMovement
from app.models.fulfilment import ShipmentLine
from app.services.fulfilment import delivery
from app.services.fulfilment import shipping
from app.services.core.errors import DomainError
from tests import builders_fulfilment as f
from tests.forked import run_forked

pytestmark = pytest.mark.xdist_group("serial")  # starts worker processes on PostgreSQL


def _attempt(task: str, args: tuple) -> tuple[str, str]:
    """One person's action in its own transaction, ended the way the view ends it."""
    try:
        if task == "ship":
            seller_id, order_id, actor_id, line_id = args
            shipping.ship(seller_id, order_id, actor_id, carrier="顺丰", quantities={line_id: 2})
        else:
            seller_id, order_id, actor_id, code = args
            delivery.sign_off_with_code(seller_id, order_id, actor_id, code, {})
        db.session.commit()
        return ("done", "")
    except delivery.WrongDeliveryCode:
        db.session.commit()  # as the view does: the attempt counts
        return ("wrong", "")
    except delivery.SignOffLocked:
        db.session.rollback()
        return ("locked", "")
    except DomainError as error:
        db.session.rollback()
        return ("refused", error.message)
    except Exception:  # a deadlock, a lock timeout: failures
        db.session.rollback()
        return ("error", traceback.format_exc())


def _process(database_url: str, task: str, args: tuple, barrier, results) -> None:
    from app import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    with app.app_context():
        try:
            barrier.wait(timeout=60)
            results.put(_attempt(task, args))
        finally:
            db.session.remove()
            db.engine.dispose()


def race(task: str, argument_sets: list[tuple]) -> list[tuple[str, str]]:
    """Everyone at once on PostgreSQL (processes behind a barrier); one after another on SQLite."""
    if db.engine.dialect.name != "postgresql":
        return [_attempt(task, args) for args in argument_sets]
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    return run_forked(_process, [(url, task, args) for args in argument_sets])


def test_concurrent_shipments_never_ship_more_than_is_open(world):
    [a] = f.products(1)
    f.stocked_dealer(world, [a])
    order = f.approved_order(world, [(a, 5)])
    db.session.commit()
    args = (order.seller_id, order.id, world.users["dealer"].id, order.lines[0].id)
    outcomes = race("ship", [args] * 6)

    assert [detail for outcome, detail in outcomes if outcome == "error"] == []
    assert sorted(o for o, _ in outcomes) == ["done", "done"] + ["refused"] * 4
    assert all("最多还能发" in detail or "请刷新" in detail for o, detail in outcomes if o == "refused")
    shipped = db.session.scalar(select(func.sum(ShipmentLine.qty)))
    taken = -db.session.scalar(select(func.sum(StockMovement.on_hand_delta)).where(StockMovement.kind == "ship"))
    assert shipped == taken == 4 and f.status_of(order) == "partly_shipped"


def test_concurrent_wrong_codes_are_counted_up_to_the_limit(world):
    [a] = f.products(1)
    f.stocked_dealer(world, [a])
    order = f.approved_order(world, [(a, 5)])
    f.ship_all(world, order)
    db.session.commit()
    bad = f"{(int(delivery.code_for(order.id)) + 1) % 1_000_000:06d}"
    args = (order.seller_id, order.id, world.users["dealer"].id, bad)
    outcomes = race("code", [args] * (delivery.MAX_ATTEMPTS + 3))

    assert [detail for outcome, detail in outcomes if outcome == "error"] == []
    assert sorted(o for o, _ in outcomes) == ["locked"] * 3 + ["wrong"] * delivery.MAX_ATTEMPTS
    state = delivery.code_state(order.id)
    assert state.failed_attempts == delivery.MAX_ATTEMPTS and state.locked and f.status_of(order) == "shipped"


@pytest.mark.parametrize("attempts_before", [0, delivery.MAX_ATTEMPTS - 1])
def test_the_right_code_still_signs_before_the_limit(world, attempts_before):
    [a] = f.products(1)
    order = f.approved_order(world, [(a, 1)])
    f.ship_all(world, order)
    db.session.commit()
    bad = f"{(int(delivery.code_for(order.id)) + 1) % 1_000_000:06d}"
    args = (order.seller_id, order.id, world.users["dealer"].id)
    outcomes = [_attempt("code", args + (bad,)) for _ in range(attempts_before)]
    outcomes.append(_attempt("code", args + (delivery.code_for(order.id),)))
    assert outcomes == [("wrong", "")] * attempts_before + [("done", "")] and f.status_of(order) == "delivered"
