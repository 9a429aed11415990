"""Backups of the database and the uploaded files, their restore, and a restore drill that proves
a backup is good (the requirements promise recovery within 2 hours).

A backup is one folder, `lianying-<UTC time>/`, holding:

- `database.dump`: PostgreSQL custom format (pg_dump -Fc; pg_restore can run it in parallel), or
  `database.sqlite3` for a development SQLite database (the online-backup API: a consistent copy
  while the app runs);
- `media.tar.gz`: the uploads folder (MEDIA_ROOT), when it exists. Product images and generated
  PDFs live in the database today; files kept outside it go into MEDIA_ROOT and so into backups;
- `manifest.json`: when, from which kind of database and migration, each file's size and sha256,
  and the fingerprint (rows and checksum, see fingerprints.py) of every table and of the uploads.
  On PostgreSQL the fingerprints are read from the very snapshot pg_dump writes: a REPEATABLE
  READ transaction exports its snapshot and pg_dump runs with --snapshot while it stays open.

`verify_backup` restores a backup into a scratch database (never the live one) and compares
every table's rows and checksum, and the uploads, with the manifest: a backup is good only once
that passes. `restore_backup` replaces the live database and uploads with the backup's.
The pg_dump / pg_restore client must be the server's major version (15 here)."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg
from sqlalchemy.engine import make_url

from app.services.ops.fingerprints import (database_fingerprint, differences, file_sha256, folder_fingerprint,
                                           tables_of)

FORMAT = 1
MANIFEST = "manifest.json"
PG_FILE, SQLITE_FILE, MEDIA_FILE = "database.dump", "database.sqlite3", "media.tar.gz"
PREFIX = "lianying-"


class BackupError(Exception):
    """A backup, restore or check could not be done; the message says why."""


@dataclass
class Backup:
    path: pathlib.Path
    manifest: dict
    seconds: float

    @property
    def database_bytes(self) -> int:
        return self.manifest["database"]["bytes"]


@dataclass
class Check:
    """What a restore drill found: `problems` is empty when the backup is good."""

    path: pathlib.Path
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    media_files: int = 0
    restore_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


# --- URLs -----------------------------------------------------------------------------------

def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump / psycopg take it (no +driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return path


def scratch_database_url(url: str) -> str:
    """Where a restore drill goes by default: `<database>_scratch` on the same server, or a
    temporary file for SQLite (returned as None by the caller)."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_scratch").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {(done.stderr or done.stdout).strip()[-2000:]}")


# --- making a backup --------------------------------------------------------------------------

def _alembic_revision(connection, dialect: str) -> str | None:
    if "alembic_version" not in tables_of(connection, dialect):
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _fingerprint_database(url: str) -> dict[str, dict]:
    """Fingerprints of the database at `url` (a restored copy)."""
    if _dialect(url) == "postgresql":
        with psycopg.connect(libpq_url(url)) as connection:
            return database_fingerprint(connection, "postgresql")
    connection = sqlite3.connect(_sqlite_path(url))
    try:
        return database_fingerprint(connection, "sqlite")
    finally:
        connection.close()


def _dump_postgresql(url: str, target: pathlib.Path) -> tuple[dict, str | None]:
    """pg_dump into `target` and the fingerprints of the same snapshot."""
    with psycopg.connect(libpq_url(url)) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
              f"--file={target}", f"--dbname={libpq_url(url)}"])
        tables = database_fingerprint(connection, "postgresql")  # still in the dumped snapshot
        revision = _alembic_revision(connection, "postgresql")
        connection.rollback()
    return tables, revision


def _copy_sqlite(source_path: str, target_path: str) -> None:
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()


def _dump_sqlite(url: str, target: pathlib.Path) -> tuple[dict, str | None]:
    _copy_sqlite(_sqlite_path(url), str(target))
    connection = sqlite3.connect(str(target))  # the copy is the snapshot
    try:
        return database_fingerprint(connection, "sqlite"), _alembic_revision(connection, "sqlite")
    finally:
        connection.close()


def create_backup(url: str, destination: pathlib.Path, media_root: pathlib.Path | None) -> Backup:
    """Back up the database at `url` and the uploads in `media_root` into a new folder under
    `destination`; returns it with its manifest."""
    started = time.perf_counter()
    dialect = _dialect(url)
    now = datetime.now(timezone.utc)
    folder = pathlib.Path(destination) / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}"
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True)
    try:
        database_file = partial / (PG_FILE if dialect == "postgresql" else SQLITE_FILE)
        tables, revision = (_dump_postgresql if dialect == "postgresql" else _dump_sqlite)(url, database_file)
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "dialect": dialect,
                    "alembic_revision": revision, "database": _file_entry(database_file), "tables": tables,
                    "media": None}
        if media_root is not None and pathlib.Path(media_root).is_dir():
            media_file = partial / MEDIA_FILE
            with tarfile.open(media_file, "w:gz") as archive:
                archive.add(media_root, arcname=".")
            manifest["media"] = {**_file_entry(media_file), **folder_fingerprint(pathlib.Path(media_root))}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial.rename(folder)  # a folder without ".partial" is complete
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(folder, manifest, time.perf_counter() - started)


def _file_entry(path: pathlib.Path) -> dict:
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def read_manifest(path: pathlib.Path) -> dict:
    try:
        manifest = json.loads((pathlib.Path(path) / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} is not a backup: no readable {MANIFEST} ({error})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def file_problems(path: pathlib.Path, manifest: dict) -> list[str]:
    """Files missing or changed since the backup was made (size and sha256)."""
    problems = []
    for entry in (manifest["database"], manifest.get("media")):
        if not entry:
            continue
        file = pathlib.Path(path) / entry["file"]
        if not file.is_file():
            problems.append(f"{entry['file']}: missing")
        elif file.stat().st_size != entry["bytes"] or file_sha256(file) != entry["sha256"]:
            problems.append(f"{entry['file']}: differs from the manifest (size or sha256): damaged or tampered")
    return problems


def prune(destination: pathlib.Path, keep: int) -> list[pathlib.Path]:
    """Delete all but the newest `keep` complete backups in `destination`; the deleted ones."""
    folders = sorted(p for p in pathlib.Path(destination).glob(f"{PREFIX}*")
                     if p.is_dir() and not p.name.endswith(".partial") and (p / MANIFEST).is_file())
    doomed = folders[:-keep] if keep > 0 else []
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


# --- restoring --------------------------------------------------------------------------------

def _restore_postgresql(dump: pathlib.Path, url: str, jobs: int) -> None:
    """Empty the database's public schema, then pg_restore into it (in parallel) and ANALYZE."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={jobs}",
          f"--dbname={libpq_url(url)}", str(dump)])
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("ANALYZE")  # pg_restore brings no planner statistics


def _restore_sqlite(copy: pathlib.Path, url: str) -> None:
    _copy_sqlite(str(copy), _sqlite_path(url))


def restore_database(path: pathlib.Path, manifest: dict, url: str, jobs: int | None = None) -> float:
    """Replace the database at `url` with the backup's; seconds taken."""
    dialect = _dialect(url)
    if dialect != manifest["dialect"]:
        raise BackupError(f"the backup is of a {manifest['dialect']} database, the target is {dialect}")
    started = time.perf_counter()
    source = pathlib.Path(path) / manifest["database"]["file"]
    if dialect == "postgresql":
        _restore_postgresql(source, url, jobs or min(4, os.cpu_count() or 1))
    else:
        _restore_sqlite(source, url)
    return time.perf_counter() - started


def restore_media(path: pathlib.Path, manifest: dict, media_root: pathlib.Path) -> int:
    """Replace the uploads folder with the backup's (left as it is when the backup has none);
    the number of files restored."""
    entry = manifest.get("media")
    if not entry:
        return 0
    media_root = pathlib.Path(media_root)
    incoming = media_root.with_name(media_root.name + ".restoring")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    with tarfile.open(pathlib.Path(path) / entry["file"], "r:gz") as archive:
        archive.extractall(incoming, filter="data")
    if media_root.exists():
        shutil.rmtree(media_root)
    incoming.rename(media_root)
    return entry["files"]


def restore_backup(path: pathlib.Path, url: str, media_root: pathlib.Path | None, jobs: int | None = None) -> float:
    """Replace the live database and uploads with the backup at `path` (files checked first).
    Stop the web and worker processes before: the schema is dropped and rebuilt."""
    manifest = read_manifest(path)
    problems = file_problems(path, manifest)
    if problems:
        raise BackupError("; ".join(problems))
    seconds = restore_database(path, manifest, url, jobs)
    if media_root is not None:
        restore_media(path, manifest, media_root)
    return seconds


# --- the restore drill ------------------------------------------------------------------------

def _fresh_postgresql(url: str) -> None:
    parsed = make_url(url)
    server = libpq_url(parsed.set(database="postgres").render_as_string(hide_password=False))
    name = parsed.database
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _drop_postgresql(url: str) -> None:
    parsed = make_url(url)
    server = libpq_url(parsed.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def verify_backup(path: pathlib.Path, scratch_url: str | None = None, live_url: str | None = None,
                  keep_scratch: bool = False, jobs: int | None = None) -> Check:
    """Restore the backup into a scratch database (PostgreSQL: `scratch_url`, created afresh and
    dropped afterwards; SQLite: a temporary file) and the uploads into a temporary folder, and
    compare every table's rows and checksum and the uploads with the manifest."""
    started = time.perf_counter()
    path = pathlib.Path(path)
    check = Check(path)
    manifest = read_manifest(path)
    check.problems = file_problems(path, manifest)
    if check.problems:
        check.seconds = time.perf_counter() - started
        return check
    with tempfile.TemporaryDirectory(prefix="lianying-verify-") as work:
        if manifest["dialect"] == "postgresql":
            if not scratch_url:
                raise BackupError("a scratch database URL is needed to check a PostgreSQL backup")
            if live_url and make_url(scratch_url).database == make_url(live_url).database \
                    and make_url(scratch_url).host == make_url(live_url).host:
                raise BackupError("the scratch database must not be the live database")
            _fresh_postgresql(scratch_url)
            target = scratch_url
        else:
            target = f"sqlite:///{pathlib.Path(work) / 'scratch.db'}"
        try:
            check.restore_seconds = restore_database(path, manifest, target, jobs)
            found = _fingerprint_database(target)
        finally:
            if manifest["dialect"] == "postgresql" and not keep_scratch:
                _drop_postgresql(scratch_url)
        check.problems += differences(manifest["tables"], found)
        check.tables, check.rows = len(found), sum(t["rows"] for t in found.values())
        if manifest.get("media"):
            media = pathlib.Path(work) / "media"
            restore_media(path, manifest, media)
            got = folder_fingerprint(media)
            check.media_files = got["files"]
            want = manifest["media"]
            if (got["files"], got["checksum"]) != (want["files"], want["checksum"]):
                check.problems.append(f"uploads: {got['files']} files restored, {want['files']} backed up, "
                                      f"checksum {got['checksum'][:16]} restored, {want['checksum'][:16]} backed up")
    check.seconds = time.perf_counter() - started
    return check
