"""Rep forms: the route's day and search (GET), a visit check-in."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import IntegerField, SearchField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.services.field_sales.portal import MAX_SEARCH_LENGTH, MAX_VISIT_NOTE
from app.web.common.listing import GetForm

WEEKDAY_LABELS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))


class RouteForm(GetForm):
    day = IntegerField(validators=[Optional(), NumberRange(min=0, max=6)])
    q = SearchField(_l("找客户"), validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
                    render_kw={"placeholder": _l("店名或编码（所有日子）")})

    def criteria(self, today: int) -> dict:
        self.validate()
        return {"weekday": self.clean("day", today), "search": self.clean("q", ""), "page": self.clean("page", 1)}


class VisitForm(Form):
    note = TextAreaField(_l("拜访记录"), validators=[
        DataRequired(message=_l("请填写拜访记录。")),
        Length(max=MAX_VISIT_NOTE, message=_l("拜访记录最多 %(max)d 个字。"))],
        render_kw={"rows": 3, "maxlength": MAX_VISIT_NOTE,
                   "placeholder": _l("例如：陈列检查、库存情况、客户反馈")})
