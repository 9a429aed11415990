"""Reading the audit trail: the admin audit page and a record's recent history."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User

# Entities written today; the filter accepts any name, these feed its suggestions.
KNOWN_ENTITIES = ("product", "category", "price_list", "contract_price", "user", "promotion")


def events_query(entity: str | None = None, entity_id: int | None = None):
    """Rows of (AuditEvent, actor username), newest first."""
    query = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    if entity:
        query = query.where(AuditEvent.entity == entity.strip())
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def recent_events(entity: str, entity_id: int, limit: int = 10) -> list[tuple[AuditEvent, str | None]]:
    return list(db.session.execute(events_query(entity, entity_id).limit(limit)).tuples())
