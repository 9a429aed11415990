"""Changes from a product's stock page: receive, adjust, reorder rule (by hand or computed),
standard cost (admin), write off an expired lot. Each: parse the form, call one service through
the request envelope (commit once), redirect with a flash; on an error, the page again with the
message next to the field."""
from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.extensions import db
from app.models import StockLot
from app.services.core.errors import NotFound
from app.services.core.money import parse_yuan
from app.services.inventory import operations, rules, safety
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.envelope import Outcome, attempt
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to
from app.web.shared.stock import route
from app.web.shared.stock.balances import product_page
from app.web.shared.stock.common import product_in_scope, warehouse_in_scope
from app.web.shared.stock.forms import AdjustForm, ComputeRulesForm, CostForm, ReceiveForm, ReorderRuleForm


def _load(warehouse_id: int, product_id: int, manage: bool = True):
    return warehouse_in_scope(warehouse_id, manage=manage), product_in_scope(product_id)


def _answer(warehouse, product, form_name: str, form, outcome: Outcome | None, done: str):
    """Back to the product page with `done` flashed, or the page again (400) with the form's errors."""
    if outcome is not None and outcome.ok:
        flash(done, "success")
        return redirect_to(url_for(".stock_product", warehouse_id=warehouse.id, product_id=product.id))
    return product_page(warehouse, product, status=400, **{form_name: form})


@route("/stock/<int:warehouse_id>/<int:product_id>/receive", methods=("POST",))
def stock_receive(warehouse_id: int, product_id: int):
    warehouse, product = _load(warehouse_id, product_id)
    form = ReceiveForm()
    outcome = attempt(form, operations.receive_stock, warehouse.id, product.id, form.qty.data, form.batch_no.data,
                      actor_id=current_user.id, production_date=form.production_date.data,
                      expiry_date=form.expiry_date.data, reason=form.reason.data or "") \
        if form.validate_on_submit() else None
    return _answer(warehouse, product, "receive_form", form, outcome, _("已入库 %(n)d。", n=form.qty.data or 0))


def _adjust_lot(warehouse_id: int, lot_id: int, delta: int, reason: str, actor_id: int):
    return operations.adjust_lot(operations.lot_in(warehouse_id, lot_id), delta, reason, actor_id=actor_id)


@route("/stock/<int:warehouse_id>/<int:product_id>/adjust", methods=("POST",))
def stock_adjust(warehouse_id: int, product_id: int):
    warehouse, product = _load(warehouse_id, product_id)
    form = AdjustForm()
    form.lot_id.choices = [SelectChoice(lot_id) for lot_id in _lot_ids(warehouse.id, product.id)]
    outcome = attempt(form, _adjust_lot, warehouse.id, form.lot_id.data, form.delta.data, form.reason.data,
                      current_user.id) if form.validate_on_submit() else None
    return _answer(warehouse, product, "adjust_form", form, outcome, _("库存已调整。"))


def _lot_ids(warehouse_id: int, product_id: int) -> list[int]:
    return list(db.session.scalars(select(StockLot.id).where(StockLot.warehouse_id == warehouse_id,
                                                             StockLot.product_id == product_id)))


@route("/stock/<int:warehouse_id>/<int:product_id>/rule", methods=("POST",))
def stock_rule(warehouse_id: int, product_id: int):
    warehouse, product = _load(warehouse_id, product_id)
    form = ReorderRuleForm()
    outcome = attempt(form, rules.set_reorder_rule, warehouse.id, product.id, safety_stock=form.safety_stock.data,
                      reorder_point=form.reorder_point.data, lead_time_days=form.lead_time_days.data,
                      actor_id=current_user.id) if form.validate_on_submit() else None
    return _answer(warehouse, product, "rule_form", form, outcome, _("补货规则已保存。"))


@route("/stock/<int:warehouse_id>/<int:product_id>/rule/compute", methods=("POST",))
def stock_rule_compute(warehouse_id: int, product_id: int):
    warehouse, product = _load(warehouse_id, product_id)
    form = ComputeRulesForm()
    if not form.validate_on_submit():
        return _answer(warehouse, product, "compute_form", form, None, "")
    outcome = attempt(form, safety.compute_reorder_rules, warehouse.id, actor_id=current_user.id,
                      days=form.days.data, overwrite_manual=form.overwrite_manual.data, product_ids=[product.id])
    if outcome.ok and not outcome.result:
        flash(_("近期没有发货记录，或已有手工规则（可勾选覆盖），规则未变。"), "warning")
        return redirect_to(url_for(".stock_product", warehouse_id=warehouse.id, product_id=product.id))
    return _answer(warehouse, product, "compute_form", form, outcome, _("已根据近期需求计算补货规则。"))


def _set_cost(product_id: int, cost_text: str, actor_id: int):
    return rules.set_product_cost(product_id, parse_yuan(cost_text, field="cost"), actor_id=actor_id)


@route("/stock/<int:warehouse_id>/<int:product_id>/cost", methods=("POST",), admin_only=True)
def stock_cost(warehouse_id: int, product_id: int):
    warehouse, product = _load(warehouse_id, product_id, manage=False)
    form = CostForm()
    outcome = attempt(form, _set_cost, product.id, form.cost.data, current_user.id) \
        if form.validate_on_submit() else None
    return _answer(warehouse, product, "cost_form", form, outcome, _("单位成本已保存。"))


def _expire_lot(warehouse_id: int, product_id: int, lot_id: int, actor_id: int) -> int:
    lot = operations.lot_in(warehouse_id, lot_id)
    if lot.product_id != product_id:
        raise NotFound(_("批次不存在。"))
    return operations.expire_lot(lot, actor_id=actor_id)


@route("/stock/<int:warehouse_id>/<int:product_id>/lots/<int:lot_id>/expire", methods=("POST",))
def stock_expire_lot(warehouse_id: int, product_id: int, lot_id: int):
    warehouse, product = _load(warehouse_id, product_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        lot = operations.lot_in(warehouse.id, lot_id)
        if lot.product_id != product.id:
            abort(404)
        return ask_confirmation(_("报废批次 %(b)s 的全部库存（%(n)d）？", b=lot.batch_no, n=lot.on_hand),
                                back_url=url_for(".stock_product", warehouse_id=warehouse.id, product_id=product.id))
    outcome = attempt(None, _expire_lot, warehouse.id, product.id, lot_id, current_user.id)
    if outcome.ok:
        flash(_("已报废过期库存 %(n)d。", n=outcome.result), "success")
    else:
        flash(outcome.error.message, "error")
    return redirect_to(url_for(".stock_product", warehouse_id=warehouse.id, product_id=product.id))
