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
