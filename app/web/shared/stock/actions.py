"""Changes from a product's stock page: receive, adjust, reorder rule (by hand or computed),
standard cost (admin), write off an expired lot. Each: parse the form, call one service, commit
once, redirect with a flash; on an error, the page again with the message next to the field."""
from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.extensions import db
from app.models import StockLot
from app.services.core.errors import DomainError, NotFound
from app.services.inventory import operations, rules, safety
from app.services.core.money import parse_yuan
from app.web.common.forms import ActionForm, show_error
from app.web.common.htmx import redirect_to
from app.web.shared.stock import route
from app.web.shared.stock.balances import product_page
from app.web.shared.stock.common import product_or_404, warehouse_or_404
from app.web.shared.stock.forms import AdjustForm, ComputeRulesForm, CostForm, ReceiveForm, ReorderRuleForm


def _back(warehouse_id: int, product_id: int, message: str):
    flash(message, "success")
    return redirect_to(url_for(".stock_product", warehouse_id=warehouse_id, product_id=product_id))


def _failed(warehouse, product, form_name: str, form, error: DomainError | None = None):
    db.session.rollback()
    if error is not None:
        show_error(form, error)
    return product_page(warehouse, product, status=400, **{form_name: form})


@route("/stock/<int:warehouse_id>/<int:product_id>/receive", methods=("POST",))
def stock_receive(warehouse_id: int, product_id: int):
    warehouse, product = warehouse_or_404(warehouse_id, manage=True), product_or_404(product_id)
    form = ReceiveForm()
    if not form.validate_on_submit():
        return _failed(warehouse, product, "receive_form", form)
    try:
        operations.receive_stock(warehouse.id, product.id, form.qty.data, form.batch_no.data, actor_id=current_user.id,
                                 production_date=form.production_date.data, expiry_date=form.expiry_date.data,
                                 reason=form.reason.data or "")
    except DomainError as error:
        return _failed(warehouse, product, "receive_form", form, error)
    db.session.commit()
    return _back(warehouse.id, product.id, _("已入库 %(n)d。", n=form.qty.data))


@route("/stock/<int:warehouse_id>/<int:product_id>/adjust", methods=("POST",))
def stock_adjust(warehouse_id: int, product_id: int):
    warehouse, product = warehouse_or_404(warehouse_id, manage=True), product_or_404(product_id)
    form = AdjustForm()
    form.lot_id.choices = [SelectChoice(lot_id) for lot_id in _lot_ids(warehouse.id, product.id)]
    if not form.validate_on_submit():
        return _failed(warehouse, product, "adjust_form", form)
    try:
        lot = operations.lot_in(warehouse.id, form.lot_id.data)
        operations.adjust_lot(lot, form.delta.data, form.reason.data, actor_id=current_user.id)
    except NotFound:
        abort(404)
    except DomainError as error:
        return _failed(warehouse, product, "adjust_form", form, error)
    db.session.commit()
    return _back(warehouse.id, product.id, _("库存已调整。"))


def _lot_ids(warehouse_id: int, product_id: int) -> list[int]:
    return list(db.session.scalars(select(StockLot.id).where(StockLot.warehouse_id == warehouse_id,
                                                             StockLot.product_id == product_id)))


@route("/stock/<int:warehouse_id>/<int:product_id>/rule", methods=("POST",))
def stock_rule(warehouse_id: int, product_id: int):
    warehouse, product = warehouse_or_404(warehouse_id, manage=True), product_or_404(product_id)
    form = ReorderRuleForm()
    if not form.validate_on_submit():
        return _failed(warehouse, product, "rule_form", form)
    try:
        rules.set_reorder_rule(warehouse.id, product.id, safety_stock=form.safety_stock.data,
                               reorder_point=form.reorder_point.data, lead_time_days=form.lead_time_days.data,
                               actor_id=current_user.id)
    except DomainError as error:
        return _failed(warehouse, product, "rule_form", form, error)
    db.session.commit()
    return _back(warehouse.id, product.id, _("补货规则已保存。"))


@route("/stock/<int:warehouse_id>/<int:product_id>/rule/compute", methods=("POST",))
def stock_rule_compute(warehouse_id: int, product_id: int):
    warehouse, product = warehouse_or_404(warehouse_id, manage=True), product_or_404(product_id)
    form = ComputeRulesForm()
    if not form.validate_on_submit():
        return _failed(warehouse, product, "compute_form", form)
    written = safety.compute_reorder_rules(warehouse.id, actor_id=current_user.id, days=form.days.data,
                                           overwrite_manual=form.overwrite_manual.data, product_ids=[product.id])
    db.session.commit()
    if not written:
        flash(_("近期没有发货记录，或已有手工规则（可勾选覆盖），规则未变。"), "warning")
        return redirect_to(url_for(".stock_product", warehouse_id=warehouse.id, product_id=product.id))
    return _back(warehouse.id, product.id, _("已根据近期需求计算补货规则。"))


@route("/stock/<int:warehouse_id>/<int:product_id>/cost", methods=("POST",), admin_only=True)
def stock_cost(warehouse_id: int, product_id: int):
    warehouse, product = warehouse_or_404(warehouse_id), product_or_404(product_id)
    form = CostForm()
    if not form.validate_on_submit():
        return _failed(warehouse, product, "cost_form", form)
    try:
        rules.set_product_cost(product.id, parse_yuan(form.cost.data, field="cost"), actor_id=current_user.id)
    except DomainError as error:
        return _failed(warehouse, product, "cost_form", form, error)
    db.session.commit()
    return _back(warehouse.id, product.id, _("单位成本已保存。"))


@route("/stock/<int:warehouse_id>/<int:product_id>/lots/<int:lot_id>/expire", methods=("POST",))
def stock_expire_lot(warehouse_id: int, product_id: int, lot_id: int):
    warehouse, product = warehouse_or_404(warehouse_id, manage=True), product_or_404(product_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        lot = operations.lot_in(warehouse.id, lot_id)
        if lot.product_id != product.id:
            abort(404)
        qty = operations.expire_lot(lot, actor_id=current_user.id)
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect_to(url_for(".stock_product", warehouse_id=warehouse.id, product_id=product.id))
    db.session.commit()
    return _back(warehouse.id, product.id, _("已报废过期库存 %(n)d。", n=qty))
