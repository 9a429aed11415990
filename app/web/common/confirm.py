"""Destructive actions (delete, cancel, reject, refuse, discard) ask first, with and without
JavaScript.

With htmx the button or form carries `confirm_attrs(question)` (templates/components/confirm.html):
`hx-confirm` asks in the browser, and `hx-vals` adds `confirmed=1` to the request only htmx sends.
Without JavaScript the same form posts without `confirmed`: the view, once it has loaded what the
action is about (scoped to the caller: another organisation's id is still a 404, never a question),
answers `ask_confirmation(...)`, a page that repeats the question and posts the same fields again
to the same URL with `confirmed=1`, next to a way back. Nothing is changed until then.

    if not confirmed():
        return ask_confirmation(_("删除价格行 %(p)s？"), back_url=url_for(...))
"""
from __future__ import annotations

from flask import Response, render_template, request

from app.web.common.htmx import hx_response, is_htmx

CONFIRMED_FIELD = "confirmed"
# Never carried over to the confirm page: the page renders a fresh token and the flag itself.
_NOT_CARRIED = frozenset({"csrf_token", CONFIRMED_FIELD})
_LAYOUTS = {"admin": "admin/layout.html", "dealer": "dealer/layout.html", "retailer": "retailer/layout.html",
            "rep": "rep/layout.html"}


def _same_url() -> str:
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def confirmed() -> bool:
    """Whether the person has confirmed the action (the second POST, or htmx after hx-confirm)."""
    return request.form.get(CONFIRMED_FIELD) == "1"


def ask_confirmation(question: str, *, back_url: str, button: str | None = None, detail: str = "") -> Response:
    """The confirm page for the current POST: `question`, the fields the person sent (kept as
    hidden inputs), a button that posts them again with confirmed=1, and `back_url`. An htmx
    request that skipped `hx-confirm` gets the same card in place of the page's main area."""
    fields = [(name, value) for name, values in request.form.lists() if name not in _NOT_CARRIED
              for value in values]
    context = dict(question=question, detail=detail, button=button, back_url=back_url, fields=fields,
                   action=_same_url(), layout=_LAYOUTS.get(request.blueprint or "", "base.html"))
    if is_htmx():
        return hx_response(render_template("components/_confirm.html", **context), retarget="#main",
                           reswap="innerHTML")
    return hx_response(render_template("components/confirm_page.html", **context))
