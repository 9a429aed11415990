"""Shared form helpers, and `Form`, the base of every form of the project.

`Form` guards every field, whatever its own validators, against input that would break the
database:
- control characters (NUL breaks PostgreSQL text; the others are never typed) in any text value
  are refused: the value never reaches `.data`, the message goes next to the field, and no inline
  `validate_<field>` query ever sees it;
- a whole number beyond the database's integer range becomes the nearest number the database
  holds, so the field's own rules answer it with their usual message (a quantity "cannot exceed
  9999", "this product does not exist") and no query overflows."""
from __future__ import annotations

import re

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, StringField
from wtforms.i18n import messages_path

from app.services.core.errors import DomainError

# C0 controls but tab, newline and carriage return (a textarea sends those), DEL, and the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# PostgreSQL's integer; money fields (YuanField, text in yuan) have their own bound.
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1

CONTROL_MESSAGE = _l("不能包含控制字符。")


def has_control_characters(value: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(value))


def int_in_range(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def _leaf_fields(fields):
    for field in fields:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        else:
            yield field


def input_problem(field: Field) -> str | None:
    """Why the submitted value can never be right for any field, or None."""
    for value in field.raw_data or ():
        if isinstance(value, str) and has_control_characters(value):
            return str(CONTROL_MESSAGE)
    return None


def _clamp(value):
    if isinstance(value, int) and not isinstance(value, bool) and not int_in_range(value):
        return max(INT_MIN, min(INT_MAX, value))
    return value


def clamp_to_database_range(field: Field) -> None:
    """Whole numbers (not money typed in yuan: YuanField is text with its own bound)."""
    if isinstance(field, StringField):
        return
    if isinstance(field.data, list):
        field.data = [_clamp(v) for v in field.data]
    else:
        field.data = _clamp(field.data)


class _WTFormsTranslations:
    """WTForms' own messages in the request's language. Flask-WTF reads and parses WTForms'
    catalog file from disk once per request that builds a form (~0.4 ms); the catalogs never
    change while the process runs, so each language's is loaded once per process."""

    @staticmethod
    def _catalog():
        locale = str(get_locale())
        catalogs = current_app.extensions.setdefault("wtforms_catalogs", {})
        catalog = catalogs.get(locale)
        if catalog is None:
            catalog = catalogs[locale] = support.Translations.load(messages_path(), [locale], domain="wtforms")
        return catalog

    def gettext(self, string):
        return self._catalog().ugettext(string)

    def ngettext(self, singular, plural, n):
        return self._catalog().ungettext(singular, plural, n)


_WTFORMS_TRANSLATIONS = _WTFormsTranslations()


class Form(FlaskForm):
    """The project's form base: see the module docstring."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _WTFORMS_TRANSLATIONS

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """A value no field may hold never reaches `.data` (it becomes None), so even a view
        that reads a filter form without validating it cannot send it to the database; the
        problem is kept for validate() to show next to the field."""
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
        self._input_problems = {}
        for leaf in _leaf_fields(self):
            clamp_to_database_range(leaf)
            problem = input_problem(leaf)
            if problem:
                self._input_problems[id(leaf)] = problem
                leaf.data = None
                leaf.raw_data = [CONTROL_CHARACTERS.sub("", v) if isinstance(v, str) else v
                                 for v in leaf.raw_data or ()]

    def validate(self, extra_validators=None) -> bool:
        problems = getattr(self, "_input_problems", {})
        if not problems:
            return super().validate(extra_validators)
        for field in self:
            leaves = list(_leaf_fields([field]))
            if not any(id(leaf) in problems for leaf in leaves):
                # The field's own checks (a choice not offered, a length), so a view that reads
                # a filter form's valid fields gets no unchecked value; not the form's inline
                # validate_<field> methods, which may read the bad fields.
                field.validate(self)
                continue
            for leaf in leaves:
                leaf.errors = [problems[id(leaf)]] if id(leaf) in problems else []
            if isinstance(field, FieldList):  # a list of rows reports its rows' errors
                field.errors = [entry.errors for entry in field.entries]
        return False


class ActionForm(Form):
    """An empty form for button-only actions: it carries the CSRF token."""


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's error next to its field, or above the form when it names none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(error.message)
    else:
        form.form_errors.append(error.message)
