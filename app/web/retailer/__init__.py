"""Retailers: catalog with their own prices, cart, checkout, orders. Works without JavaScript."""
from flask import Blueprint

from app.web.access import guard_role

bp = Blueprint("retailer", __name__, url_prefix="/retailer")
guard_role(bp, "retailer")

from app.web.retailer import home  # noqa: E402,F401
