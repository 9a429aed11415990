"""Bulk loading for the demo builder: rows are plain tuples with ids assigned in Python.

PostgreSQL: `COPY ... FROM STDIN` through psycopg 3 on the session's own connection (so the
whole build is one transaction), then the table's id sequence is moved past the ids used.
SQLite: executemany of Core inserts in chunks.

Columns a caller does not pass get the model's Python-side default (scalar or argument-less
callable, evaluated once per load), so a column another module adds later with a default does
not break the builder.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

from sqlalchemy import JSON, Table, inspect, text
from sqlalchemy.orm import Session

from app.models import Base

SQLITE_CHUNK = 5000


class BulkLoader:
    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.rows_loaded: Counter[str] = Counter()
        self._next_id: dict[str, int] = {}
        self.rebuild_seconds = 0.0  # time spent putting constraints back, for the build report

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def table(self, name: str) -> Table:
        return Base.metadata.tables[name]

    def allocate_ids(self, table_name: str, count: int) -> range:
        """`count` fresh ids for `table_name`, above any id already in the table."""
        if table_name not in self._next_id:
            current = self.session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table_name}")).scalar_one()
            self._next_id[table_name] = current + 1
        first = self._next_id[table_name]
        self._next_id[table_name] = first + count
        return range(first, first + count)

    def load(self, table_name: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """Insert `rows` (tuples in `columns` order); returns the number of rows loaded."""
        table = self.table(table_name)
        columns, rows = self._with_defaults(table, list(columns), rows)
        if self.is_postgresql:
            count = self._copy(table_name, columns, rows)
            if table_name in self._next_id:
                self._move_sequence(table_name)
        else:
            count = self._executemany(table, columns, rows)
        self.rows_loaded[table_name] += count
        return count

    def _with_defaults(self, table: Table, columns: list[str], rows: Iterable[tuple]):
        extra_names, extra_values = [], []
        for column in table.columns:
            if column.name in columns or column.server_default is not None or column.default is None:
                continue
            default = column.default
            if default.is_scalar:
                value = default.arg
            elif default.is_callable:
                value = default.arg(None)
            else:
                continue
            extra_names.append(column.name)
            extra_values.append(value)
        if not extra_names:
            return columns, rows
        extra = tuple(extra_values)
        return columns + extra_names, (row + extra for row in rows)

    def _copy(self, table_name: str, columns: list[str], rows: Iterable[tuple]) -> int:
        raw = self.session.connection().connection.driver_connection
        count = 0
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
                    count += 1
        return count

    def _executemany(self, table: Table, columns: list[str], rows: Iterable[tuple]) -> int:
        connection = self.session.connection()
        statement = table.insert()
        # JSON columns arrive as JSON text (what COPY takes); the SQLAlchemy JSON type wants values.
        json_columns = {c.name for c in table.columns if isinstance(getattr(c.type, "impl", c.type), JSON)}
        iterator = iter(rows)
        count = 0
        while chunk := list(islice(iterator, SQLITE_CHUNK)):
            values = [dict(zip(columns, row)) for row in chunk]
            for name in json_columns.intersection(columns):
                for row in values:
                    if isinstance(row[name], str):
                        row[name] = json.loads(row[name])
            connection.execute(statement, values)
            count += len(chunk)
        return count

    @contextmanager
    def constraints_deferred(self, table_names: Sequence[str]) -> Iterator[None]:
        """Load `table_names` without their foreign keys and plain indexes, then put them back.

        PostgreSQL checks a foreign key with one lookup per inserted row, which makes a COPY of
        millions of rows about four times slower; re-adding the constraint checks every row in
        one pass, and building an index once is cheaper than maintaining it row by row. All of
        it happens in the build's transaction. No-op on SQLite (small builds, no FK checks)."""
        if not self.is_postgresql or not table_names:
            yield
            return
        tables = {"tables": list(table_names)}
        foreign_keys = self.session.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"), tables).all()
        indexes = self.session.execute(text(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(:tables) AND NOT indisprimary AND NOT indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) ORDER BY 1"), tables).all()
        for table, name, _definition in foreign_keys:
            self.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            self.session.execute(text(f"DROP INDEX {name}"))
        yield
        started = time.perf_counter()
        self.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in indexes:
            self.session.execute(text(definition))
        for table, name, definition in foreign_keys:
            self.session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        self.rebuild_seconds = time.perf_counter() - started

    def _move_sequence(self, table_name: str) -> None:
        """After explicit ids, the next id the database hands out follows the last one used."""
        self.session.execute(text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :next, false)"),
                             {"table": table_name, "next": self._next_id[table_name]})


def delete_all_data(session: Session) -> None:
    """Empty every table the models know (used by --replace)."""
    existing = set(inspect(session.connection()).get_table_names())
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            session.execute(text(f"DELETE FROM {name}"))
