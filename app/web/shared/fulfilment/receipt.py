"""A buyer confirming receipt of its goods, with what arrived short or damaged (credited by the
seller): the same form and steps for a retailer's order and a dealer's replenishment order; each
role's view finds the order in its own scope and renders its own page. A dealer's page passes
its `warehouses` (receiving.receiving_warehouses): with more than one, the form asks which the
goods go into, the default preselected."""
from __future__ import annotations

from typing import Callable

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.services.fulfilment import delivery
from app.services.fulfilment import progress as fulfilment
from app.web.common.envelope import attempt, error_status
from app.web.common.htmx import redirect_to
from app.web.shared.fulfilment.forms import ConfirmReceiptForm, StockedReceiptForm, discrepancies, with_line_fields

# While goods are on the road the delivery page shows the code for the driver.
CODE_SHOWN = frozenset({"picking", "partly_shipped", "shipped"})


def form_class(rows, warehouses=()):
    base = StockedReceiptForm if len(warehouses) > 1 else ConfirmReceiptForm
    return with_line_fields(base, rows, ("short", "damaged"), lambda row, kind: row.shipped)


def _form(rows, warehouses, **kwargs):
    form = form_class(rows, warehouses)(**kwargs)
    if len(warehouses) > 1:
        form.warehouse_id.choices = [SelectChoice(w.id, f"{w.code} {w.name}") for w in warehouses]
    return form


def code_of(order) -> str | None:
    return delivery.code_for(order.id) if order.status in CODE_SHOWN else None


def show(order, page: Callable, warehouses=()):
    """The delivery page with an empty receipt form (its `seen` the status the buyer looked at)."""
    form = _form(fulfilment.progress(order), warehouses, formdata=None)
    form.seen.data = order.status
    if len(warehouses) > 1:
        form.warehouse_id.data = warehouses[0].id
    return page(order, form)


def confirm(order, reload: Callable, page: Callable, done_url: str, warehouses=()):
    """Confirm receipt from the posted form: back to `done_url` when it took, else the page again
    (the order re-read by `reload`) with the errors next to the fields and a 4xx."""
    rows = fulfilment.progress(order)
    form = _form(rows, warehouses)
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(form, delivery.confirm_receipt, current_user.org_id, order.id, current_user.id,
                          discrepancies(form, rows), note=form.note.data or "", seen=form.seen.data or None,
                          warehouse_id=form.warehouse_id.data if len(warehouses) > 1 else None)
        if outcome.ok:
            flash(_("已确认收货。"), "success")
            return redirect_to(done_url)
    return page(reload(), form, status=outcome.status if outcome else error_status())
