"""Dealers: orders routed to them, fulfilment, replenishment from the brand."""
from flask import Blueprint

from app.web.access import guard_role

bp = Blueprint("dealer", __name__, url_prefix="/dealer")
guard_role(bp, "dealer")

from app.web.dealer import home  # noqa: E402,F401
