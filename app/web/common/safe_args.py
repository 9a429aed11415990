"""The query-string and form-body layer: `request.args.get(name, default, type=int)` and friends
never hand a view a value that would break the database.

Views read filters as `request.args.get("page", 1, type=int)`; a value with control characters
or a whole number beyond the database's integer range is treated like any other unusable value
(the default), and `request.args["x"]` answers 400. Forms read the raw values through
`getlist()` without a type, so the form layer (app/web/common/forms.py) can put its message next
to the field."""
from __future__ import annotations

from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequestKeyError

from app.web.common.forms import has_control_characters, int_in_range


def usable(value) -> bool:
    if isinstance(value, str):
        return not has_control_characters(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int_in_range(value)
    return True


class SafeArgs(ImmutableMultiDict):
    def __getitem__(self, key):
        value = super().__getitem__(key)
        if not usable(value):
            raise BadRequestKeyError(key)
        return value

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        try:
            value = self[key]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            value = type(value)
        except (ValueError, TypeError):
            return default
        return value if usable(value) else default

    def getlist(self, key, type=None):  # noqa: A002
        values = super().getlist(key, type=type)
        return values if type is None else [v for v in values if usable(v)]


class SafeRequest(HtmxAwareRequest):
    """htmx-flask's request (request.htmx) with the safe argument storage."""

    parameter_storage_class = SafeArgs
