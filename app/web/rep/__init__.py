"""Sales reps (tablet first): today's route, ordering on behalf of a retailer, visits."""
from flask import Blueprint

from app.web.access import guard_role

bp = Blueprint("rep", __name__, url_prefix="/rep")
guard_role(bp, "rep")

from app.web.rep import home  # noqa: E402,F401
