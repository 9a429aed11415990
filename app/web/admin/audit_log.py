"""Admin: the audit log, newest first, filtered by entity and id (any admin may read it)."""
from flask import request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import IntegerField, StringField
from wtforms.validators import NumberRange, Optional

from app.services.core.audit_log import KNOWN_ENTITIES, events_query
from app.services.core.audit_readable import readable
from app.services.core.paging import paginate
from app.web.admin import bp
from app.web.common.fields import AUDIENCE_LABELS, CHANNEL_LABELS, form_status
from app.web.common.htmx import render_page


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    entity = StringField(_l("对象类型"), validators=[Optional()])
    entity_id = IntegerField(_l("对象编号"), validators=[Optional(), NumberRange(min=1)])


@bp.route("/audit")
def audit_log():
    filters = AuditFilterForm(formdata=request.args)
    valid = filters.validate()
    entity = (filters.entity.data or "").strip()
    entity_id = filters.entity_id.data if valid else None
    page = paginate(events_query(entity or None, entity_id), request.args.get("page", 1, type=int), 50,
                    scalars=False)
    args = {"entity": entity, "entity_id": entity_id or ""}
    return render_page("admin/audit/list.html", "admin/audit/_results.html", filters=filters, listing=page,
                       events=readable_events(page.items), args=args, entities=KNOWN_ENTITIES,
                       status=form_status(filters))


def readable_events(rows):
    """Audit rows as people read them (labels, yuan, names), for the log and a record's history."""
    return readable(rows, str(get_locale()), {"channel": CHANNEL_LABELS, "audience": AUDIENCE_LABELS})
