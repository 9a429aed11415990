"""`flask stock ...` (verify the ledger, scan for alerts, compute reorder rules) and
`flask api ...` (API clients and their tokens, due webhook deliveries, the outbox purge)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db

stock_cli = AppGroup("stock", help="Inventory: ledger check, alert scan, reorder rules.")
api_cli = AppGroup("api", help="API clients (ERP, WMS) and their bearer tokens.")


@stock_cli.command("verify")
def verify() -> None:
    """Recompute balances, lots and reservations from the ledger; exit 1 on any difference."""
    from app.services.inventory.verify import verify_stock

    differences = verify_stock()
    for difference in differences:
        click.echo(str(difference))
    if differences:
        click.echo(f"{len(differences)} difference(s) between stored stock and the ledger.")
        raise SystemExit(1)
    click.echo("Stock balances, lots and reservations agree with the ledger.")


@stock_cli.command("scan-alerts")
@click.option("--window", type=int, default=None, help="Near-expiry window in days (default 30).")
@click.option("--queue", "use_queue", is_flag=True, help="Enqueue on RQ instead of running here (needs REDIS_URL).")
def scan_alerts(window: int | None, use_queue: bool) -> None:
    """Scan for low stock and near-expiry lots and notify (inline unless --queue)."""
    from jobs.stock_alerts import enqueue_scan, scan_stock_alerts_job

    if use_queue:
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set; run without --queue to scan inline.")
        click.echo(f"Enqueued job {enqueue_scan(window)}.")
        return
    click.echo(scan_stock_alerts_job(window))


@stock_cli.command("compute-reorder")
@click.option("--days", type=int, default=90, show_default=True)
@click.option("--factor", type=float, default=1.65, show_default=True, help="Safety factor z.")
@click.option("--overwrite-manual", is_flag=True)
def compute_reorder(days: int, factor: float, overwrite_manual: bool) -> None:
    """Compute safety stock and reorder points from recent demand for every warehouse."""
    from app.models import Warehouse
    from app.services.inventory.safety import compute_reorder_rules

    total = 0
    for warehouse_id in db.session.scalars(select(Warehouse.id).where(Warehouse.active.is_(True))).all():
        total += compute_reorder_rules(warehouse_id, actor_id=None, days=days, z=factor,
                                       overwrite_manual=overwrite_manual)
        db.session.commit()
    click.echo(f"{total} reorder rule(s) computed.")


@api_cli.command("create-client")
@click.argument("name")
@click.option("--org", "org_code", default=None, help="Owning organisation code (default: the brand).")
@click.option("--scopes", default="stock", show_default=True, help="Space-separated: stock orders catalog.")
@click.option("--read-only", is_flag=True, help="The token may only read (GET).")
def create_client(name: str, org_code: str | None, scopes: str, read_only: bool) -> None:
    """Create an API client and print its token (shown once; only its hash is stored)."""
    from app.services.accounts.api_clients import create_api_client

    client, token = create_api_client(name, org_code=org_code, scopes=scopes, read_only=read_only)
    db.session.commit()
    click.echo(f"API client {client.id} ({client.name}) for {client.org.code}, scopes: {client.scopes}"
               + (", read-only" if read_only else ""))
    click.echo(f"Token (store it now, it is not shown again): {token}")


@api_cli.command("revoke-client")
@click.argument("client_id", type=int)
def revoke_client(client_id: int) -> None:
    """Deactivate an API client: its token stops working at once."""
    from app.models import ApiClient

    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise click.ClickException(f"no API client {client_id}")
    client.active = False
    db.session.commit()
    click.echo(f"API client {client_id} revoked.")


@api_cli.command("purge")
@click.option("--days", type=int, default=None, help="Retention in days (default: OUTBOX_RETENTION_DAYS).")
def purge_outbox(days: int | None) -> None:
    """Delete delivered outbox events and their delivery logs older than the retention, and
    expired idempotency keys (what the nightly and hourly jobs do)."""
    from app.services.integrations.retention import purge
    from jobs.api import purge_idempotency_keys_job

    events, attempts = purge(current_app.config["OUTBOX_RETENTION_DAYS"] if days is None else days)
    click.echo(f"Removed {events} delivered outbox event(s) and {attempts} delivery attempt(s); "
               + purge_idempotency_keys_job() + ".")


@api_cli.command("deliver-webhooks")
def deliver_webhooks() -> None:
    """Attempt every due webhook delivery here and now (development without REDIS_URL, where
    retries are not scheduled; or to drain by hand). With workers, the sweep job does this."""
    from app.services.integrations import webhooks

    due = webhooks.due_deliveries()
    results: dict[str, int] = {}
    for delivery_id, _attempts, _overdue in due:
        status = webhooks.attempt(delivery_id) or "skipped"
        db.session.commit()
        results[status] = results.get(status, 0) + 1
    click.echo(f"{len(due)} due deliveries: " + (", ".join(f"{k} {v}" for k, v in sorted(results.items())) or "none"))
