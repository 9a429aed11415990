"""Inventory turnover, days of supply and stock-out rate for the caller's warehouses."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from sqlalchemy import select

from app.extensions import db
from app.models import Warehouse
from app.services.inventory.reports import turnover_report
from app.services.core.paging import Page
from app.services.core.clock import today_local
from app.web.common.htmx import render_page
from app.web.shared.stock import route
from app.web.shared.stock.common import caller_scope, warehouse_choices, warehouse_in_scope
from app.web.shared.stock.forms import TurnoverFilterForm

DEFAULT_DAYS = 90
MAX_DAYS = 731


@route("/stock/reports/turnover")
def stock_turnover():
    form = TurnoverFilterForm(formdata=request.args)
    form.warehouse_id.choices = warehouse_choices(blank="")
    valid = form.validate()
    end = (form.end.data if valid and form.end.data else None) or today_local() - timedelta(days=1)
    start = (form.start.data if valid and form.start.data else None) or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end or (end - start).days >= MAX_DAYS:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    form.start.data, form.end.data = start, end
    scope = caller_scope()
    if valid and form.warehouse_id.data:  # an id from the query string: scoped like a path id
        warehouse_ids = [warehouse_in_scope(form.warehouse_id.data).id]
    else:  # the caller's own warehouses (the brand's DCs for admins; a dealer's own)
        warehouse_ids = list(db.session.scalars(select(Warehouse.id).where(Warehouse.owner_id == scope.org_id)))
    # The brand's books value stock at standard cost; a dealer's at what it paid the brand.
    report = turnover_report(warehouse_ids, start, end, dealer_id=None if scope.sees_all else scope.org_id)
    per_page = current_app.config["PAGE_SIZE"]
    number = max(1, request.args.get("page", 1, type=int))
    rows = Page(report.rows[(number - 1) * per_page:number * per_page], number, per_page, len(report.rows))
    args = {"warehouse_id": warehouse_ids[0] if len(warehouse_ids) == 1 and form.warehouse_id.data else "",
            "start": start.isoformat(), "end": end.isoformat()}
    return render_page("stock/turnover.html", "stock/_turnover.html", form=form, report=report, rows=rows, args=args)
