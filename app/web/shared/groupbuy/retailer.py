"""The retailer's group-buy pages (phone first, no JavaScript needed): the campaigns of its
territory, and one campaign with the live pool, the ladder, the price now, its commitment and
the commit/raise/withdraw forms. The pool fragment polls itself every 30 s with htmx; without
JS a reload shows the same numbers (the page is built from the same fragment)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.campaigns import groupbuy
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.groupbuy.forms import CommitForm


def register_retailer_groupbuys(bp: Blueprint) -> None:
    def campaign_page(campaign_id: int, form: CommitForm | None = None, status: int = 200, fragment: str | None = None):
        campaign = groupbuy.campaign_for(current_user, campaign_id)
        mine = groupbuy.my_commitment(campaign, current_user.org_id)
        if form is None:
            form = CommitForm(formdata=None)
            if mine is not None and mine.status == groupbuy.ACTIVE:
                form.qty.data = mine.qty
        return render_page("retailer/groupbuy.html", fragment, status=status, campaign=campaign,
                           pool=groupbuy.pool_view(campaign), mine=mine, form=form, action_form=ActionForm())

    def groupbuys():
        campaigns = groupbuy.list_campaigns(current_user)
        return render_page("retailer/groupbuys.html", campaigns=campaigns, pool_view=groupbuy.pool_view)

    def groupbuy_page(campaign_id: int):
        return campaign_page(campaign_id)

    def groupbuy_pool(campaign_id: int):
        """The pool fragment for htmx polling; the whole page for anything else."""
        return campaign_page(campaign_id, fragment="retailer/_groupbuy_pool.html")

    def groupbuy_commit(campaign_id: int):
        groupbuy.campaign_for(current_user, campaign_id)
        form = CommitForm()
        if not form.validate_on_submit():
            return campaign_page(campaign_id, form, 400)
        outcome = attempt(form, groupbuy.commit_quantity, current_user, current_user.org, campaign_id, form.qty.data)
        if not outcome.ok:
            return campaign_page(campaign_id, form, outcome.status)
        flash(_("已认购 %(n)d 箱，订单 %(number)s。", n=outcome.result.qty, number=outcome.result.order.number), "success")
        return redirect_to(url_for("retailer.groupbuy_page", campaign_id=campaign_id))

    def groupbuy_withdraw(campaign_id: int):
        groupbuy.campaign_for(current_user, campaign_id)
        if not ActionForm().validate_on_submit():
            abort(400)
        flash_outcome(attempt(None, groupbuy.withdraw, current_user, current_user.org, campaign_id),
                      _("已退出团购，订单已取消。"))
        return redirect_to(url_for("retailer.groupbuy_page", campaign_id=campaign_id))

    bp.add_url_rule("/groupbuys", "groupbuys", groupbuys)
    bp.add_url_rule("/groupbuys/<int:campaign_id>", "groupbuy_page", groupbuy_page)
    bp.add_url_rule("/groupbuys/<int:campaign_id>/pool", "groupbuy_pool", groupbuy_pool)
    bp.add_url_rule("/groupbuys/<int:campaign_id>/commit", "groupbuy_commit", groupbuy_commit, methods=["POST"])
    bp.add_url_rule("/groupbuys/<int:campaign_id>/withdraw", "groupbuy_withdraw", groupbuy_withdraw, methods=["POST"])
