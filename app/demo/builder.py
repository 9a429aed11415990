"""The demo data builder: a list of steps run in order in one transaction, each timed.

    flask --app wsgi seed-demo --scale small|full [--replace]

Steps are plain functions taking the BuildContext. Another module adds its own with
`register_step("stock", build_stock, after="orders")`; modules named `app/demo/step_*.py` are
imported before every build, so putting the step in such a module is enough to register it.
Bulk rows go through `ctx.loader` (COPY on PostgreSQL) with ids from `ctx.loader.allocate_ids`.

Everything is deterministic: each step gets its own `random.Random` seeded from SEED and the
step's name, so adding a step does not change what the others build. Dates follow today: the
history runs two years up to yesterday (Asia/Shanghai).
"""
from __future__ import annotations

import gc
import importlib
import pkgutil
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import text

from app.demo.bulk import BulkLoader, delete_all_data
from app.extensions import db
from app.services.core.clock import today_local

SEED = 20261124
HISTORY_DAYS = 730


@dataclass(frozen=True)
class Scale:
    name: str
    dealers: int
    retailers: int
    reps: int
    retail_orders: int  # retailer orders over the whole history
    contract_retailers: int
    contract_dealers: int
    uncovered_retailers: int  # in cities no dealer covers (served by the brand)


SCALES = {
    # "tiny" is for tests: the same code at a size that builds in a second or two.
    "tiny": Scale("tiny", dealers=6, retailers=240, reps=2, retail_orders=3_000, contract_retailers=6,
                  contract_dealers=2, uncovered_retailers=3),
    "small": Scale("small", dealers=30, retailers=2_000, reps=6, retail_orders=24_000, contract_retailers=40,
                   contract_dealers=6, uncovered_retailers=5),
    "full": Scale("full", dealers=500, retailers=100_000, reps=300, retail_orders=1_000_000,
                  contract_retailers=300, contract_dealers=60, uncovered_retailers=12),
}


@dataclass
class BuildContext:
    """What the steps share. Steps fill in the attributes below for the steps after them:

    regions: `regions` {id: RegionInfo}, `province_ids` {name: id}, `units` [TerritoryUnit]
        (a city, or a district of a split city: where retailers live, what a territory covers)
    catalog: `category_ids` {code: id}, `products` [ProductInfo], `visibility` {product id:
        [(audience, tier, channel, region_id)]}
    organisations: `brand_id`, `dealers` [DealerInfo], `retailers` [RetailerInfo] (index i is
        retailer code R{i+1:06d}; `dealer_index` -1 = served by the brand)
    users: `admin_user_id`, `rep_user_ids`; DealerInfo/RetailerInfo get `user_id`, retailers
        their `rep_user_id` and `rep_weekday`
    prices: `price_book` (PriceBook, the in-memory twin of app.services.pricing.prices)
    promotion_history: `promotion_history` (app.demo.promotion_history.PromotionHistory: the past
        promotions the orders step applies)
    """

    scale: Scale
    loader: BulkLoader
    echo: Callable[[str], None]
    today: date
    started_at: datetime
    password_hash: str
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    @property
    def history_start(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS)

    @property
    def history_end(self) -> date:
        return self.today - timedelta(days=1)


@dataclass
class Step:
    name: str
    run: Callable[[BuildContext], None]
    # Tables the step bulk loads by the hundred thousand: on PostgreSQL their foreign keys and
    # plain indexes are dropped during the step and rebuilt after it (see BulkLoader).
    bulk_tables: tuple[str, ...] = ()


def _core_steps() -> list[Step]:
    from app.demo import catalog, documents, geography, orders, organisations, prices, users

    return [Step("regions", geography.build_regions), Step("catalog", catalog.build_catalog),
            Step("organisations", organisations.build_organisations, ("organisations", "dealer_territories")),
            Step("users", users.build_users, ("users", "rep_routes")),
            Step("prices", prices.build_prices),
            Step("orders", orders.build_orders, ("orders", "order_lines", "order_events") + documents.BULK_TABLES
                 + ("promotion_redemptions", "order_line_adjustments"))]


STEPS: list[Step] = []


def register_step(name: str, run: Callable[[BuildContext], None], after: str | None = None,
                  bulk_tables: tuple[str, ...] = ()) -> None:
    """Add (or replace) a step; it runs right after the step named `after`, else last."""
    steps = _steps()
    steps[:] = [s for s in steps if s.name != name]
    position = len(steps)
    if after is not None:
        names = [s.name for s in steps]
        if after not in names:
            raise ValueError(f"no demo step named {after!r}; steps: {', '.join(names)}")
        position = names.index(after) + 1
    steps.insert(position, Step(name, run, tuple(bulk_tables)))


def _steps() -> list[Step]:
    if not STEPS:
        STEPS.extend(_core_steps())
    return STEPS


def _import_step_modules() -> None:
    import app.demo as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("step_"):
            importlib.import_module(f"app.demo.{module.name}")


def build(scale_name: str, replace: bool = False, echo: Callable[[str], None] = print) -> BuildContext:
    """Build the demo data at `scale_name` ("tiny", "small" or "full") and commit."""
    from app.services.accounts.users import hash_password

    scale = SCALES[scale_name]
    _import_step_modules()
    started = time.perf_counter()
    session = db.session
    loader = BulkLoader(session)
    context = BuildContext(scale=scale, loader=loader, echo=echo, today=today_local(),
                           started_at=datetime.now(timezone.utc),
                           password_hash=hash_password(current_app.config["DEMO_PASSWORD"]))
    echo(f"Building demo data, scale {scale.name}, on {loader.dialect} "
         f"(history {context.history_start} – {context.history_end})")
    if loader.is_postgresql:
        # Safe: a crash loses nothing that was not going to be rolled back anyway.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    if replace:
        delete_all_data(session)
        echo(f"{'wipe':<16}{time.perf_counter() - started:7.1f} s")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived tuples, no cycles: the collector would only slow us down
    try:
        for step in _steps():
            step_started = time.perf_counter()
            before = sum(loader.rows_loaded.values())
            context.rng = random.Random(f"{SEED}:{step.name}")
            loader.rebuild_seconds = 0.0
            with loader.constraints_deferred(step.bulk_tables):
                step.run(context)
            rows = sum(loader.rows_loaded.values()) - before
            rebuilt = f"  (of which {loader.rebuild_seconds:.1f} s rebuilding indexes and foreign keys)" \
                if loader.rebuild_seconds else ""
            echo(f"{step.name:<16}{time.perf_counter() - step_started:7.1f} s {rows:>12,} rows{rebuilt}")
        finish_started = time.perf_counter()
        _record_seed(context)
        session.commit()
        _analyze()
        echo(f"{'commit+analyze':<16}{time.perf_counter() - finish_started:7.1f} s")
    except BaseException:
        session.rollback()
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    total_rows = sum(loader.rows_loaded.values())
    echo(f"{'total':<16}{time.perf_counter() - started:7.1f} s {total_rows:>12,} rows")
    return context


def _record_seed(context: BuildContext) -> None:
    from app.services.core import audit

    audit.record(None, "demo.seed", "database", None, None,
                 {"scale": context.scale.name, "rows": dict(context.loader.rows_loaded)})


def _analyze() -> None:
    """Fresh statistics, so the first queries after a bulk load get sensible plans."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()
