"""Business days (Asia/Shanghai) of UTC timestamps, in SQL, for PostgreSQL and SQLite."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, cast, func

from app.extensions import db
from app.services.core.clock import LOCAL


def local_day(column):
    """SQL expression: the Asia/Shanghai calendar day of a UTC timestamp column."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    # SQLite keeps UTC text; China has no daylight saving. Its date functions round to the
    # millisecond (23:59:59.9999 would become the next day), so the seconds are cut first.
    return func.date(func.substr(column, 1, 19), "+8 hours")


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def start_of_local_day(day: date) -> datetime:
    """The UTC instant at which the Shanghai day `day` begins (timezone-aware)."""
    return datetime.combine(day, time(0), tzinfo=LOCAL)
