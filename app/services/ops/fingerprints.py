"""Fingerprints of a database and of a folder of files, to prove that a restore gave back
exactly what was backed up.

A table's fingerprint is its row count and an order-independent checksum of its rows (the sum
of a 64-bit hash of each row's text). On PostgreSQL it is computed in SQL (md5 of the row's
text form), on SQLite in Python; the two are never compared with each other, only a database
with a restored copy of itself on the same kind of server."""
from __future__ import annotations

import hashlib
import os
import pathlib

# md5 of the row as text, its first 16 hex digits read as a signed 64-bit integer, summed
# exactly (numeric). Order-independent, so no sort over millions of rows.
_PG_TABLE = ("SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0) "
             "FROM {table} AS t")
_MOD = 2 ** 64


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables_of(connection, dialect: str) -> list[str]:
    """Every table of the database (public schema on PostgreSQL), alembic_version included."""
    if dialect == "postgresql":
        query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(row[0] for row in connection.execute(query).fetchall())


def table_fingerprint(connection, dialect: str, table: str) -> dict:
    if dialect == "postgresql":
        rows, total = connection.execute(_PG_TABLE.format(table=_quoted(table))).fetchone()
        return {"rows": int(rows), "checksum": f"{int(total) % _MOD:016x}"}
    rows, total = 0, 0
    for row in connection.execute(f"SELECT * FROM {_quoted(table)}"):
        digest = hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).digest()
        total = (total + int.from_bytes(digest, "big")) % _MOD
        rows += 1
    return {"rows": rows, "checksum": f"{total:016x}"}


def database_fingerprint(connection, dialect: str) -> dict[str, dict]:
    """{table: {"rows": n, "checksum": hex}} for every table, read through a DB-API connection
    (psycopg or sqlite3) in its current transaction: one snapshot when that is REPEATABLE READ."""
    return {table: table_fingerprint(connection, dialect, table) for table in tables_of(connection, dialect)}


def file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_fingerprint(root: pathlib.Path) -> dict:
    """{"files": n, "content_bytes": total, "checksum": sha256 over the sorted (path, sha256) list}."""
    listing, size = [], 0
    if root.is_dir():
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = pathlib.Path(folder) / name
                listing.append(f"{path.relative_to(root).as_posix()}\0{file_sha256(path)}\n")
                size += path.stat().st_size
    listing.sort()
    return {"files": len(listing), "content_bytes": size,
            "checksum": hashlib.sha256("".join(listing).encode()).hexdigest()}


def differences(expected: dict[str, dict], found: dict[str, dict]) -> list[str]:
    """What differs between two database fingerprints, one line per table ([] when equal)."""
    lines = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want is None:
            lines.append(f"{table}: not in the backup's manifest")
        elif got is None:
            lines.append(f"{table}: missing after restore")
        elif want["rows"] != got["rows"]:
            lines.append(f"{table}: {got['rows']} rows restored, {want['rows']} backed up")
        elif want["checksum"] != got["checksum"]:
            lines.append(f"{table}: checksum {got['checksum']} restored, {want['checksum']} backed up")
    return lines
