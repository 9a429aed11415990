"""Stock by warehouse and product, low stock, near expiry, and one product's lots and movements."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from app.extensions import db
from app.models import Order, ProductCost, ReorderRule, StockBalance, StockLot, User
from app.models.inventory import Transfer
from app.services.inventory import queries
from app.services.inventory.transfers import in_transit_to
from app.services.core.money import yuan_text
from app.services.core.paging import paginate
from app.services.core.clock import today_local
from app.web.common.htmx import render_page
from app.web.shared.stock import route
from app.web.shared.stock.common import (caller_scope, is_admin, optional_warehouse_id, product_in_scope,
                                        warehouse_choices, warehouse_in_scope)
from app.web.shared.stock.forms import (AdjustForm, BalanceFilterForm, ComputeRulesForm, CostForm, ExpiringFilterForm,
                                 ReceiveForm, ReorderRuleForm)


def _balances_page(low_page: bool):
    form = BalanceFilterForm(formdata=request.args)
    form.warehouse_id.choices = warehouse_choices(blank="")
    valid = form.validate()
    flt = queries.BalanceFilter(
        warehouse_id=optional_warehouse_id(form.warehouse_id.data) if valid else None,
        owner=(form.owner.data or "") if valid and is_admin() else "",
        q=(form.q.data or "") if valid else "",
        low_only=low_page or bool(valid and form.low.data))
    results = paginate(queries.balances_query(caller_scope(), flt), request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], scalars=False)
    transit = in_transit_to(list({row[1].id for row in results.items}))
    args = {"q": flt.q, "warehouse_id": flt.warehouse_id or "", "owner": flt.owner, "low": "y" if flt.low_only else ""}
    return render_page("stock/balances.html", "stock/_balances.html", form=form, results=results, transit=transit,
                       args=args, low_page=low_page, show_owner=is_admin())


@route("/stock/")
def stock_list():
    return _balances_page(low_page=False)


@route("/stock/low")
def stock_low():
    return _balances_page(low_page=True)


@route("/stock/expiring")
def stock_expiring():
    form = ExpiringFilterForm(formdata=request.args)
    form.warehouse_id.choices = warehouse_choices(blank="")
    valid = form.validate()
    days = form.days.data if valid and form.days.data is not None else 30
    warehouse_id = optional_warehouse_id(form.warehouse_id.data) if valid else None
    results = paginate(queries.expiring_lots_query(caller_scope(), days, warehouse_id),
                       request.args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"], scalars=False)
    return render_page("stock/expiring.html", "stock/_expiring.html", form=form, results=results, days=days,
                       warehouse_id=warehouse_id or "", today=today_local())


def document_labels(documents) -> dict[str, str]:
    """What the ledger's 单据 column shows for each stored document key (see StockMovement):
    "order:12" the order's number and "transfer:3" the transfer's (one query each for the page's
    rows, none when the page has no such row), a count, an import or an ERP reference by name, the
    demo's generated history as such; anything else (a shipment's number) as stored."""
    keyed: dict[str, dict[int, str]] = {"order": {}, "transfer": {}}
    for document in documents:
        kind, _sep, rest = document.partition(":")
        if kind in keyed and rest.isdigit():
            keyed[kind][int(rest)] = document
    numbers = {}
    for model, kind in ((Order, "order"), (Transfer, "transfer")):
        if keyed[kind]:
            numbers.update({keyed[kind][i]: n for i, n in db.session.execute(
                select(model.id, model.number).where(model.id.in_(keyed[kind])))})
    labels = {}
    for document in documents:
        kind, _sep, rest = document.partition(":")
        if document in numbers:
            labels[document] = numbers[document] or document
        elif kind == "count" and rest.isdigit():
            labels[document] = _("盘点 #%(n)s", n=rest)
        elif kind == "import":
            labels[document] = _("导入 #%(n)s", n=rest.split(":", 1)[0]) + (f" · {rest.split(':', 1)[1]}" if ":" in rest else "")
        elif kind == "erp":
            labels[document] = "ERP" + (f" · {rest}" if rest else "")
        elif kind == "demo":
            labels[document] = _("演示数据")
        else:
            labels[document] = document
    return labels


def product_page(warehouse, product, status: int = 200, fragment: str | None = None, **forms):
    """The lots-and-movements page, with any form passed in (carrying its errors) in place of
    the blank one."""
    balance = db.session.get(StockBalance, (warehouse.id, product.id))
    rule = db.session.get(ReorderRule, (warehouse.id, product.id))
    lots = db.session.scalars(queries.lots_of(warehouse.id, product.id)).all()
    movements = paginate(queries.movements_of(warehouse.id, product.id), request.args.get("page", 1, type=int),
                         per_page=current_app.config["PAGE_SIZE"])
    actors = dict(db.session.execute(select(User.id, User.username).where(
        User.id.in_({m.actor_id for m in movements.items if m.actor_id}))).all())
    lot_numbers = dict(db.session.execute(select(StockLot.id, StockLot.batch_no).where(
        StockLot.id.in_({m.lot_id for m in movements.items if m.lot_id}))).all())
    documents = document_labels({m.document for m in movements.items if m.document})
    manage = caller_scope().can_manage(warehouse)
    adjust = forms.get("adjust_form") or AdjustForm(formdata=None)
    adjust.lot_id.choices = [SelectChoice(lot.id, _("%(batch)s（%(qty)d）", batch=lot.batch_no, qty=lot.on_hand))
                             for lot in lots]
    show_cost = is_admin()  # the brand's standard cost: never loaded for a dealer's page
    cost = db.session.get(ProductCost, product.id) if show_cost else None
    rule_form = forms.get("rule_form") or ReorderRuleForm(formdata=None, obj=rule)
    context = dict(
        warehouse=warehouse, product=product, balance=balance, rule=rule, lots=lots, movements=movements,
        actors=actors, lot_numbers=lot_numbers, documents=documents, manage=manage, today=today_local(),
        in_transit=in_transit_to([warehouse.id]).get((warehouse.id, product.id), 0),
        receive_form=forms.get("receive_form") or ReceiveForm(formdata=None), adjust_form=adjust,
        rule_form=rule_form, compute_form=forms.get("compute_form") or ComputeRulesForm(formdata=None),
        cost=cost, cost_form=forms.get("cost_form") or CostForm(formdata=None, cost=yuan_text(cost.cost_fen) if cost else ""),
        show_cost=show_cost)
    return render_page("stock/product.html", fragment, status=status, **context)


@route("/stock/<int:warehouse_id>/<int:product_id>")
def stock_product(warehouse_id: int, product_id: int):
    return product_page(warehouse_in_scope(warehouse_id), product_in_scope(product_id), fragment="stock/_movements.html")
