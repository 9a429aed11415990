"""The campaign desk, mounted on admin (brand campaigns for a region; "marketing" permission)
and dealer (its own campaigns for the shops it serves): list, create/edit a draft, publish,
detail with the pool and every shop's commitment, close now. Campaigns are found only through
groupbuy.campaign_for(caller, id): another dealer's is a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.campaigns import groupbuy, groupbuy_admin
from app.web.common.envelope import attempt, flash_outcome
from app.web.common.forms import ActionForm
from app.web.common.htmx import redirect_to, render_page
from app.web.shared.groupbuy.forms import CampaignForm


def register_groupbuy_desk(bp: Blueprint, layout: str, guard=None) -> None:
    def check():
        if guard is not None:
            guard()

    def page(template, status=200, **context):
        return render_page(template, status=status, layout=layout, endpoint=bp.name, **context)

    def save(form, campaign_id):
        if form.validate_on_submit():
            outcome = attempt(form, groupbuy_admin.save_campaign, current_user, form.values(), campaign_id)
            if outcome.ok:
                flash(_("团购“%(name)s”已保存（草稿）。", name=outcome.result.name), "success")
                return redirect_to(url_for(f"{bp.name}.groupbuy_detail", campaign_id=outcome.result.id))
            status = outcome.status
        else:
            status = 400
        return page("shared/groupbuy/form.html", status, form=form, campaign_id=campaign_id)

    def groupbuy_list():
        check()
        served = groupbuy.brand_campaigns_served_by(current_user.org_id) if bp.name == "dealer" else []
        return page("shared/groupbuy/list.html", campaigns=groupbuy.list_campaigns(current_user),
                    pool_view=groupbuy.pool_view, served=served)

    def groupbuy_shops(campaign_id: int):
        """A dealer's shops in one of the brand's campaigns (the brand runs it; the dealer serves them)."""
        campaign, commitments = groupbuy.served_commitments(current_user.org_id, campaign_id)
        return page("shared/groupbuy/shops.html", campaign=campaign, commitments=commitments)

    def groupbuy_new():
        check()
        return page("shared/groupbuy/form.html", form=CampaignForm(formdata=None), campaign_id=None)

    def groupbuy_create():
        check()
        return save(CampaignForm(), None)

    def groupbuy_edit(campaign_id: int):
        check()
        campaign = groupbuy.campaign_for(current_user, campaign_id)
        form = CampaignForm(formdata=None)
        form.fill(campaign)
        return page("shared/groupbuy/form.html", form=form, campaign_id=campaign.id)

    def groupbuy_update(campaign_id: int):
        check()
        groupbuy.campaign_for(current_user, campaign_id)
        return save(CampaignForm(), campaign_id)

    def groupbuy_detail(campaign_id: int):
        check()
        campaign = groupbuy.campaign_for(current_user, campaign_id)
        return page("shared/groupbuy/detail.html", campaign=campaign, pool=groupbuy.pool_view(campaign),
                    commitments=groupbuy.commitments_of(campaign), action_form=ActionForm())

    def action(campaign_id: int, service, done: str):
        check()
        groupbuy.campaign_for(current_user, campaign_id)
        if not ActionForm().validate_on_submit():
            abort(400)
        flash_outcome(attempt(None, service, current_user, campaign_id), done)
        return redirect_to(url_for(f"{bp.name}.groupbuy_detail", campaign_id=campaign_id))

    def groupbuy_publish(campaign_id: int):
        return action(campaign_id, groupbuy_admin.publish_campaign, _("团购已发布，区域内的门店可以参团。"))

    def groupbuy_close(campaign_id: int):
        return action(campaign_id, groupbuy_admin.request_close, _("正在结束团购：成团则按成团价退差价，未成团则取消订单。"))

    bp.add_url_rule("/groupbuys", "groupbuy_list", groupbuy_list)
    bp.add_url_rule("/groupbuys/new", "groupbuy_new", groupbuy_new)
    bp.add_url_rule("/groupbuys/new", "groupbuy_create", groupbuy_create, methods=["POST"])
    bp.add_url_rule("/groupbuys/<int:campaign_id>", "groupbuy_detail", groupbuy_detail)
    bp.add_url_rule("/groupbuys/<int:campaign_id>/edit", "groupbuy_edit", groupbuy_edit)
    bp.add_url_rule("/groupbuys/<int:campaign_id>/edit", "groupbuy_update", groupbuy_update, methods=["POST"])
    if bp.name == "dealer":
        bp.add_url_rule("/groupbuys/<int:campaign_id>/shops", "groupbuy_shops", groupbuy_shops)
    bp.add_url_rule("/groupbuys/<int:campaign_id>/publish", "groupbuy_publish", groupbuy_publish, methods=["POST"])
    bp.add_url_rule("/groupbuys/<int:campaign_id>/close", "groupbuy_close", groupbuy_close, methods=["POST"])
