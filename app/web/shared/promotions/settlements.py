"""Promotion settlement pages. Admins with "marketing": the runs with each dealer's draft, a
form to run a period now (month by default; inline without REDIS_URL, on RQ otherwise) and
approve, which posts the credit note. A dealer: its own settlements and what it has earned to
date (another dealer's settlement is never listed; there is no dealer route taking an id)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField
from wtforms.validators import InputRequired

from app.extensions import db
from app.services.promotions import settlement
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm, Form
from app.web.common.htmx import redirect_to, render_page, wants_fragment


class SettlementRunForm(Form):
    period_start = DateField(_l("开始日期"), validators=[InputRequired(message=_l("请输入开始日期。"))])
    period_end = DateField(_l("结束日期（含）"), validators=[InputRequired(message=_l("请输入结束日期。"))])


def _queue_run(period_start, period_end, actor_id):
    """Check the period, then run it after the commit (RQ, or inline without REDIS_URL)."""
    from app.queue import enqueue_after_commit
    from jobs.promotions import job_id

    settlement.check_period(period_start, period_end)
    start, end = period_start.isoformat(), period_end.isoformat()
    enqueue_after_commit("jobs.promotions.settle_job", start, end, actor_id, job_id=job_id(start, end), timeout=3600)


def register_admin_settlement_pages(bp: Blueprint, guard) -> None:
    def page(form, status=200):
        return render_page("shared/promotions/settlements_admin.html", status=status, layout="admin/layout.html",
                           endpoint=bp.name, form=form, runs=settlement.recent_runs(), action_form=ActionForm())

    def settlements_admin():
        guard()
        form = SettlementRunForm(formdata=None)
        form.period_start.data, form.period_end.data = settlement.default_period()
        return page(form)

    def settlement_run():
        guard()
        form = SettlementRunForm()
        if not form.validate_on_submit():
            return page(form, 400)
        outcome = attempt(form, _queue_run, form.period_start.data, form.period_end.data, current_user.id)
        if not outcome.ok:
            return page(form, outcome.status)
        flash(_("结算已开始；完成后草稿出现在下方。"), "success")
        return redirect_to(url_for(f"{bp.name}.settlements_admin"))

    def settlement_approve(settlement_id: int):
        guard()
        if not ActionForm().validate_on_submit():
            abort(400)
        flash_outcome(attempt(None, settlement.approve, current_user, settlement_id),
                      _("已批准，红字已入经销商账户。"))
        return redirect_to(url_for(f"{bp.name}.settlements_admin"))

    def settlement_run_status(run_id: int):
        """The run's section, which htmx polls while the run is running; the whole page without htmx."""
        guard()
        run = settlement.run_with_settlements(run_id)
        if not wants_fragment():
            return redirect_to(url_for(f"{bp.name}.settlements_admin"))
        return render_page("shared/promotions/_settlement_run.html", endpoint=bp.name, run=run, action_form=ActionForm())

    bp.add_url_rule("/promotions/settlements", "settlements_admin", settlements_admin)
    bp.add_url_rule("/promotions/settlements/runs/<int:run_id>", "settlement_run_status", settlement_run_status)
    bp.add_url_rule("/promotions/settlements", "settlement_run", settlement_run, methods=["POST"])
    bp.add_url_rule("/promotions/settlements/<int:settlement_id>/approve", "settlement_approve",
                    settlement_approve, methods=["POST"])


def register_dealer_settlement_pages(bp: Blueprint) -> None:
    def settlements_dealer():
        earned, settled = settlement.dealer_earned_to_date(current_user.org_id)
        return render_page("shared/promotions/settlements_dealer.html", layout="dealer/layout.html",
                           endpoint=bp.name, rows=settlement.dealer_settlements(current_user.org_id),
                           earned_fen=earned, settled_fen=settled)

    bp.add_url_rule("/promotions/settlements", "settlements_dealer", settlements_dealer)
