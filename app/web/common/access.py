"""Who may see what: one guard per role blueprint, admin permissions, and the caller's org."""
from functools import wraps

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from app.models import Organisation
from app.web.common.htmx import is_htmx, redirect_to


def login_redirect():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        return redirect_to(target)
    return redirect_to(target, code=302)


def guard_role(bp: Blueprint, role: str) -> None:
    """Anonymous callers go to the login page (with next=); other roles get 403."""

    @bp.before_request
    def _require_role():
        if not current_user.is_authenticated:
            return login_redirect()
        if current_user.role != role:
            abort(403)
        return None


def permission_required(permission: str):
    """For admin views: the admin must hold `permission` (see app.models.user.PERMISSIONS)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_org() -> Organisation:
    return current_user.org
