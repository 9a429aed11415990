"""The dealer's carriers: whose proof of delivery it trusts (a trusted carrier's `delivered`
event signs its orders off; otherwise the event is only shown)."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_babel import get_locale
from wtforms import SelectChoice, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.logistics.carriers import carriers
from app.services.logistics.tracking import set_trusted_carriers, trusted_carriers
from app.web.common.envelope import attempt
from app.web.common.fields import form_status
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page
from app.web.dealer import bp


class CarrierTrustForm(Form):
    trusted = SelectMultipleField(_l("信任其签收凭证的承运商"), choices=[], widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())


@bp.route("/carriers", methods=["GET", "POST"])
def carriers_settings():
    known = carriers()
    form = CarrierTrustForm()
    language = str(get_locale() or "zh")[:2]
    form.trusted.choices = [SelectChoice(code, found.label(language)) for code, found in sorted(known.items())]
    if form.validate_on_submit():
        outcome = attempt(form, set_trusted_carriers, current_user.id, current_user.org_id, set(form.trusted.data or []),
                          set(known))
        if outcome.ok:
            flash(_("承运商设置已保存。"), "success")
            return redirect_to(url_for("dealer.carriers_settings"))
    elif not form.is_submitted():
        form.trusted.data = sorted(trusted_carriers(current_user.org_id))
    return render_page("dealer/carriers.html", "dealer/_carriers_form.html", status=form_status(form), form=form,
                       has_carriers=bool(known))
