"""A retailer's card (only retailers on the rep's route; any other id is a 404) and the visit
check-in, in place with htmx or by plain POST."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.core.clock import today_local
from app.services.field_sales import portal as rep_portal
from app.services.loyalty import queries as loyalty_queries
from app.services.loyalty.tiers import TIER_LABELS
from app.web.common.envelope import attempt
from app.web.common.htmx import is_htmx, redirect_to, render_page
from app.web.common.listing import STATUS_LABELS
from app.web.rep import bp
from app.web.rep.forms import WEEKDAY_LABELS, VisitForm


def _card(retailer_id: int, visit_form: VisitForm | None = None, status: int = 200):
    card = rep_portal.retailer_card(current_user, retailer_id)  # NotFound off the rep's route: 404
    return render_page("rep/retailer.html", status=status, card=card, retailer=card.retailer,
                       visits=card.visits, visit_form=visit_form or VisitForm(formdata=None), notice=None,
                       status_labels=STATUS_LABELS, weekdays=WEEKDAY_LABELS,
                       overdue_days=rep_portal.OVERDUE_AFTER_DAYS, usual=card.usual,
                       usual_days=rep_portal.USUAL_PRODUCTS_DAYS, usual_in_place=False,
                       points=loyalty_queries.summary(card.retailer.id, today_local()), tier_labels=TIER_LABELS)


@bp.get("/retailers/<int:retailer_id>")
def retailer_card(retailer_id: int):
    return _card(retailer_id)


@bp.post("/retailers/<int:retailer_id>/visits")
def visit_check_in(retailer_id: int):
    form = VisitForm()
    if form.validate_on_submit() and attempt(form, rep_portal.check_in, current_user, retailer_id,
                                             form.note.data).ok:
        return _checked_in(retailer_id)
    if is_htmx():
        retailer, _route = rep_portal.rep_retailer(current_user, retailer_id)
        return render_page("rep/_visits.html", status=422, retailer=retailer,
                           visits=rep_portal.recent_visits(retailer), visit_form=form, notice=None)
    return _card(retailer_id, form, status=400)


def _checked_in(retailer_id: int):
    message = _("已签到。")
    if is_htmx():
        retailer, _route = rep_portal.rep_retailer(current_user, retailer_id)
        return render_page("rep/_visits.html", retailer=retailer, visits=rep_portal.recent_visits(retailer),
                           visit_form=VisitForm(formdata=None), notice=message)
    flash(message, "success")
    return redirect_to(url_for("rep.retailer_card", retailer_id=retailer_id) + "#visits")
