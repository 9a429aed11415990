"""A buyer withdrawing its own order before the seller accepts it (retailer orders, a dealer's
replenishment orders): the form, the same for both."""
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.services.ordering import lifecycle
from app.web.common.forms import Form


class CancelForm(Form):
    """The reason the seller reads (the service requires one and says so next to the field)."""

    note = TextAreaField(_l("取消原因"), validators=[Optional(), Length(max=lifecycle.MAX_NOTE)],
                         render_kw={"rows": 2, "maxlength": lifecycle.MAX_NOTE})
