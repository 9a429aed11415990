"""Step "users": admins with different permissions, one login per dealer and per retailer, and
sales reps with their weekly visit routes (one city a day).

Every demo user shares one password hash (hashing 100,000 times would take hours)."""
from __future__ import annotations

import math
from datetime import timedelta
from itertools import groupby

from app.demo.data_names import person_name
from app.models import PERMISSIONS

# (username, display name, permissions)
ADMINS = (
    ("admin", "系统管理员", PERMISSIONS),
    ("catalog01", "商品主管", ("catalog", "pricing")),
    ("orders01", "订单专员", ("orders", "stock")),
    ("marketing01", "市场专员", ("marketing",)),
    ("analyst01", "数据分析师", ("reports",)),
)
ROUTE_WEEKDAYS = 6  # Monday to Saturday
USER_COLUMNS = ("id", "username", "password_hash", "role", "org_id", "display_name", "email", "locale",
                "permissions", "active", "created_at", "session_version")


def build_users(ctx) -> None:
    rng, loader, scale = ctx.rng, ctx.loader, ctx.scale
    ids = iter(loader.allocate_ids("users", len(ADMINS) + len(ctx.dealers) + len(ctx.retailers) + scale.reps))
    rows = []

    def add(username, role, org_id, display_name, email, permissions=""):
        user_id = next(ids)
        joined = ctx.started_at - timedelta(days=900 + rng.randrange(500), minutes=rng.randrange(1440))
        rows.append((user_id, username, ctx.password_hash, role, org_id, display_name, email, "zh", permissions,
                     True, joined, 1))
        return user_id

    for username, display_name, permissions in ADMINS:
        user_id = add(username, "admin", ctx.brand_id, display_name, f"{username}@lianying.example",
                      " ".join(p for p in PERMISSIONS if p in permissions))
        if username == "admin":
            ctx.admin_user_id = user_id
    for dealer in ctx.dealers:
        username = f"dealer{dealer.index + 1:03d}"
        dealer.user_id = add(username, "dealer", dealer.id, dealer.contact, f"{username}@dealers.example")
    for retailer in ctx.retailers:
        retailer.user_id = add(f"retailer{retailer.index + 1:06d}", "retailer", retailer.id, retailer.contact, None)
    ctx.rep_user_ids = [add(f"rep{n:02d}", "rep", ctx.brand_id, person_name(rng), f"rep{n:02d}@lianying.example")
                        for n in range(1, scale.reps + 1)]
    loader.load("users", USER_COLUMNS, rows)
    _load_routes(ctx)


def _load_routes(ctx) -> None:
    """A rep's day is one area: the shops of one city (a big city's shops split over several
    days). The areas with the most shops are covered, as many days as the reps have (six each);
    a rep takes six neighbouring days (retailer codes follow geography), so its week stays in
    one part of the country. Shops in the remaining small towns have no rep and order themselves."""
    retailers, reps = ctx.retailers, ctx.rep_user_ids
    if not reps:
        return
    per_day = max(8, math.ceil(len(retailers) / (len(reps) * ROUTE_WEEKDAYS)))
    days: list[list] = []
    for _city, group in groupby(retailers, key=lambda r: ctx.regions[r.region_id].path_ids[:2]):
        shops = list(group)
        parts = math.ceil(len(shops) / per_day)
        days.extend(shops[k * len(shops) // parts:(k + 1) * len(shops) // parts] for k in range(parts))
    # The biggest days are visited (retailer000001's always: it is the demo's shop), in geographic order.
    chosen = sorted(range(len(days)), key=lambda k: (days[k][0].index != 0, -len(days[k]), k))
    chosen = sorted(chosen[:len(reps) * ROUTE_WEEKDAYS], key=lambda k: days[k][0].index)
    rows = []
    for position, k in enumerate(chosen):
        rep_user_id, weekday = reps[position // ROUTE_WEEKDAYS], position % ROUTE_WEEKDAYS
        for retailer in days[k]:
            retailer.rep_user_id, retailer.rep_weekday = rep_user_id, weekday
            rows.append((rep_user_id, retailer.id, weekday))
    ids = ctx.loader.allocate_ids("rep_routes", len(rows))
    ctx.loader.load("rep_routes", ("id", "rep_id", "retailer_id", "weekday"),
                    [(route_id, *row) for route_id, row in zip(ids, rows)])
