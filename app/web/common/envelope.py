"""One request envelope: call one service, commit once on success, or roll back and show the
service's message next to the form field it names.

    outcome = attempt(form, shipping.ship, org_id, order_id, actor_id, ...)
    if outcome.ok:
        flash(...); return redirect_to(...)
    return render_page(..., status=outcome.status)

`NotFound` is not caught here: it reaches the handler registered once in `errors.py` (404 page,
JSON for the API). Jobs and e-mail are enqueued by services and sent only after this commit (see the queue module)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import flash

from app.extensions import db
from app.services.core.errors import DomainError, NotFound
from app.web.common.forms import show_error
from app.web.common.htmx import is_htmx


@dataclass
class Outcome:
    result: Any = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return error_status(self.error)


def error_status(error: DomainError | None = None) -> int:
    """409 for a rule that no field can fix (the order moved on, stock ran out); 422 for htmx and
    400 for a plain form when a field is wrong."""
    if error is not None and not error.field:
        return 409
    return 422 if is_htmx() else 400


def attempt(form, service: Callable, *args, **kwargs) -> Outcome:
    """Run one service call as the request's unit of work."""
    try:
        result = service(*args, **kwargs)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            # A service may report several problems at once (`errors`): each next to its field.
            problems = [p for p in getattr(error, "errors", None) or () if isinstance(p, DomainError)]
            for problem in problems or [error]:
                show_error(form, problem)
        return Outcome(error=error)
    db.session.commit()
    return Outcome(result=result)


def flash_outcome(outcome: Outcome, done: str) -> bool:
    """For button-only actions: flash `done` on success, the service's message otherwise."""
    flash(done if outcome.ok else outcome.error.message, "success" if outcome.ok else "error")
    return outcome.ok
