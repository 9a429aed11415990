"""Promotions' cost in a cart quote: a 20-line cart quoted without promotions, then with 300 live
promotions of mixed kinds (percent/amount off, buy X get Y, 满减 and 满折 ladders, bundles; some
targeting other channels or another dealer's shops), in one process; then again with 30 of
them volume tiers (the buyer's earlier quantity, read inside the cart query), over an order
history of the shop. On a loaded machine the figures with and without promotions are taken
interleaved: each round quotes once with an empty promotion index of the same version (what a
quote without promotions does) and once with the real one.

    .venv/bin/python bench/promotions_quote.py                 # a throwaway SQLite file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/promotions_quote.py

Use a database of its own (it is migrated and filled; tables are emptied first). It prints the
process CPU per quote (time.process_time: Python and driver, not the server) with and without
promotions, their difference (budget: ≤ 2 ms), the SQL statements per quote in both cases
(budget: the same) and the load average."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ROUNDS = 400
LINES = 20
PROMOTIONS = 300


def _cpu_per_quote(quote, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        quote()
        samples.append(time.process_time() - start)
    return statistics.median(samples) * 1000


def _interleaved(quote, plain_index, real_index, rounds: int) -> tuple[float, float]:
    """Median CPU ms per quote without promotions and with them, one of each per round."""
    from flask import current_app

    plain, real = [], []
    for _ in range(rounds):
        for index, samples in ((plain_index, plain), (real_index, real)):
            current_app.extensions["promotion_index"] = index
            start = time.process_time()
            quote()
            samples.append(time.process_time() - start)
    current_app.extensions["promotion_index"] = real_index
    return statistics.median(plain) * 1000, statistics.median(real) * 1000


def _empty_like(index):
    from app.services.promotions.index import PromotionIndex

    return PromotionIndex(index.version, [])


def main() -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/promotions_bench.db"
    from flask_migrate import upgrade
    from sqlalchemy import event, text

    from app import create_app
    from app.extensions import db
    from app.models import Base
    from app.services.core.clock import now_utc
    from app.services.ordering import cart
    from app.services.promotions import admin
    from tests import factories

    from app.config import database_url

    # no second-admin approval here: the bench makes live promotions directly
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url(url), PROMOTION_APPROVAL_ABOVE_FEN=None)
    with app.app_context(), app.test_request_context():
        upgrade()
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(text(f"DELETE FROM {table.name}"))
        db.session.commit()
        world = factories.make_world()
        user, shop = world.users["retailer"], world.orgs["retailer"]
        products = [factories.product(base_price_fen=1_000 + 37 * i) for i in range(60)]
        for product in products[:LINES]:
            cart.add_to_cart(user, shop, product.id, 12)
        db.session.commit()

        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        def quote():
            return cart.quote_cart(user, shop)

        quote()
        statements.clear()
        quote()
        plain_queries = len(statements)
        plain_ms = _cpu_per_quote(quote, ROUNDS)

        kinds = ["percent_off", "amount_off", "buy_x_get_y", "spend_off", "spend_percent", "bundle"]

        def bundle(i):
            a, b = products[i % len(products)], products[(i + 1) % len(products)]  # spread like the other kinds
            return {"items": [[a.id, 2], [b.id, 1]], "price_fen": (2 * a.base_price_fen + b.base_price_fen) * 9 // 10}

        def save(i, kind, rule, audience):
            admin.save_promotion(world.users["admin"], world.brand, dict(
                code=f"BENCH{i}", name=f"基准促销{i}", kind=kind, rule=rule,
                product_ids=[products[i % len(products)].id] if kind in kinds[:3] or kind == "volume_tier" or i % 2 else [],
                starts_at=now_utc() - timedelta(days=1), ends_at=now_utc() + timedelta(days=30), status="active",
                audience=audience, exclusive_group="g%d" % (i % 4) if i % 13 == 0 else None))

        for i in range(PROMOTIONS):
            kind = kinds[i % len(kinds)]
            if kind == "bundle":
                save(i, kind, bundle(i), {"channels": ["supermarket"]} if i % 7 == 0 else {})
                continue
            rule = {"percent_off": {"percent_x100": 100 + i % 900}, "amount_off": {"off_fen": 10 + i % 50},
                    "buy_x_get_y": {"buy": 5 + i % 10, "get": 1}, "spend_off": {"ladder": [[20_000 + i * 100, 1_000],
                                                                                           [80_000 + i * 100, 5_000]]},
                    "spend_percent": {"ladder": [[30_000 + i * 100, 300]]}}[kind]
            audience = {}
            if i % 7 == 0:
                audience = {"channels": ["supermarket"]}  # not this shop
            elif i % 11 == 0:
                audience = {"dealer_ids": [world.orgs["dealer_b"].id]}
            save(i, kind, rule, audience)
        db.session.commit()
        quote()  # this process compiles its index once
        statements.clear()
        promoted = quote()
        promo_queries = len(statements)
        promo_ms = _cpu_per_quote(quote, ROUNDS)
        index = app.extensions["promotion_index"]
        plain_i_ms, promo_i_ms = _interleaved(quote, _empty_like(index), index, ROUNDS)

        # 30 volume tiers in place of 30 others, and a history of 200 orders of 20 lines to count
        from sqlalchemy import delete, insert

        from app.models import Order, OrderLine, Promotion

        db.session.execute(delete(Promotion).where(Promotion.code.in_([f"BENCH{i}" for i in range(30)])))
        for i in range(30):
            save(i, "volume_tier", {"tiers": [[50 + i, 300], [400 + i, 800]]}, {})
        now = now_utc()
        for n in range(200):
            order_id = db.session.execute(insert(Order).values(
                buyer_id=shop.id, seller_id=world.orgs["dealer"].id, status="delivered", line_count=LINES,
                total_fen=0, tax_fen=0, created_at=now - timedelta(hours=n), updated_at=now)
                .returning(Order.id)).scalar_one()
            db.session.execute(insert(OrderLine), [dict(order_id=order_id, product_id=p.id, qty=3, unit_price_fen=1_000,
                                                        tax_rate=13, line_total_fen=3_000, tax_fen=0)
                                                   for p in products[:LINES]])
        db.session.commit()
        quote()
        statements.clear()
        tiered = quote()
        tier_queries = len(statements)
        tier_ms = _cpu_per_quote(quote, ROUNDS)
        index = app.extensions["promotion_index"]
        plain_t_ms, tier_i_ms = _interleaved(quote, _empty_like(index), index, ROUNDS)

    load = os.getloadavg()
    print(f"database: {url.split('://')[0]}; cart of {LINES} lines; {PROMOTIONS} live promotions; "
          f"{len(promoted.applied)} applied, {len(promoted.gifts)} gift lines, discount {promoted.discount_fen} fen")
    print(f"CPU per quote (median of {ROUNDS}): without promotions {plain_ms:.2f} ms, with {promo_ms:.2f} ms, "
          f"extra {promo_ms - plain_ms:.2f} ms (budget 2 ms)")
    print(f"SQL statements per quote: without {plain_queries}, with {promo_queries} (budget: the same)")
    print(f"with 30 volume tiers among them and 200 earlier orders: {tier_ms:.2f} ms CPU, extra "
          f"{tier_ms - plain_ms:.2f} ms; {tier_queries} statements; "
          f"{len(tiered.applied)} applied, discount {tiered.discount_fen} fen")
    print(f"interleaved (median of {ROUNDS} each): 300 promotions {promo_i_ms:.2f} ms vs {plain_i_ms:.2f} ms without, "
          f"extra {promo_i_ms - plain_i_ms:.2f} ms; with the 30 volume tiers {tier_i_ms:.2f} ms vs {plain_t_ms:.2f} ms, "
          f"extra {tier_i_ms - plain_t_ms:.2f} ms (budget 2 ms)")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
