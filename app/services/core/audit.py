"""The audit trail: every change to users, permissions, prices, catalog (and later stock,
credit, order status) goes through `record`."""
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, inspect

from app.extensions import db
from app.models import AuditEvent, utcnow


def snapshot(obj, fields: list[str] | None = None) -> dict[str, Any]:
    """The column values of a model instance as JSON-safe data."""
    columns = fields or [c.key for c in inspect(obj).mapper.column_attrs]
    data = {}
    for name in columns:
        value = getattr(obj, name)
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = f"<{len(value)} bytes>"
        data[name] = value
    return data


def record(actor_id: int | None, action: str, entity: str, entity_id: int | None,
           before: dict | None = None, after: dict | None = None, keep: tuple[str, ...] = ()) -> AuditEvent:
    """Add an audit event to the current transaction. Unchanged keys are dropped from both
    sides so the trail shows only what changed, except the `keep` keys that say which record
    changed (e.g. the product code of a price list item)."""
    before, after = _changes(before, after, keep)
    event = AuditEvent(actor_id=actor_id, action=action, entity=entity, entity_id=entity_id,
                       before=before, after=after)
    db.session.add(event)
    return event


def write(actor_id: int | None, action: str, entity: str, entity_id: int | None,
          before: dict | None = None, after: dict | None = None, keep: tuple[str, ...] = ()) -> None:
    """`record` as one INSERT at once, with no ORM object for the session to flush (hot paths:
    checkout and order status changes)."""
    write_rows([row(actor_id, action, entity, entity_id, before, after, keep)])


def row(actor_id: int | None, action: str, entity: str, entity_id: int | None,
        before: dict | None = None, after: dict | None = None, keep: tuple[str, ...] = ()) -> dict:
    """The audit row `write` would write, for `write_rows`."""
    before, after = _changes(before, after, keep)
    return dict(at=utcnow(), actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, before=before,
                after=after)


def write_rows(rows: list[dict]) -> None:
    """Audit rows (`row`) in one INSERT (with RETURNING, SQLAlchemy sends several as one multi-row
    INSERT: "insertmanyvalues")."""
    if rows:
        db.session.execute(_INSERT, rows if len(rows) > 1 else rows[0])


_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def _changes(before: dict | None, after: dict | None, keep: tuple[str, ...]) -> tuple[dict | None, dict | None]:
    before, after = _plain(before), _plain(after)
    if before and after:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k) or k in keep}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    return before, after


def _plain(values: dict | None) -> dict | None:
    """Stored messages (app/services/core/messages.py) as their JSON form, like their columns."""
    if not values:
        return values
    from app.services.core.messages import stored

    return {k: stored(v) for k, v in values.items()}
