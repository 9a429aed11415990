"""`flask backup` and `flask restore` (the logic is in app/services/ops/backup.py)."""
from __future__ import annotations

import pathlib

import click
from flask import current_app

from app.extensions import db


def _url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _scratch(scratch_url: str | None) -> str | None:
    from app.services.ops.backup import scratch_database_url

    if db.engine.dialect.name != "postgresql":
        return None
    return scratch_url or scratch_database_url(_url())


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:,.1f} KB"


def _report_check(check) -> None:
    """Print a restore drill's result; exit 1 (ClickException) when it found problems."""
    if check.ok:
        click.echo(f"Verified {check.path.name}: {check.tables} tables, {check.rows:,} rows and "
                   f"{check.media_files} uploaded files match the manifest "
                   f"(restore {check.restore_seconds:.1f} s, whole check {check.seconds:.1f} s).")
        return
    for problem in check.problems:
        click.echo(f"  {problem}", err=True)
    raise click.ClickException(f"{check.path.name} did NOT verify: {len(check.problems)} problem(s).")


@click.command("backup")
@click.option("--to", "destination", type=click.Path(file_okay=False, path_type=pathlib.Path), default=None,
              help="Folder to write the backup into (default BACKUP_DIR, instance/backups).")
@click.option("--verify", is_flag=True, help="Then restore it into a scratch database and compare every table.")
@click.option("--scratch-url", default=None, help="PostgreSQL database for --verify (default <database>_scratch; "
              "dropped and recreated).")
@click.option("--keep", type=int, default=0, help="Then delete all but the newest KEEP backups in the folder.")
def backup(destination: pathlib.Path | None, verify: bool, scratch_url: str | None, keep: int) -> None:
    """Back up the database (pg_dump custom format, or SQLite's online backup) and the uploads."""
    from app.services.ops.backup import BackupError, create_backup, prune, verify_backup

    destination = destination or pathlib.Path(current_app.config["BACKUP_DIR"])
    try:
        made = create_backup(_url(), destination, pathlib.Path(current_app.config["MEDIA_ROOT"]))
        rows = sum(t["rows"] for t in made.manifest["tables"].values())
        media = made.manifest["media"]
        click.echo(f"Backup {made.path}: database {_size(made.database_bytes)}, {len(made.manifest['tables'])} tables, "
                   f"{rows:,} rows; uploads {media['files'] if media else 0} files; {made.seconds:.1f} s.")
        if verify:
            _report_check(verify_backup(made.path, _scratch(scratch_url), _url()))
        if keep:
            for old in prune(destination, keep):
                click.echo(f"Deleted old backup {old.name}.")
    except BackupError as error:
        raise click.ClickException(str(error)) from None


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.option("--verify", is_flag=True, help="Only check the backup: restore it into a scratch database and "
              "compare every table and the uploads with its manifest. The live database is not touched.")
@click.option("--scratch-url", default=None, help="PostgreSQL database for --verify (default <database>_scratch).")
@click.option("--yes", is_flag=True, help="Replace the live database and uploads without asking.")
def restore(path: pathlib.Path, verify: bool, scratch_url: str | None, yes: bool) -> None:
    """Replace the database and uploads with a backup (stop the web and worker processes first)."""
    from app.services.ops.backup import BackupError, read_manifest, restore_backup, verify_backup

    try:
        if verify:
            _report_check(verify_backup(path, _scratch(scratch_url), _url()))
            return
        manifest = read_manifest(path)
        if not yes:
            click.confirm(f"Replace database {db.engine.url.database} and the uploads with the backup of "
                          f"{manifest['created_at']}?", abort=True)
        db.session.remove()
        db.engine.dispose()  # our own pooled connections would hold locks on what is dropped
        seconds = restore_backup(path, _url(), pathlib.Path(current_app.config["MEDIA_ROOT"]))
        click.echo(f"Restored {path.name} (made {manifest['created_at']}, migration "
                   f"{manifest['alembic_revision']}) in {seconds:.1f} s.")
    except BackupError as error:
        raise click.ClickException(str(error)) from None
