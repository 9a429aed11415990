from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from app.extensions import db, login_manager
from app.models import User
from app.services.accounts import sessions
from app.services.accounts import users as accounts
from app.services.accounts.throttle import account_key
from app.services.core.errors import DomainError
from app.web.common.access import login_redirect
from app.web.auth import bp
from app.web.auth.forms import ChangePasswordForm, LocaleForm, LoginForm
from app.web.common.forms import show_error
from app.web.common.htmx import redirect_to, wants_fragment

HOMES = {"admin": "admin.home", "dealer": "dealer.home", "retailer": "retailer.home", "rep": "rep.home"}
SESSION_TOKEN = "sid"


@login_manager.user_loader
def load_user(user_id: str):
    """The user of a live server-side session (app/services/accounts/sessions.py): a cookie
    without one, or whose session was ended, idled out or belongs to an older password, is
    anonymous."""
    try:
        uid, version = (int(x) for x in user_id.split(":"))
    except ValueError:
        return None
    # A full page shows the unread badge: count it in the same statement (none for a fragment or a POST).
    full_page = request.method == "GET" and not wants_fragment()
    resumed = sessions.resume(session.get(SESSION_TOKEN), uid, count_unread=full_page)
    if resumed is None or not resumed.user.active or resumed.user.session_version != version:
        return None
    if full_page:
        g.unread_notifications = resumed.unread_notifications  # the badge's (notifications.views)
    return resumed.user


# --- known browsers (see app/services/accounts/throttle.py) ----------------------------------

def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def _known_device(username: str) -> str | None:
    """The device token of this browser, when it signed in to `username` before."""
    raw = request.cookies.get(current_app.config["LOGIN_DEVICE_COOKIE"])
    if not raw or len(raw) > 300:
        return None
    try:
        account, token = _device_serializer().loads(
            raw, max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400)
    except (BadData, ValueError, TypeError):
        return None
    return token if account == account_key(username) else None


def _remember_device(response, user: User, device: str | None):
    config = current_app.config
    value = _device_serializer().dumps([account_key(user.username), device or sessions.new_device_token()])
    response.set_cookie(config["LOGIN_DEVICE_COOKIE"], value, max_age=config["LOGIN_DEVICE_DAYS"] * 86400,
                        secure=config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax", path="/login")
    return response


def _warn_if_behind_an_untrusted_proxy() -> None:
    """X-Forwarded-For with TRUSTED_PROXY_COUNT=0: every visitor seems to share the proxy's
    address, and the per-address sign-in limit counts them all together. Said once per process."""
    if request.headers.get("X-Forwarded-For") and not current_app.config.get("TRUSTED_PROXY_COUNT") \
            and not current_app.extensions.get("lianying-proxy-warned"):
        current_app.extensions["lianying-proxy-warned"] = True
        current_app.logger.warning(
            "X-Forwarded-For received but TRUSTED_PROXY_COUNT=0: sign-in throttling sees every visitor as %s; "
            "set TRUSTED_PROXY_COUNT to the number of proxies in front of the app", request.remote_addr)


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
        _warn_if_behind_an_untrusted_proxy()
        device = _known_device(form.username.data)
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr or "",
                                         device=device)
        except accounts.LoginRefused as refused:
            db.session.commit()  # keep the failure count
            show_error(form, refused)
            if isinstance(refused, accounts.LoginThrottled):
                return render_template("auth/login.html", form=form), 429, {"Retry-After": str(refused.seconds)}
            return render_template("auth/login.html", form=form), 401
        token = sessions.start(user)
        db.session.commit()
        session.clear()  # a new session on sign-in: nothing from before carries over
        login_user(user)
        session[SESSION_TOKEN] = token
        return _remember_device(redirect_to(_next_for(user, form.next.data) or home_url(user)), user, device)
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end(session.get(SESSION_TOKEN))  # a copy of the cookie dies with it
    db.session.commit()
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
            accounts.change_password(current_user, form.current_password.data, form.new_password.data,
                                     keep_session=session.get(SESSION_TOKEN))
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
