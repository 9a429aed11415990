"""Pagination in two queries (a count and one page), or one with the count in the page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.extensions import db


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(query, page: int, per_page: int, scalars: bool = True, count_in_page: bool = False) -> Page:
    """`query` is a select(); `page` is clamped to [1, pages]. `count_in_page`: the total rides
    on the page's rows (`count(*) OVER ()`, one statement instead of two; the rows then end with
    that column), for a query without DISTINCT whose whole result is cheap to count; a page past
    the end costs the two statements as before."""
    if count_in_page:
        number = max(1, page)
        rows = db.session.execute(query.add_columns(func.count().over()).limit(per_page)
                                  .offset((number - 1) * per_page)).all()
        if rows or number == 1:
            total = rows[0][-1] if rows else 0
            return Page([row[0] for row in rows] if scalars else rows, number, per_page, total)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    result = db.session.execute(query.limit(per_page).offset((number - 1) * per_page))
    items = list(result.scalars() if scalars else result)
    return Page(items, number, per_page, total)


# -- keyset pagination (the API): stable while rows are inserted -------------------------------

def encode_cursor(values: list) -> str:
    """An opaque cursor for the last row of a page (its sort key)."""
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list:
    """The sort key in a cursor; DomainError (field "cursor") when it is not one of ours."""
    import base64
    import binascii
    import json

    from flask_babel import gettext as _

    from app.services.core.errors import DomainError

    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    def plain(v) -> bool:  # what our cursors hold: short printable text, 32-bit ids
        if isinstance(v, str):
            return len(v) <= 100 and v.isprintable()
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31

    if not isinstance(values, list) or len(values) != arity or not all(plain(v) for v in values):
        raise DomainError(_("cursor 无效。"), field="cursor")
    return values
