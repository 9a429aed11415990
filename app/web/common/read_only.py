"""Pages that only read run their statements without a transaction around them.

A request opens a transaction with its first statement (psycopg sends `BEGIN` in a round trip of
its own) and ends it with a `ROLLBACK` when nothing was committed: two round trips with nothing in
them, ~0.15 ms of PostgreSQL CPU and ~0.1 ms of ours per page (issue 15, measured on the catalog).
A view marked `read_only` gets its GET and HEAD requests' connection in autocommit mode instead:
each SELECT is its own statement, as under READ COMMITTED each already sees its own snapshot, so
what a page shows is the same. The sign-in session's read (the role guard, before the view) runs
that way too; its occasional "last seen" write has a connection of its own (sessions._touch).

Only for views that never write: in autocommit every statement would commit on its own. Other
methods of the same endpoint, and every other view, keep the one transaction per request.

It also keeps psycopg's prepared statements: psycopg prepares a statement on a connection after
its 5th execution there, and forgets them all on every ROLLBACK. With a rollback ending each
request nothing was ever prepared, and PostgreSQL planned the catalog's statements on every page
(prepared: 0.4 instead of 0.85 ms of backend CPU for the products, 0.05 instead of 0.23 for the
categories; issue 15, full demo scale)."""
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
    # A request inside a transaction begun before it (a test's app context) keeps that one.
    if request.method in ("GET", "HEAD") and request.endpoint and db.session().get_transaction() is None and getattr(
            current_app.view_functions.get(request.endpoint), "read_only", False):
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
