"""`flask rebates settle` and `flask rebates rebuild`: dealer rebates on demand."""
from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db

rebates_cli = AppGroup("rebates", help="Dealer rebates: settlement runs and accrual rebuilds.")


@rebates_cli.command("settle")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Settle up to this day, included (Asia/Shanghai); default: the last day of last month.")
@click.option("--queue", "use_queue", is_flag=True, help="Enqueue on RQ instead of running here (needs REDIS_URL).")
def settle(as_of: datetime | None, use_queue: bool) -> None:
    """Draft every agreement's rebate due: earned to date minus already settled."""
    from app.services.core.errors import DomainError
    from app.services.rebates.settlement import check_as_of, default_as_of
    from jobs.rebates import job_id, settle_job

    day = as_of.date() if as_of else default_as_of()
    try:
        check_as_of(day)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if use_queue:
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set; run without --queue to settle inline.")
        from app.queue import enqueue_after_commit

        enqueue_after_commit("jobs.rebates.settle_job", day.isoformat(), job_id=job_id(day.isoformat()), timeout=3600)
        db.session.commit()
        click.echo(f"Enqueued job {job_id(day.isoformat())}.")
        return
    click.echo(settle_job(day.isoformat()))


@rebates_cli.command("rebuild")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
def rebuild(start: datetime, end: datetime) -> None:
    """Recompute the accruals of the days FROM..TO from the invoices, credit notes, payments and shipments."""
    from jobs.rebates import rebuild_job

    if end < start:
        raise click.UsageError("--to must not be before --from.")
    click.echo(rebuild_job(start.date().isoformat(), end.date().isoformat()))
