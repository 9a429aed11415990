from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, login_manager
from app.models import User
from app.services.accounts import users as accounts
from app.services.core.errors import DomainError
from app.web.common.access import login_redirect
from app.web.auth import bp
from app.web.auth.forms import ChangePasswordForm, LocaleForm, LoginForm
from app.web.common.forms import show_error
from app.web.common.htmx import redirect_to

HOMES = {"admin": "admin.home", "dealer": "dealer.home", "retailer": "retailer.home", "rep": "rep.home"}


@login_manager.user_loader
def load_user(user_id: str):
    try:
        uid, version = (int(x) for x in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    return login_redirect()


def home_url(user: User) -> str:
    return url_for(HOMES[user.role])


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an absolute or scheme-relative URL would be an open redirect.
    Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.com" and
    "/\\t/evil.com" are scheme-relative too: any backslash or control character is refused."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _next_for(user: User, target: str | None) -> str | None:
    """A next= for another role's pages would only end in a 403: keep the user's own."""
    target = safe_next(target)
    if not target:
        return None
    first = target.split("?", 1)[0].split("/")[1]
    return None if first in HOMES and first != user.role else target


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr or "")
        except accounts.LoginRefused as refused:
            db.session.commit()  # keep the failure count
            show_error(form, refused)
            status = 429 if isinstance(refused, accounts.LoginThrottled) else 401
            return render_template("auth/login.html", form=form), status
        db.session.commit()
        session.clear()  # a new session on sign-in: nothing from before carries over
        login_user(user)
        return redirect_to(_next_for(user, form.next.data) or home_url(user))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    return redirect_to(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            show_error(form, error)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session carries the new version
            flash(_("密码已修改。"), "success")
            return redirect_to(home_url(current_user))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200


@bp.route("/locale", methods=["POST"])
def set_locale():
    form = LocaleForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.locale.data)
            db.session.commit()
        session["lang"] = form.locale.data
    return redirect_to(safe_next(form.next.data) or url_for("auth.index"))
