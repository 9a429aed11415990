"""`flask analytics refresh`: the daily sales facts; `flask forecast run`: the weekly demand forecast."""
from __future__ import annotations

import time
from datetime import date

import click
from flask.cli import AppGroup

from app.extensions import db

analytics_cli = AppGroup("analytics", help="Analytics fact tables.")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@analytics_cli.command("refresh")
@click.option("--from", "first", help="First business day to rebuild (YYYY-MM-DD); with --to.")
@click.option("--to", "last", help="Last business day to rebuild (YYYY-MM-DD).")
@click.option("--queue", is_flag=True, help="Enqueue on RQ instead of running here.")
def refresh_command(first: str | None, last: str | None, queue: bool) -> None:
    """Bring the daily sales facts up to date (only changed days), or rebuild a date range."""
    from app.services.analytics.facts import analyze_after, rebuild_range, refresh

    start_day, end_day = _day(first), _day(last)
    if (start_day is None) != (end_day is None):
        raise click.UsageError("give both --from and --to, or neither")
    if start_day and end_day and end_day < start_day:
        raise click.UsageError("--to is before --from")
    if queue:
        from jobs.analytics import enqueue, refresh_facts_job
        click.echo(f"Enqueued job {enqueue(refresh_facts_job)}.")
        return
    started = time.perf_counter()
    result = rebuild_range(start_day, end_day) if start_day else refresh()
    db.session.commit()
    analyzed = " (tables vacuumed and analyzed)" if analyze_after(result) else ""
    click.echo(f"Rebuilt {result.days} day(s), {result.rows} fact row(s) in {time.perf_counter() - started:.1f} s"
               f"{analyzed}.")


@analytics_cli.command("stock-backfill")
@click.option("--from", "first", help="First business day (YYYY-MM-DD); default: the ledger's first day.")
@click.option("--to", "last", help="Last business day (YYYY-MM-DD); default: yesterday.")
def stock_backfill_command(first: str | None, last: str | None) -> None:
    """Rebuild past days' stock snapshots from the stock ledger (any range, any number of times)."""
    from datetime import timedelta

    from app.services.analytics.stock_snapshots import backfill, ledger_start
    from app.services.core.clock import today_local

    start_day = _day(first) or ledger_start()
    end_day = _day(last) or today_local() - timedelta(days=1)
    if start_day is None:
        click.echo("The stock ledger is empty: nothing to backfill.")
        return
    if end_day < start_day:
        raise click.UsageError("--to is before --from")
    started = time.perf_counter()
    days = backfill(start_day, end_day)
    db.session.commit()
    click.echo(f"Wrote the stock snapshots of {days} day(s) in {time.perf_counter() - started:.1f} s.")
