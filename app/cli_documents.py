"""`flask documents ...`: build one document now, in this process; requeue those whose worker
died (also done by every `flask worker` at start; run it from cron on busy systems)."""
import click

from app.extensions import db


@click.group("documents")
def documents_cli() -> None:
    """PDF documents (invoices, delivery notes, order sheets, pick lists)."""


@documents_cli.command("build")
@click.argument("kind", type=click.Choice(["invoice", "delivery_note", "order_sheet"]))
@click.argument("order_id", type=int)
def build(kind: str, order_id: int) -> None:
    """Build an order's document in this process, as its job would."""
    from jobs.documents import build_order_document

    built = build_order_document(kind, order_id)
    db.session.commit()
    click.echo(f"document {built} ready" if built else "nothing built (ready, busy or failed: see the admin page)")


@documents_cli.command("recover")
def recover() -> None:
    """Requeue documents left running by a dead worker (or pending with a lost job)."""
    from app.services.documents.requests import requeue_stale_documents

    requeued = requeue_stale_documents()
    db.session.commit()
    click.echo(f"requeued {len(requeued)} document(s)")
