"""Two people acting on the same order at once end in one consistent state: one of them wins,
the other is refused and nothing of theirs is saved. Each actor runs in its own thread, app
context and database session, as two requests would. Runs on SQLite by default and on
PostgreSQL when DATABASE_URL names it (row lock + conditional UPDATE there; serialised writes on
SQLite). Nothing waits on a clock: the actors meet at events and barriers, and the test polls
the database's lock table for the one thing no event can report."""
import threading

from sqlalchemy import event, func, select, text

from app.extensions import db
from app.models import Order, OrderEvent, StockBalance
from app.services.ordering import lifecycle
from app.services.core.errors import DomainError
from tests import builders_lifecycle as b
from tests import factories
from tests.waiting import wait_until


def _act(app, order_id, to, actor_id, note, before_commit=None, start=None, name=None):
    """transition() in its own session; returns "ok" or the refusal message."""
    result = {}

    def run():
        with app.test_request_context():
            try:
                if start is not None:
                    start()
                lifecycle.transition(order_id, to, actor_id, note)
                if before_commit is not None:
                    before_commit()
                db.session.commit()
                result["outcome"] = "ok"
            except DomainError as refused:
                db.session.rollback()
                result["outcome"] = refused.message
            except Exception as error:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                result["outcome"] = f"error: {error!r}"
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, result


def test_the_second_person_waits_for_the_first_and_is_refused(app, world):
    """Forced interleaving: A approves and, before committing, waits until B has read the order
    (still "submitted") and is trying to reject it; on PostgreSQL until B's backend is seen
    waiting for A's row lock. Then A commits, and B's conditional UPDATE finds the order moved."""
    order = b.order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)])
    db.session.commit()
    actor = world.users["dealer"].id
    a_updated, b_updating = threading.Event(), threading.Event()
    b_backend = {}

    def watch_b(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "actor-b" and statement.lstrip().upper().startswith("UPDATE ORDERS"):
            if conn.dialect.name == "postgresql":
                b_backend["pid"] = conn.connection.dbapi_connection.info.backend_pid
            b_updating.set()

    def a_waits_for_b():
        a_updated.set()
        assert b_updating.wait(30), "B never tried to update the order"
        if db.session.get_bind().dialect.name == "postgresql":
            # pg_locks is read live (not from the transaction's snapshot): B's lock request
            # shows there, not granted, for as long as A holds the row.
            wait_until(lambda: db.session.scalar(text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                                                 {"pid": b_backend["pid"]}), 30, "B to wait for A's row lock")

    event.listen(db.engine, "before_cursor_execute", watch_b)
    try:
        thread_a, a = _act(app, order.id, "approved", actor, "同意", before_commit=a_waits_for_b, name="actor-a")
        thread_b, b_ = _act(app, order.id, "rejected", actor, "拒绝", start=lambda: a_updated.wait(30),
                            name="actor-b")
        thread_a.join(60)
        thread_b.join(60)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch_b)

    assert a["outcome"] == "ok"
    # B read "submitted" before A committed: its conditional UPDATE (WHERE status = 'submitted') found nothing.
    assert b_["outcome"] == "订单刚刚已被他人处理，请刷新后查看。", b_
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "approved"
    assert [e[1] for e in b.events_of(order.id)] == ["submitted", "approved"]
    assert b.status_audits(order.id) == 1


def test_approve_and_cancel_at_once_leave_stock_and_status_consistent(app, world):
    product = factories.product()
    warehouse = b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 100})
    actor = world.users["dealer"].id
    orders = [b.order(world.orgs["retailer"], world.orgs["dealer"], [(product, 5)]).id for _ in range(4)]
    db.session.commit()

    for order_id in orders:
        barrier = threading.Barrier(2)
        threads = [_act(app, order_id, to, actor, "并发", start=lambda: barrier.wait(10))
                   for to in ("approved", "cancelled")]
        for thread, _result in threads:
            thread.join(30)
        outcomes = [result["outcome"] for _thread, result in threads]
        assert not any(o.startswith("error") for o in outcomes), outcomes
        assert "ok" in outcomes

    db.session.expire_all()
    statuses = [db.session.get(Order, order_id).status for order_id in orders]
    assert set(statuses) <= {"approved", "cancelled"}
    reserved = db.session.scalar(select(StockBalance.reserved).where(StockBalance.warehouse_id == warehouse.id))
    # An order cancelled after its approval released its stock; an approved one holds 5.
    assert reserved == 5 * statuses.count("approved")
    for order_id, status in zip(orders, statuses):
        moves = db.session.scalars(select(OrderEvent.to_status).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)).all()
        assert moves[-1] == status and moves[0] == "submitted"
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) >= 2 * len(orders)


def test_a_retailer_cancelling_while_the_dealer_approves_never_gets_both(app, world):
    """The retailer's cancel (allowed only before approval) and the dealer's approval at once: one
    of them wins, never an order approved and then cancelled by its buyer."""
    product = factories.product()
    warehouse = b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {product: 100})
    buyer, seller = world.orgs["retailer"], world.orgs["dealer"]
    retailer_user, dealer_user = world.users["retailer"].id, world.users["dealer"].id
    orders = [b.order(buyer, seller, [(product, 5)]).id for _ in range(4)]
    db.session.commit()

    def actor(call, barrier, result):
        def run():
            with app.test_request_context():
                try:
                    barrier.wait(10)
                    call()
                    db.session.commit()
                    result["outcome"] = "ok"
                except DomainError as refused:
                    db.session.rollback()
                    result["outcome"] = refused.message
                except Exception as error:  # noqa: BLE001 - reported by the test
                    db.session.rollback()
                    result["outcome"] = f"error: {error!r}"
                finally:
                    db.session.remove()
        return threading.Thread(target=run)

    for order_id in orders:
        barrier = threading.Barrier(2)
        cancelled, approved = {}, {}
        threads = [actor(lambda: lifecycle.cancel_as_buyer(buyer.id, order_id, retailer_user, "买多了"), barrier,
                         cancelled),
                   actor(lambda: lifecycle.transition(order_id, "approved", dealer_user, ""), barrier, approved)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        outcomes = [cancelled["outcome"], approved["outcome"]]
        assert not any(o.startswith("error") for o in outcomes), outcomes
        assert outcomes.count("ok") == 1, outcomes

    db.session.expire_all()
    statuses = [db.session.get(Order, order_id).status for order_id in orders]
    assert set(statuses) <= {"approved", "cancelled"}
    for order_id, status in zip(orders, statuses):
        moves = db.session.scalars(select(OrderEvent.to_status).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)).all()
        assert moves == ["submitted", status]  # one move, never approved then cancelled
    reserved = db.session.scalar(select(StockBalance.reserved).where(StockBalance.warehouse_id == warehouse.id))
    assert reserved == 5 * statuses.count("approved")
