"""What the retailer benchmarks share: the app and its database, reading forms out of pages,
percentiles, the budget table, and putting the database back as it was.

Not a benchmark itself; `page_weight.py`, `server_time.py` and `order_throughput.py` import it."""
from __future__ import annotations

import html
import os
import pathlib
import re
import sys
import time
from collections.abc import Iterable, Sequence

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "postgresql://postgres@127.0.0.1:5432/lianying_bench"
BENCH_SECRET_KEY = "bench-only-not-secret"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass")
# The bare app's order tables (bare_app.py's POST /order), created and dropped by order_throughput.py.
BARE_ORDERS_TABLE = "bench_bare_orders"
BARE_LINES_TABLE = "bench_bare_order_lines"

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_HIDDEN = r'name="{name}" value="([^"]*)"'
# A catalog row's stepper form: its product and the + button's quantity (the minimum when the
# product is not in the cart yet, one multiple more when it is: a valid quantity either way).
_ADD_FORM = re.compile(r'name="product_id" value="(\d+)">(?:(?!</form>).)*?name="to" value="(\d+)" class="button primary"',
                       re.S)
_ORDER_URL = re.compile(r"/retailer/orders/(\d+)$")


def create_bench_app(database_url: str, **overrides):
    """The app as production runs it (templates cached, no debug), on `database_url`. Cookies are
    not marked Secure so that an in-process client over plain HTTP keeps its session."""
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    from app import create_app
    from app.config import database_url as normalise

    options = dict(SQLALCHEMY_DATABASE_URI=normalise(database_url), SESSION_COOKIE_SECURE=False,
                   REMEMBER_COOKIE_SECURE=False, REDIS_URL=None)
    options.update(overrides)
    return create_app("production", **options)


# -- reading pages ---------------------------------------------------------------------------

def csrf_token(page: str) -> str:
    match = _CSRF.search(page)
    if not match:
        raise ValueError("no csrf_token in the page")
    return html.unescape(match.group(1))


def hidden_value(page: str, name: str) -> str:
    match = re.search(_HIDDEN.format(name=re.escape(name)), page)
    if not match:
        raise ValueError(f"no hidden field {name!r} in the page")
    return html.unescape(match.group(1))


def add_forms(page: str) -> list[tuple[int, int]]:
    """(product id, a valid quantity: its minimum) for every stepper form on a catalog page."""
    return [(int(pid), int(qty)) for pid, qty in _ADD_FORM.findall(page)]


def order_id_from(location: str) -> int:
    match = _ORDER_URL.search(location or "")
    if not match:
        raise ValueError(f"checkout did not redirect to an order: {location!r}")
    return int(match.group(1))


# -- figures ---------------------------------------------------------------------------------

def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def summary_ms(samples: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95, max in milliseconds of samples in seconds."""
    return percentile(samples, 0.5) * 1000, percentile(samples, 0.95) * 1000, max(samples) * 1000


def verdict(value: float, budget: float | None) -> str:
    if budget is None:
        return ""
    return "PASS" if value <= budget else "FAIL"


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


class CpuMeter:
    """CPU seconds spent by one gunicorn's workers, the PostgreSQL backends of the bench database and
    this process (the load generator), over a round. On a machine shared with other work, requests/s
    move with the others' load; the CPU each request costs our own processes moves much less, and
    it says where a request's time goes (issue 15: ~30 ms of the machine per catalog page at load
    ~6 was mostly other processes' share; the page itself cost ~6.5 ms of our processes' CPU).
    Linux only (/proc/<pid>/schedstat, nanoseconds on the CPU); elsewhere every figure is 0."""

    def __init__(self, master_pid: int, database: str):
        self.master_pid, self.database = master_pid, database.rsplit("/", 1)[-1].split("?")[0]

    @staticmethod
    def _pids():
        return [int(name) for name in os.listdir("/proc") if name.isdigit()] if os.path.isdir("/proc") else []

    @staticmethod
    def _on_cpu(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/schedstat") as stat:
                return int(stat.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def _groups(self) -> dict[str, list[int]]:
        workers, backends = [], []
        for pid in self._pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == self.master_pid:
                        workers.append(pid)
                        continue
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace").split()
            except (OSError, ValueError, IndexError):
                continue
            if title and title[0] == "postgres:" and self.database in title:
                backends.append(pid)
        return {"workers": workers, "postgres": backends}

    def start(self) -> None:
        self._before = {pid: self._on_cpu(pid) for pids in self._groups().values() for pid in pids}
        self._client = time.process_time()

    def stop(self) -> dict[str, float]:
        """CPU seconds since start() of: workers, postgres (backends of the database), client."""
        spent = {name: sum(self._on_cpu(pid) - self._before.get(pid, 0.0) for pid in pids)
                 for name, pids in self._groups().items()}
        spent["client"] = time.process_time() - self._client
        return spent


# -- the database back as it was -------------------------------------------------------------

def delete_bench_orders(connection, user_ids: Iterable[int], since, order_ids: Iterable[int] = ()) -> list[int]:
    """Delete the orders a benchmark made: those whose ids it saw, and any other order its users
    placed since it started (a checkout that committed but whose answer was lost). Returns the
    ids of the orders deleted."""
    user_ids = sorted(set(user_ids))
    with connection.transaction():
        ids = [row[0] for row in connection.execute(
            "SELECT id FROM orders WHERE id = ANY(%s) OR (placed_by_id = ANY(%s) AND created_at >= %s)",
            (sorted(set(order_ids)), user_ids, since))]
        delete_orders(connection, ids)
        connection.execute("DELETE FROM cart_lines WHERE owner_id = ANY(%s)", (user_ids,))
    return ids


def delete_orders(connection, ids: list[int]) -> int:
    """Undo what placing and auto-approving these orders wrote: the stock they reserved (the
    balances are put back by the ledger's own deltas, then the ledger rows and reservations of
    the documents "order:<id>" go), their notifications, audit rows, and the orders with their
    lines, history and review reasons (ON DELETE CASCADE)."""
    documents = [f"order:{order_id}" for order_id in ids]
    connection.execute("""
        UPDATE stock_balances b SET on_hand = b.on_hand - m.on_hand, reserved = b.reserved - m.reserved
        FROM (SELECT warehouse_id, product_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
              FROM stock_movements WHERE document = ANY(%s) GROUP BY warehouse_id, product_id) m
        WHERE b.warehouse_id = m.warehouse_id AND b.product_id = m.product_id""", (documents,))
    connection.execute("""
        UPDATE stock_lots l SET on_hand = l.on_hand - m.on_hand
        FROM (SELECT lot_id, sum(on_hand_delta) AS on_hand FROM stock_movements
              WHERE document = ANY(%s) AND lot_id IS NOT NULL GROUP BY lot_id) m
        WHERE l.id = m.lot_id""", (documents,))
    connection.execute("DELETE FROM stock_movements WHERE document = ANY(%s)", (documents,))
    connection.execute("DELETE FROM stock_reservations WHERE document = ANY(%s)", (documents,))
    connection.execute("DELETE FROM notifications WHERE dedupe_key LIKE 'order:%%' "
                       "AND split_part(dedupe_key, ':', 2) = ANY(%s)", ([str(i) for i in ids],))
    connection.execute("DELETE FROM audit_events WHERE entity = 'order' AND entity_id = ANY(%s)", (ids,))
    return connection.execute("DELETE FROM orders WHERE id = ANY(%s)", (ids,)).rowcount


def forget_queued_fan_outs(redis_url: str | None, connection, since) -> int:
    """With REDIS_URL (as production runs), each order queued a webhook fan-out job for its events
    (the order's, and a stock row falling below its reorder point); no worker runs during a
    benchmark, so remove the fan-out jobs of the events recorded since it started. Returns how
    many were removed."""
    if not redis_url:
        return 0
    import redis
    from rq import Queue

    events = [row[0] for row in connection.execute(
        "SELECT event_id FROM outbox_events WHERE occurred_at >= %s", (since,))]
    client = redis.Redis.from_url(redis_url)
    queue = Queue("default", connection=client)
    removed = 0
    for event_id in events:  # a transaction's events share the job named after its first one
        job_id = f"webhook-fanout-{event_id}"
        queue.remove(job_id)
        removed += client.delete(f"rq:job:{job_id}")
    return removed


def orphan_order_ids(connection) -> list[int]:
    """Ids of deleted orders that still hold stock documents or notifications (what an
    interrupted benchmark run may leave)."""
    return [row[0] for row in connection.execute("""
        SELECT DISTINCT split_part(document, ':', 2)::int FROM stock_movements
        WHERE document ~ '^order:[0-9]+$' AND NOT EXISTS (SELECT 1 FROM orders o WHERE 'order:' || o.id = document)
        UNION
        SELECT DISTINCT split_part(dedupe_key, ':', 2)::int FROM notifications
        WHERE dedupe_key ~ '^order:[0-9]+:' AND NOT EXISTS
              (SELECT 1 FROM orders o WHERE o.id = split_part(dedupe_key, ':', 2)::int)""")]


def check_nothing_left(connection, user_ids: Iterable[int], since, order_ids: list[int]) -> bool:
    """True when the benchmark's users have no order since it started and an empty cart, and the
    deleted orders left no stock document or notification behind (other people may use the same
    database meanwhile, so whole-table counts would prove nothing)."""
    user_ids = sorted(set(user_ids))
    orders = connection.execute("SELECT count(*) FROM orders WHERE placed_by_id = ANY(%s) AND created_at >= %s",
                                (user_ids, since)).fetchone()[0]
    lines = connection.execute("SELECT count(*) FROM cart_lines WHERE owner_id = ANY(%s)", (user_ids,)).fetchone()[0]
    stock = connection.execute("SELECT count(*) FROM stock_movements WHERE document = ANY(%s)",
                               ([f"order:{i}" for i in order_ids],)).fetchone()[0]
    if orders or lines or stock or set(orphan_order_ids(connection)) & set(order_ids):
        print(f"WARNING: left behind {orders} orders, {lines} cart lines, {stock} stock movements")
        return False
    print(f"database back at its state before the run: {len(order_ids)} orders deleted with their stock "
          f"reservations, ledger rows, notifications and audit rows; no cart line left by the {len(user_ids)} "
          "benchmark users")
    return True


# What the order cycle rewrites (carts, balances, reservations, sessions ...): without autovacuum every
# update leaves a dead row version behind, and a round's rate fell by half from one round to the next.
HOT_TABLES = ("cart_lines", "stock_balances", "stock_reservations", "stock_movements", "orders", "order_lines",
              "order_events", "user_sessions", "notifications", "audit_events", "outbox_events")


def vacuum_when_autovacuum_is_off(database_url: str, tables: Sequence[str] = HOT_TABLES) -> bool:
    """VACUUM (ANALYZE) the tables a benchmark round rewrites when the server runs without
    autovacuum (as this project's CI machine does; production keeps it on): what autovacuum would
    have done between rounds. True when it ran."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        if connection.execute("SHOW autovacuum").fetchone()[0] == "on":
            return False
        present = [name for name in tables
                   if connection.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None]
        if present:
            connection.execute("VACUUM (ANALYZE) " + ", ".join(present))
        return True
