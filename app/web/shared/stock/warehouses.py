"""Warehouses: the caller's list (the brand sees every warehouse) and a form to add one of its own."""
from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Region, StockBalance, Warehouse
from app.services.inventory import operations
from app.services.inventory.scope import visible_warehouses
from app.services.core.paging import paginate
from app.web.common.envelope import attempt
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.stock import route
from app.web.shared.stock.common import caller_scope
from app.web.shared.stock.forms import WarehouseForm


def _page(form: WarehouseForm, status: int = 200):
    query = visible_warehouses(caller_scope()).options(selectinload(Warehouse.owner), selectinload(Warehouse.region))
    results = paginate(query, request.args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"])
    totals = {w: (int(h), int(r)) for w, h, r in db.session.execute(
        select(StockBalance.warehouse_id, func.sum(StockBalance.on_hand), func.sum(StockBalance.reserved))
        .where(StockBalance.warehouse_id.in_([w.id for w in results.items])).group_by(StockBalance.warehouse_id))}
    return render_page("stock/warehouses.html", "stock/_warehouses.html", status=status, results=results,
                       totals=totals, form=form)


@route("/stock/warehouses", methods=("GET", "POST"))
def warehouses_list():
    form = WarehouseForm()
    if request.method == "GET":
        return _page(form)
    if form.validate_on_submit():
        code = (form.region_code.data or "").strip()
        region = db.session.scalar(select(Region).where(Region.code == code)) if code else \
            current_user.org.region
        if region is None:
            form.region_code.errors = [_("地区编码不存在。")]
        else:
            outcome = attempt(form, operations.create_warehouse, current_user.id, owner_id=current_user.org_id,
                              code=form.code.data, name=form.name.data, region_id=region.id,
                              address=form.address.data or "", is_default=form.is_default.data)
            if outcome.ok:
                flash(_("仓库 %(c)s 已创建。", c=outcome.result.code), "success")
                return redirect_to(url_for(".warehouses_list"))
    return _page(form, status=400)
