"""Pagination in two queries (a count and one page), or one with the count in the page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select

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


def _clamped(page: int, total: int, per_page: int) -> int:
    """`page` clamped to [1, pages] for `total` items."""
    return min(max(1, page), max(1, -(-total // per_page)))


def paginate_list(items, page: int, per_page: int) -> Page:
    """Page `page` (clamped to [1, pages]) of a sequence already in memory."""
    number = _clamped(page, len(items), per_page)
    return Page(list(items[(number - 1) * per_page:number * per_page]), number, per_page, len(items))


def paginate(query, page: int, per_page: int, scalars: bool = True) -> Page:
    """`query` is a select(); `page` is clamped to [1, pages]."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number = _clamped(page, total, per_page)
    result = db.session.execute(query.limit(per_page).offset((number - 1) * per_page))
    items = list(result.scalars() if scalars else result)
    return Page(items, number, per_page, total)


def counted_page_query(query):
    """`query` (a select() without DISTINCT whose whole result is cheap to count) as one page of
    it with the total in a last column (`count(*) OVER ()`), limit and offset left as bound
    parameters: a caller may build it once and run it for every page and user."""
    return query.add_columns(func.count().over()).limit(bindparam("page_limit")).offset(bindparam("page_offset"))


def paginate_counted(statement, params: dict, page: int, per_page: int, execute=None) -> Page:
    """Page `page` (clamped to [1, pages]) of a counted_page_query; its items are the rows (the
    count last). One statement; a page past the end costs two more. `execute(statement, params)`
    runs it and returns a Result or a list of rows (default: the ORM session's execute)."""
    execute = execute or db.session.execute

    def rows_at(number: int) -> list:
        found = execute(statement, {**params, "page_limit": per_page, "page_offset": (number - 1) * per_page})
        return found if isinstance(found, list) else found.all()

    number = max(1, page)
    rows = rows_at(number)
    if not rows and number > 1:
        first = rows_at(1)
        number = max(1, -(-(first[0][-1] if first else 0) // per_page))
        rows = rows_at(number) if number > 1 else first
    return Page(rows, number, per_page, rows[0][-1] if rows else 0)


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
