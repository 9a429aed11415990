"""Pages that only read run their statements without a transaction around them.

A request opens a transaction with its first statement (psycopg sends `BEGIN` in a round trip of
its own) and ends it with a `ROLLBACK` when nothing was committed: two round trips with nothing in
them, ~0.15 ms of PostgreSQL CPU and ~0.1 ms of ours per page (issue 15, measured on the catalog).
A view marked `read_only` gets its GET and HEAD requests' connection in autocommit mode instead:
each SELECT is its own statement, as under READ COMMITTED each already sees its own snapshot, so
what a page shows is the same. The sign-in session's read (the role guard, before the view) runs
that way too; its occasional "last seen" write has a connection of its own (sessions._touch).

Only for views that never write: in autocommit every statement would commit on its own. Other
methods of the same endpoint, and every other view, keep the one transaction per request."""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app, request

from app.extensions import db


def read_only(view: Callable) -> Callable:
    """Mark `view` as one that only reads (see the module)."""
    view.read_only = True
    return view


def register(app: Flask) -> None:
    app.before_request(_autocommit_reads)


def _autocommit_reads() -> None:
    if request.method in ("GET", "HEAD") and request.endpoint and getattr(
            current_app.view_functions.get(request.endpoint), "read_only", False):
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
