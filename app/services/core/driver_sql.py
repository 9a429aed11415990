"""Read statements run straight on the session's psycopg connection, compiled once per process.

SQLAlchemy's execution of an already compiled statement still costs ~60-100 µs of Python per
statement (the compiled cache's lookup, the execution context, expanding IN lists rendered anew,
the result's metadata) against ~20 µs for psycopg alone: on the pages every request reads
(the catalog's products and categories) that was a tenth of the page's CPU (issue 15).
`rows(key, build, params)` compiles `build()` once for PostgreSQL into psycopg's own parameter
style and runs it on the connection of the session's current transaction, pending changes
flushed first (as the ORM's autoflush would). Rows are named tuples (`row.available`,
`row[0]`); values come as psycopg decodes them, which is what SQLAlchemy hands over for the
column types a read of ours uses (numbers, strings, times, JSON).

An expanding IN list (`bindparam(..., expanding=True)`) becomes `= ANY(array)` (NOT IN: `<> ALL`); a parameter the
statement fixed itself (a constant) keeps its value. Other dialects (SQLite, the zero-setup
`make run` default) run `build()` through SQLAlchemy as before: callers need no branch. The
engine's `before_cursor_execute` listeners are called as SQLAlchemy would (statement counts)."""
from __future__ import annotations

import re
from typing import Callable

from psycopg.rows import namedtuple_row
from sqlalchemy.sql import ClauseElement

from app.extensions import db

_EXPANDING = re.compile(r"(NOT )?IN \(__\[POSTCOMPILE_(\w+)\]\)")
_compiled: dict[str, tuple[str, dict]] = {}


def _compile(statement: ClauseElement, dialect) -> tuple[str, dict]:
    compiled = statement.compile(dialect=dialect)
    constants = {name: value for name, value in compiled.params.items() if value is not None}
    sql = _EXPANDING.sub(lambda m: f"{'<> ALL' if m.group(1) else '= ANY'}(%({m.group(2)})s)", compiled.string)
    return sql, constants


def rows(key: str, build: Callable[[], ClauseElement], params: dict) -> list:
    """All rows of `build()` (compiled once under `key`) with `params`, in the session's transaction."""
    session = db.session
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return connection.execute(build(), params).all()
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = _compile(build(), connection.dialect)
    sql, constants = found
    values = {**constants, **params}
    with connection.connection.dbapi_connection.cursor(row_factory=namedtuple_row) as cursor:
        if connection._has_events or connection.engine._has_events:  # the engine's listeners still see the statement (the tests count them)
            connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
        return cursor.execute(sql, values).fetchall()
