"""Form fields, choices and error helpers shared by the admin, dealer and credit pages."""
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.fields.choices import SelectChoice

from app.models import ProductStatus
from app.services.core.errors import DomainError
from app.services.core.money import parse_yuan, yuan_text
from app.web.common.forms import show_error
from app.web.common.htmx import is_htmx

STATUS_LABELS = ProductStatus.labels()
AUDIENCE_LABELS = {"dealer": _l("经销商"), "retailer": _l("零售商")}
CHANNEL_LABELS = {"kiosk": _l("小卖部"), "convenience": _l("便利店"), "supermarket": _l("超市"), "catering": _l("餐饮")}
TIER_LABELS = {"A": "A", "B": "B", "C": "C"}
UNIT_SUGGESTIONS = ("箱", "提", "件", "包", "盒", "袋", "瓶", "罐", "桶")


def choices(labels: dict, blank=None) -> list[SelectChoice]:
    """Select choices from a label dict; `blank` adds a first empty choice ("any")."""
    pairs = ([("", blank)] if blank is not None else []) + list(labels.items())
    return [SelectChoice(value, label) for value, label in pairs]


class YuanField(StringField):
    """Money typed in yuan ("48.50"); `.data` is integer fen, None when left empty.
    Parsing is exact (Decimal): negatives, more than two decimals and non-numbers are refused."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_yuan(valuelist[0])
        except DomainError as error:
            self.data = None
            raise ValueError(error.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return yuan_text(self.data)


def show_errors(form, error: DomainError) -> None:
    """Every problem of a service error (InvalidInput carries several) next to its field."""
    for problem in getattr(error, "errors", None) or [error]:
        show_error(form, problem)


def form_status(*forms) -> int:
    """200, or for a form with errors 400 (422 for htmx, whose config swaps 422 responses in place)."""
    if any(form.errors for form in forms):
        return 422 if is_htmx() else 400
    return 200
