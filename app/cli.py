"""Flask CLI commands: seed-demo, demo-logins, create-admin, worker; the groups of the cli_* modules."""
import click
from flask import Flask, current_app
from sqlalchemy import select

from app.extensions import db
from app.cli_backup import backup, restore
from app.cli_documents import documents_cli
from app.cli_analytics import analytics_cli
from app.cli_forecast import forecast_cli
from app.cli_stock import api_cli, stock_cli
from app.cli_promotions import promotions_cli
from app.cli_rebates import rebates_cli
from app.models import PERMISSIONS, Organisation, User

DEMO_LOGINS = (("admin", "admin", "/admin/"), ("dealer001", "dealer", "/dealer/"),
               ("retailer000001", "retailer", "/retailer/"), ("rep01", "rep", "/rep/"))


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_logins)
    app.cli.add_command(create_admin)
    app.cli.add_command(worker)
    app.cli.add_command(documents_cli)
    app.cli.add_command(forecast_cli)
    app.cli.add_command(analytics_cli)
    app.cli.add_command(stock_cli)
    app.cli.add_command(api_cli)
    app.cli.add_command(promotions_cli)
    app.cli.add_command(rebates_cli)
    app.cli.add_command(backup)
    app.cli.add_command(restore)


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(["small", "full"]), default="small", show_default=True)
@click.option("--replace", is_flag=True, help="Delete all existing data first.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
def seed_demo(scale: str, replace: bool, if_empty: bool) -> None:
    """Build demo data: a catalog, dealers, retailers, reps and two years of orders."""
    from app.demo import build_demo, database_is_empty

    if not database_is_empty():
        if if_empty:
            click.echo("Demo data already present; nothing to do.")
            return
        if not replace:
            raise click.ClickException("The database is not empty; pass --replace to rebuild it.")
    build_demo(scale, replace=replace, echo=click.echo)


@click.command("demo-logins")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address `flask run` serves on.")
@click.option("--port", default=5000, show_default=True, type=int, help="The port `flask run` serves on.")
def demo_logins(host: str, port: int) -> None:
    """Print the demo accounts and the address where each lands."""
    password = current_app.config["DEMO_PASSWORD"]
    click.echo("Demo logins (password: %s):" % password)
    base = server_address(host, port)
    for username, role, home in DEMO_LOGINS:
        click.echo(f"  {username:<16} {role:<9} {base}{home}")


def server_address(host: str, port: int) -> str:
    """The URL a browser on this machine uses for a server bound to host:port (a wildcard bind
    is reached through the loopback address; an IPv6 address goes in brackets)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@click.command("create-admin")
@click.argument("username")
@click.password_option()
def create_admin(username: str, password: str) -> None:
    """Create an admin with every permission (for a fresh production database)."""
    from app.services.accounts.users import hash_password

    brand = db.session.scalar(select(Organisation).where(Organisation.kind == "brand"))
    if brand is None:
        brand = Organisation(kind="brand", code="BRAND", name="品牌总部")
        db.session.add(brand)
        db.session.flush()
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise click.ClickException(f"user {username} exists")
    db.session.add(User(username=username, password_hash=hash_password(password), role="admin",
                        org_id=brand.id, permissions=" ".join(PERMISSIONS)))
    db.session.commit()
    click.echo(f"admin {username} created")


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in the worker process itself, without forking a work "
              "horse per job: less overhead per job, less isolation (a crash takes the worker).")
def worker(queues: tuple[str, ...], burst: bool, simple: bool) -> None:
    """Run an RQ worker whose jobs each run in an app context (needs REDIS_URL).

    Before working it requeues documents whose worker died, and loads the PDF fonts once so
    every forked job starts warm."""
    from app.services.documents import pdf as document_pdf
    from app.services.documents.requests import requeue_stale_documents
    from app.queue import run_worker

    if current_app.config.get("REDIS_URL"):
        requeued = requeue_stale_documents()
        db.session.commit()
        if requeued:
            click.echo(f"requeued {len(requeued)} stale document(s)")
        db.session.remove()
        document_pdf.warm_up()
    run_worker(list(queues) or list(current_app.config["RQ_QUEUES"]), burst=burst, simple=simple)
