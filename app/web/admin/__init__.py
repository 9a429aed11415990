"""Brand HQ: catalog, prices, users, audit (and later order desk, stock, marketing, reports)."""
from flask import Blueprint

from app.web.access import guard_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_role(bp, "admin")

from app.web.admin import home  # noqa: E402,F401
