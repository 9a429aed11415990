"""Admin: contract prices for one customer, and the price check page (permission "pricing")."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import ContractPrice
from app.services.core.paging import paginate
from app.services.core.records import require
from app.services.pricing import admin as price_admin
from app.services.pricing.check import explain_price
from app.services.core.clock import today_local
from app.web.common.confirm import ask_confirmation, confirmed
from app.web.common.access import permission_required
from app.web.admin import bp
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.fields import form_status
from app.web.admin.price_forms import ContractFilterForm, ContractForm, PriceCheckForm
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page


@bp.route("/contracts")
@permission_required("pricing")
def contracts():
    filters = ContractFilterForm(formdata=request.args)
    args = {"customer_code": (filters.customer_code.data or "").strip(),
            "product_code": (filters.product_code.data or "").strip()}
    page = paginate(price_admin.contracts_query(**args), request.args.get("page", 1, type=int), 50, scalars=False)
    return render_page("admin/prices/contracts.html", filters=filters, listing=page, args=args,
                       action_form=ActionForm(), today=today_local())


def _save(form: ContractForm, contract: ContractPrice | None):
    outcome = attempt(form, price_admin.create_contract, current_user.id, form.service_values()) \
        if contract is None else attempt(form, price_admin.update_contract, current_user.id, contract,
                                         form.service_values())
    if not outcome.ok:
        return None
    codes = price_admin.contract_codes(contract or outcome.result)
    flash(_("客户 %(customer)s 的合同价已保存。", customer=codes["customer_code"]), "success")
    return redirect_to(url_for("admin.contracts", customer_code=codes["customer_code"]))


@bp.route("/contracts/new", methods=["GET", "POST"])
@permission_required("pricing")
def contract_new():
    form = ContractForm(customer_code=request.args.get("customer_code", ""))
    if form.validate_on_submit() and (done := _save(form, None)):
        return done
    return render_page("admin/prices/contract_form.html", form=form, contract=None, status=form_status(form))


@bp.route("/contracts/<int:contract_id>", methods=["GET", "POST"])
@permission_required("pricing")
def contract_edit(contract_id: int):
    contract = require(ContractPrice, contract_id)
    form = ContractForm(obj=contract, price=contract.price_fen, **price_admin.contract_codes(contract))
    if form.validate_on_submit() and (done := _save(form, contract)):
        return done
    return render_page("admin/prices/contract_form.html", form=form, contract=contract, status=form_status(form))


@bp.route("/contracts/<int:contract_id>/delete", methods=["POST"])
@permission_required("pricing")
def contract_delete(contract_id: int):
    contract = require(ContractPrice, contract_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_confirmation(_("删除这条合同价？"), back_url=url_for("admin.contract_edit", contract_id=contract.id))
    customer_code = price_admin.contract_codes(contract)["customer_code"]
    flash_outcome(attempt(None, price_admin.delete_contract, current_user.id, contract), _("合同价已删除。"))
    return redirect_to(url_for("admin.contracts", customer_code=customer_code))


@bp.route("/price-check")
@permission_required("pricing")
def price_check():
    """GET form: with a customer and a product, shows the price, its reason and every candidate."""
    form = PriceCheckForm(formdata=request.args if request.args else None)
    explanation = None
    if form.on.data is None and not form.on.raw_data:
        form.on.data = today_local()
    if request.args and form.validate():
        explanation = attempt(form, explain_price, form.customer_code.data, form.product_code.data, form.qty.data,
                              form.on.data or today_local()).result
    return render_page("admin/prices/price_check.html", form=form, explanation=explanation,
                       status=form_status(form))
