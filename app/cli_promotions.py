"""`flask promotions settle`: the promotion settlement run on demand."""
from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db

promotions_cli = AppGroup("promotions", help="Promotions: the settlement run.")


@promotions_cli.command("settle")
@click.option("--from", "period_start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (Asia/Shanghai); default: the first day of last month.")
@click.option("--to", "period_end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day, included; default: the last day of last month.")
@click.option("--queue", "use_queue", is_flag=True, help="Enqueue on RQ instead of running here (needs REDIS_URL).")
def settle(period_start: datetime | None, period_end: datetime | None, use_queue: bool) -> None:
    """Draft what the brand owes each dealer for brand-funded promotions (inline unless --queue)."""
    from app.services.core.errors import DomainError
    from app.services.promotions.settlement import check_period, default_period
    from jobs.promotions import job_id, settle_job

    if (period_start is None) != (period_end is None):
        raise click.UsageError("Give both --from and --to, or neither (last month).")
    if period_start is None:
        start, end = default_period()
    else:
        start, end = period_start.date(), period_end.date()
    try:
        check_period(start, end)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if use_queue:
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set; run without --queue to settle inline.")
        from app.queue import enqueue_after_commit

        enqueue_after_commit("jobs.promotions.settle_job", start.isoformat(), end.isoformat(),
                             job_id=job_id(start.isoformat(), end.isoformat()), timeout=3600)
        db.session.commit()
        click.echo(f"Enqueued job {job_id(start.isoformat(), end.isoformat())}.")
        return
    click.echo(settle_job(start.isoformat(), end.isoformat()))
