"""Shared by the order pages of every role: filter forms read from the query string and the
labels of order statuses and channels (the vocabulary's: app/models/vocabulary.py)."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import IntegerField, SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from app.models import OrderChannel, OrderStatus

STATUS_LABELS = OrderStatus.labels()  # the one map, under the name the order pages use
CHANNEL_LABELS = OrderChannel.labels()


class GetForm(Form):
    """A search/filter form read from the query string: no CSRF, bad values fall back to defaults."""

    class Meta:
        csrf = False

    page = IntegerField(validators=[Optional()], invalid_value_message=_l("页码无效。"))

    def clean(self, name: str, default=None):
        field = getattr(self, name)
        return default if field.errors or field.data in (None, "") else field.data


class OrderFilterForm(GetForm):
    status = SelectField(_l("状态"), choices=[SelectChoice("", _l("全部状态"))]
                         + [SelectChoice(value, label) for value, label in STATUS_LABELS.items()],
                         validators=[Optional()])
    q = SearchField(_l("搜索"), validators=[Optional(), Length(max=40)],
                    render_kw={"placeholder": _l("订单号或客户")})

    def criteria(self) -> dict:
        self.validate()
        return {"status": self.clean("status") or None, "search": self.clean("q", ""),
                "page": self.clean("page", 1)}
