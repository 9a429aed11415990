"""The "use points" tick, read from the request: the cart page's GET form (`?use_points=1`,
htmx or plain) and the checkout form's hidden field carry it, so a refused checkout shows the
cart again with the same choice."""
from flask import has_request_context, request


def points_requested() -> bool:
    return has_request_context() and request.values.get("use_points") == "1"
