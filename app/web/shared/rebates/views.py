"""Rebate pages. The brand (admins holding "marketing", like the promotion pages): agreements list
and form, one agreement's accruals (XLSX export), settlement runs with drafts to approve, and the
exposure (projected rebates of the current periods, XLSX export). A dealer: its agreements with
progress and the maths, one agreement's statement (accruals and settlements), its rebate
balance with the ledger. Every dealer query goes through the dealer's own scope
(agreements.for_dealer, its id): another dealer's agreement is a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField
from wtforms.validators import InputRequired

from app.models.rebates import REBATE_VOCABULARY
from app.services.core.clock import today_local
from app.services.rebates import agreements, balance, reports, settlement
from app.web.common.access import current_org
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm, Form
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.analytics.views import xlsx_response
from app.web.shared.rebates.forms import AgreementForm

ADMIN = "admin/layout.html"
DEALER = "dealer/layout.html"


class RunForm(Form):
    as_of = DateField(_l("结算截止日期（含）"), validators=[InputRequired(message=_l("请输入结算截止日期。"))])


def _page(template, bp_name, layout, status=200, **context):
    return render_page(template, status=status, layout=layout, endpoint=bp_name, rebate_vocabulary=REBATE_VOCABULARY,
                       **context)


def _queue_run(as_of, actor_id):
    """Check the day, then run after the commit (RQ, or inline without REDIS_URL)."""
    from app.queue import enqueue_after_commit
    from jobs.rebates import job_id

    settlement.check_as_of(as_of)
    enqueue_after_commit("jobs.rebates.settle_job", as_of.isoformat(), actor_id, job_id=job_id(as_of.isoformat()),
                         timeout=3600)


def _accrual_rows(rows, names):
    return [[a.occurred_on.isoformat(), names.get(a.dealer_id, ""), a.source_kind, a.source_ref,
             a.period_start.isoformat(), a.base_value] for a in rows]


ACCRUAL_HEADERS = ["日期", "经销商", "单据类型", "单据号", "所属期间", "计入基数（分或箱）"]


def register_admin_rebate_pages(bp: Blueprint, guard) -> None:
    def page(template, status=200, **context):
        return _page(template, bp.name, ADMIN, status, **context)

    def save(form, agreement_id):
        if form.validate_on_submit():
            outcome = attempt(form, agreements.save, current_user, form.values(), agreement_id)
            if outcome.ok:
                flash(_("返利协议 %(code)s 已保存。", code=outcome.result.code), "success")
                return redirect_to(url_for(f"{bp.name}.rebates_list"))
            status = outcome.status
        else:
            status = 400
        return page("shared/rebates/form.html", status, form=form, agreement_id=agreement_id)

    def rebates_list():
        guard()
        return page("shared/rebates/admin_list.html", rows=agreements.all_agreements(),
                    tier_counts=agreements.dealer_counts())

    def rebate_new():
        guard()
        form = AgreementForm(formdata=None)
        form.starts_on.data = today_local().replace(day=1)
        return page("shared/rebates/form.html", form=form, agreement_id=None)

    def rebate_create():
        guard()
        return save(AgreementForm(), None)

    def rebate_edit(agreement_id: int):
        guard()
        form = AgreementForm(formdata=None)
        form.fill(agreements.get(agreement_id))
        return page("shared/rebates/form.html", form=form, agreement_id=agreement_id)

    def rebate_update(agreement_id: int):
        guard()
        agreements.get(agreement_id)
        return save(AgreementForm(), agreement_id)

    def rebate_accruals(agreement_id: int):
        guard()
        agreement = agreements.get(agreement_id)
        totals = reports.period_totals(agreement_id)
        rows = reports.accruals(agreement_id, limit=200)
        return page("shared/rebates/accruals.html", agreement=agreement, totals=totals, rows=rows,
                    names=reports.dealer_names({t[0] for t in totals} | {r.dealer_id for r in rows}))

    def rebate_accruals_export(agreement_id: int):
        guard()
        agreement = agreements.get(agreement_id)
        rows = reports.accruals(agreement_id, limit=None)
        names = reports.dealer_names({r.dealer_id for r in rows})
        return xlsx_response(ACCRUAL_HEADERS, _accrual_rows(rows, names), "accruals", f"rebate-{agreement.code}.xlsx")

    def rebate_settlements():
        guard()
        form = RunForm(formdata=None)
        form.as_of.data = settlement.default_as_of()
        return page("shared/rebates/settlements.html", form=form, runs=settlement.recent_runs(),
                    action_form=ActionForm())

    def rebate_settlement_run():
        guard()
        form = RunForm()
        if form.validate_on_submit():
            outcome = attempt(form, _queue_run, form.as_of.data, current_user.id)
            if outcome.ok:
                flash(_("结算已开始；完成后草稿出现在下方。"), "success")
                return redirect_to(url_for(f"{bp.name}.rebate_settlements"))
            status = outcome.status
        else:
            status = 400
        return page("shared/rebates/settlements.html", status, form=form, runs=settlement.recent_runs(),
                    action_form=ActionForm())

    def rebate_settlement_approve(settlement_id: int):
        guard()
        if not ActionForm().validate_on_submit():
            abort(400)
        flash_outcome(attempt(None, settlement.approve, current_user, settlement_id), _("已批准并入账。"))
        return redirect_to(url_for(f"{bp.name}.rebate_settlements"))

    def rebate_exposure():
        guard()
        rows = reports.exposure()
        return page("shared/rebates/exposure.html", rows=rows, total_earned=sum(r.progress.earned_fen for r in rows),
                    total_due=sum(r.due_fen for r in rows))

    def rebate_exposure_export():
        guard()
        rows = [[r.dealer.code, r.dealer.name, r.agreement.code, r.period_start.isoformat(), r.period_end.isoformat(),
                 r.progress.base, r.progress.earned_fen, r.settled_fen, r.pending_fen, r.due_fen] for r in reports.exposure()]
        return xlsx_response(["经销商编码", "经销商", "协议", "期间开始", "期间结束", "基数（分或箱）", "预计返利（分）",
                              "已结算（分）", "待审批（分）",
                              "待结算（分）"], rows, "exposure", "rebate-exposure.xlsx")

    bp.add_url_rule("/rebates/", "rebates_list", rebates_list)
    bp.add_url_rule("/rebates/new", "rebate_new", rebate_new)
    bp.add_url_rule("/rebates/new", "rebate_create", rebate_create, methods=["POST"])
    bp.add_url_rule("/rebates/<int:agreement_id>/edit", "rebate_edit", rebate_edit)
    bp.add_url_rule("/rebates/<int:agreement_id>/edit", "rebate_update", rebate_update, methods=["POST"])
    bp.add_url_rule("/rebates/<int:agreement_id>/accruals", "rebate_accruals", rebate_accruals)
    bp.add_url_rule("/rebates/<int:agreement_id>/accruals.xlsx", "rebate_accruals_export", rebate_accruals_export)
    bp.add_url_rule("/rebates/settlements", "rebate_settlements", rebate_settlements)
    bp.add_url_rule("/rebates/settlements", "rebate_settlement_run", rebate_settlement_run, methods=["POST"])
    bp.add_url_rule("/rebates/settlements/<int:settlement_id>/approve", "rebate_settlement_approve",
                    rebate_settlement_approve, methods=["POST"])
    bp.add_url_rule("/rebates/exposure", "rebate_exposure", rebate_exposure)
    bp.add_url_rule("/rebates/exposure.xlsx", "rebate_exposure_export", rebate_exposure_export)


def register_dealer_rebate_pages(bp: Blueprint) -> None:
    def page(template, **context):
        return _page(template, bp.name, DEALER, **context)

    def rebates_mine():
        dealer = current_org()
        return page("shared/rebates/dealer_list.html",
                    standings=reports.dealer_standings(dealer, agreements.for_dealer(dealer)),
                    balance_fen=balance.balance_of(dealer.id))

    def rebate_statement(agreement_id: int):
        dealer = current_org()
        agreement = agreements.for_dealer(dealer, agreement_id)
        [standing] = reports.dealer_standings(dealer, [agreement])
        return page("shared/rebates/dealer_statement.html", standing=standing,
                    totals=reports.period_totals(agreement.id, dealer.id),
                    rows=reports.accruals(agreement.id, dealer.id, limit=200),
                    settlements=[s for s in settlement.dealer_settlements(dealer.id) if s.agreement_id == agreement.id])

    def rebate_statement_export(agreement_id: int):
        dealer = current_org()
        agreement = agreements.for_dealer(dealer, agreement_id)
        rows = reports.accruals(agreement.id, dealer.id, limit=None)
        return xlsx_response(ACCRUAL_HEADERS, _accrual_rows(rows, {dealer.id: dealer.name}), "accruals",
                             f"rebate-{agreement.code}.xlsx")

    def rebate_balance():
        dealer = current_org()
        return page("shared/rebates/dealer_balance.html", balance_fen=balance.balance_of(dealer.id),
                    entries=balance.ledger(dealer.id))

    bp.add_url_rule("/rebates/", "rebates_mine", rebates_mine)
    bp.add_url_rule("/rebates/<int:agreement_id>", "rebate_statement", rebate_statement)
    bp.add_url_rule("/rebates/<int:agreement_id>/accruals.xlsx", "rebate_statement_export", rebate_statement_export)
    bp.add_url_rule("/rebates/balance", "rebate_balance", rebate_balance)
