"""Shared form helpers."""
from flask_wtf import FlaskForm

from app.services.core.errors import DomainError


class ActionForm(FlaskForm):
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
