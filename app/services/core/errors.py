"""Errors a service raises for the caller to show next to a field or as a message."""


class DomainError(Exception):
    """A rule was broken. `field` names the form field (or JSON key) the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


def checked_text(value: str | None, field: str, limit: int, required_message: str | None = None) -> str:
    """Typed text, stripped: refused (next to `field`) when required and empty, or longer than
    `limit` characters."""
    from flask_babel import gettext as _

    value = (value or "").strip()
    if required_message and not value:
        raise DomainError(required_message, field=field)
    if len(value) > limit:
        raise DomainError(_("最多 %(n)d 个字。", n=limit), field=field)
    return value
