"""The launch rollup (`LaunchRollup`): each launched product's 13-week window summed per day from
the daily sales facts, so the launch report reads a few thousand rows instead of every retailer
purchase of every new product. Semantics are the report's (launches.py): retailer purchases
only, rows whose order quantity is not all cancelled, the window cut at yesterday.

Rebuilt per product, replacing its rows (idempotent), with the facts: the launches still in
their window (the cut moves every day) and those whose window holds a rebuilt day. `LaunchBuild`
records the launch date and the last day read; the report reads the facts directly for a
product whose build does not match (a launch date edited since, or no build yet).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Integer, delete, func, insert, literal, select, union_all

from app.extensions import db
from app.models import Product
from app.models.analytics import LaunchBuild, LaunchRollup, SalesDay
from app.services.core.clock import today_local

WINDOW_DAYS = 91  # launches.WINDOW_DAYS (13 weeks)


def window_end(launch: date, yesterday: date) -> date:
    return min(launch + timedelta(days=WINDOW_DAYS - 1), yesterday)


def _rows(product_id: int, first: date, last: date):
    """The window's rows: (seller 0 and each seller) × day → new buyers, repeaters, cases."""
    facts = (select(SalesDay.buyer_id, SalesDay.seller_id, SalesDay.day,
                    (SalesDay.qty - SalesDay.lost_qty).label("net"))
             .where(SalesDay.product_id == product_id, SalesDay.day.between(first, last),
                    SalesDay.channel != "dealer", SalesDay.qty > SalesDay.lost_qty)
             .cte("facts").prefix_with("NOT MATERIALIZED", dialect="postgresql"))
    parts = []
    for by_seller in (False, True):
        seller = facts.c.seller_id if by_seller else literal(0, Integer)
        group = [facts.c.buyer_id, facts.c.seller_id] if by_seller else [facts.c.buyer_id]
        buyers = (select(seller.label("seller_id"), func.min(facts.c.day).label("first_day"),
                         func.max(facts.c.day).label("last_day")).group_by(*group).subquery())
        parts.append(select(buyers.c.seller_id, buyers.c.first_day.label("day"), literal(1).label("b"),
                            (buyers.c.last_day > buyers.c.first_day).cast(Integer).label("r"),
                            literal(0).label("c")))
        parts.append(select(seller.label("seller_id"), facts.c.day, literal(0), literal(0),
                            facts.c.net))
    every = union_all(*parts).subquery("every")
    return (select(literal(product_id), every.c.seller_id, every.c.day, func.sum(every.c.b), func.sum(every.c.r),
                   func.sum(every.c.c))
            .group_by(every.c.seller_id, every.c.day))


def rebuild_product(product: Product, yesterday: date | None = None) -> None:
    yesterday = yesterday or today_local() - timedelta(days=1)
    db.session.execute(delete(LaunchRollup).where(LaunchRollup.product_id == product.id))
    last = window_end(product.launch_date, yesterday)
    if last >= product.launch_date:
        db.session.execute(insert(LaunchRollup).from_select(
            ("product_id", "seller_id", "day", "new_buyers", "repeat_buyers", "cases"),
            _rows(product.id, product.launch_date, last)))
    build = db.session.get(LaunchBuild, product.id) or LaunchBuild(product_id=product.id)
    build.launch_date, build.through = product.launch_date, last
    db.session.add(build)


def rebuild_for(days, yesterday: date | None = None) -> int:
    """Rebuild the launches still in their window and those whose window holds one of `days`;
    returns how many."""
    yesterday = yesterday or today_local() - timedelta(days=1)
    days = sorted(set(days))
    products = db.session.scalars(select(Product).where(Product.launch_date.is_not(None),
                                                        Product.launch_date <= yesterday)).all()
    count = 0
    for product in products:
        end = product.launch_date + timedelta(days=WINDOW_DAYS - 1)
        build = db.session.get(LaunchBuild, product.id)
        stale = build is None or build.launch_date != product.launch_date or build.through < window_end(
            product.launch_date, yesterday)
        if stale or any(product.launch_date <= d <= end for d in days):
            rebuild_product(product, yesterday)
            count += 1
    db.session.flush()
    return count


def current(products, yesterday: date) -> set[int]:
    """The ids of `products` whose build matches their launch date and window."""
    builds = {b.product_id: b for b in db.session.scalars(
        select(LaunchBuild).where(LaunchBuild.product_id.in_([p.id for p in products])))}
    return {p.id for p in products if (b := builds.get(p.id)) is not None and b.launch_date == p.launch_date
            and b.through == window_end(p.launch_date, yesterday)}
