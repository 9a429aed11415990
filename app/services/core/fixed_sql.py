"""Statements SQLAlchemy compiles again on every execution, compiled once per process instead.

PostgreSQL's `INSERT ... ON CONFLICT` (sqlalchemy.dialects.postgresql.insert) is marked as not
cacheable, so each execution builds and compiles it anew (a few hundred microseconds of Python
every time; checkout and the API ran three of them per order). `fixed(key, build)` compiles
`build()` once for the session's dialect and keeps it as a text statement with the same typed
bind parameters (values come at execution; a parameter the statement fixed itself, such as a
constant, keeps its value). The statement must not use expanding IN lists nor Python-side
column defaults (give every value). Dialects with another parameter style (SQLite, the zero-setup
`make run` default) get `build()` itself every time, as without this module: callers need no branch."""
from __future__ import annotations

import copy
import re
from typing import Callable

from sqlalchemy import bindparam, text
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql.elements import TextClause

from app.extensions import db

_BIND = re.compile(r"%\((\w+)\)s")
_compiled: dict[tuple[str, str], TextClause] = {}


def fixed(key: str, build: Callable[[], object]) -> TextClause:
    """`build()` compiled once per process and dialect (`key` names it), as text; with
    RETURNING, the text returns the same columns (usable in select(Model).from_statement)."""
    dialect = db.session.get_bind().dialect
    if dialect.paramstyle != "pyformat":
        return build()
    found = _compiled.get((key, dialect.name))
    if found is None:
        statement = build()
        # Compiled without the parameters' casts: the text's typed parameters render their own.
        plain = copy.copy(dialect)
        plain.bind_typing = BindTyping.NONE
        plain._bind_typing_render_casts = False  # memoised from bind_typing once the engine connected
        compiled = statement.compile(dialect=plain)
        sql = _BIND.sub(lambda m: f":{m.group(1)}", compiled.string).replace("%%", "%")
        binds = [bindparam(name, value=param.value, type_=param.type) if param.value is not None
                 else bindparam(name, type_=param.type) for param, name in compiled.bind_names.items()]
        found = text(sql).bindparams(*binds)
        returning = getattr(statement, "_returning", ())
        if returning:
            found = found.columns(*returning)
        _compiled[(key, dialect.name)] = found
    return found
