"""Demo data (the seed-demo command). Filled in by the demo data builder."""
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation


def database_is_empty() -> bool:
    return db.session.scalar(select(Organisation.id).limit(1)) is None


def build_demo(scale: str, replace: bool, echo) -> None:
    from app.demo.builder import build

    build(scale, replace=replace, echo=echo)
