"""Users: password hashing (Argon2id), sign-in with throttling, password changes, and the
admin's user management (accounts, permissions, password resets, rep routes). Every change to
a user, its permissions or its routes is audited."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import PERMISSIONS, Organisation, OrgKind, RepRoute, Role, User
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.accounts import sessions
from app.services.accounts.throttle import LoginThrottle, account_key

AUDITED_FIELDS = ["username", "role", "org_id", "display_name", "email", "permissions", "active", "locale"]
MIN_PASSWORD_LENGTH = 8
# The kind of organisation each role belongs to.
ROLE_ORG_KIND = {Role.ADMIN.value: OrgKind.BRAND.value, Role.REP.value: OrgKind.BRAND.value,
                 Role.DEALER.value: OrgKind.DEALER.value, Role.RETAILER.value: OrgKind.RETAILER.value}


def _hasher() -> PasswordHasher:
    # Tests may ask for cheaper parameters; the algorithm (Argon2id) is the same.
    return PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _spend_hash_time(password: str) -> None:
    """Hash once for an unknown user, so the answer takes as long as for a real one and the
    timing does not tell which usernames exist."""
    hasher = _hasher()
    dummy = current_app.extensions.get("lianying-dummy-hash")
    if dummy is None:
        dummy = current_app.extensions["lianying-dummy-hash"] = hasher.hash("not-a-real-account")
    try:
        hasher.verify(dummy, password)
    except VerificationError:
        pass


class LoginRefused(DomainError):
    """Wrong credentials or an account that may not sign in."""


class LoginThrottled(LoginRefused):
    """Too many recent failures for the account, the browser or the address."""

    def __init__(self, message: str, *, field: str | None = None, seconds: int = 0):
        super().__init__(message, field=field)
        self.seconds = seconds


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return _("登录失败次数过多，请 %(n)d 秒后再试。", n=seconds)
    return _("登录失败次数过多，请 %(n)d 分钟后再试。", n=-(-seconds // 60))


def authenticate(username: str, password: str, address: str, device: str | None = None) -> User:
    """The user for these credentials, or LoginRefused. `device` is the token of a browser that
    signed in to this account before (see throttle.py): it is judged by its own failures only.
    While the account, the browser or the address is locked even a correct password is refused."""
    throttle = LoginThrottle()
    keys = throttle.keys(username, address, device)
    block = throttle.blocked(keys)
    if block is not None:
        raise LoginThrottled(_wait_text(block.seconds), field="password", seconds=block.seconds)
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        _spend_hash_time(password)
    if user is None or not verify_password(user, password):
        throttle.fail(keys)
        raise LoginRefused(_("用户名或密码不正确。"), field="password")
    if not user.active:
        # Said only to whoever knows the password, so it reveals nothing to a guesser.
        raise LoginRefused(_("该账号已停用，请联系管理员。"), field="username")
    throttle.succeed(username, device)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _check_new_password(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("密码至少 %(n)d 位。", n=MIN_PASSWORD_LENGTH), field=field)


def change_password(user: User, current: str, new: str, *, keep_session: str | None = None) -> None:
    """The user's own change: needs the current password; ends the user's other sessions
    (all but the one whose token is `keep_session`)."""
    if not verify_password(user, current):
        raise DomainError(_("当前密码不正确。"), field="current_password")
    _check_new_password(new, "new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    sessions.revoke_all(user.id, keep=keep_session)
    audit.record(user.id, "user.password", "user", user.id)


def reset_password(actor: User, user: User, new: str) -> None:
    """An admin sets a new password for someone else; every session of that user ends."""
    if user.id == actor.id:
        raise DomainError(_("请通过“修改密码”修改自己的密码。"), field="new_password")
    _check_new_password(new, "new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    sessions.revoke_all(user.id)
    # The unlock path: a user locked out by someone else's guesses gets in with the new password.
    LoginThrottle().clear(account_key(user.username))
    audit.record(actor.id, "user.password_reset", "user", user.id)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_("不支持的语言。"), field="locale")
    user.locale = locale


# --- user administration ---------------------------------------------------------------------

def users_query(search: str = "", role: str = ""):
    """A select() of users for the admin list: username or display name contains `search`."""
    query = select(User)
    search = search.strip()
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.username.ilike(pattern, escape="\\"),
                                User.display_name.ilike(pattern, escape="\\")))
    if role:
        query = query.where(User.role == role)
    return query.order_by(User.username)


def organisation_by_code(code: str) -> Organisation | None:
    code = (code or "").strip()
    if not code:
        return None
    return db.session.scalar(select(Organisation).where(func.upper(Organisation.code) == code.upper()))


def _check_role_and_org(role: str, org: Organisation | None) -> None:
    if role not in ROLE_ORG_KIND:
        raise DomainError(_("未知角色。"), field="role")
    if org is None:
        raise DomainError(_("找不到该编码的组织。"), field="org_code")
    if org.kind != ROLE_ORG_KIND[role]:
        messages = {OrgKind.BRAND.value: _("品牌管理员和业务员必须属于品牌总部。"),
                    OrgKind.DEALER.value: _("经销商用户必须属于经销商组织。"),
                    OrgKind.RETAILER.value: _("零售商用户必须属于零售商组织。")}
        raise DomainError(messages[ROLE_ORG_KIND[role]], field="org_code")


def _clean_permissions(role: str, permissions: list[str]) -> str:
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise DomainError(_("未知权限：%(p)s", p=", ".join(sorted(unknown))), field="permissions")
    return " ".join(p for p in PERMISSIONS if p in permissions) if role == Role.ADMIN.value else ""


def create_user(actor: User, *, username: str, password: str, role: str,
                org: Organisation | None = None, org_code: str | None = None,
                display_name: str = "", email: str | None = None, permissions: list[str] = ()) -> User:
    """A new login. The organisation is given directly or by its code, and must be of the kind
    the role needs (admin and rep: the brand; dealer: a dealer; retailer: a retailer)."""
    username = username.strip()
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise DomainError(_("用户名已存在。"), field="username")
    if org is None and org_code is not None:
        org = organisation_by_code(org_code)
    _check_role_and_org(role, org)
    _check_new_password(password, "password")
    user = User(username=username, password_hash=hash_password(password), role=role, org_id=org.id,
                display_name=display_name.strip(), email=(email or "").strip() or None,
                permissions=_clean_permissions(role, list(permissions)))
    db.session.add(user)
    db.session.flush()
    audit.record(actor.id, "user.create", "user", user.id, None, audit.snapshot(user, AUDITED_FIELDS))
    return user


def update_user(actor: User, user: User, *, display_name: str, email: str | None, active: bool,
                permissions: list[str]) -> User:
    if user.id == actor.id and not active:
        raise DomainError(_("不能停用自己的账号。"), field="active")
    if user.id == actor.id and user.role == Role.ADMIN.value and "users" not in permissions:
        raise DomainError(_("不能取消自己的用户管理权限。"), field="permissions")
    before = audit.snapshot(user, AUDITED_FIELDS)
    user.display_name = display_name.strip()
    user.email = (email or "").strip() or None
    user.permissions = _clean_permissions(user.role, permissions)
    if user.active and not active:
        user.session_version += 1  # signs the user out everywhere
        sessions.revoke_all(user.id)
    user.active = active
    after = audit.snapshot(user, AUDITED_FIELDS)
    if after != before:
        audit.record(actor.id, "user.update", "user", user.id, before, after)
    return user


# --- sales rep routes ------------------------------------------------------------------------

def rep_routes(rep: User) -> list[tuple[RepRoute, Organisation]]:
    """The rep's retailers with their visit weekday, Monday first (one query)."""
    return list(db.session.execute(
        select(RepRoute, Organisation).join(Organisation, Organisation.id == RepRoute.retailer_id)
        .where(RepRoute.rep_id == rep.id).order_by(RepRoute.weekday, Organisation.code)).tuples())


def _route_snapshot(route: RepRoute) -> dict:
    return {"rep_id": route.rep_id, "retailer_id": route.retailer_id, "weekday": route.weekday}


def assign_route(actor: User, rep: User, retailer_code: str, weekday: int) -> RepRoute:
    """Put a retailer (by code) on the rep's route on `weekday` (0 = Monday); a retailer already
    on the route moves to the new day."""
    if rep.role != Role.REP.value:
        raise DomainError(_("只有业务员才有拜访路线。"), field="retailer_code")
    if weekday not in range(7):
        raise DomainError(_("请选择星期几。"), field="weekday")
    retailer = organisation_by_code(retailer_code)
    if retailer is None or retailer.kind != OrgKind.RETAILER.value:
        raise DomainError(_("找不到该编码的零售商。"), field="retailer_code")
    route = db.session.scalar(select(RepRoute).where(RepRoute.rep_id == rep.id,
                                                     RepRoute.retailer_id == retailer.id))
    if route is not None:
        before = _route_snapshot(route)
        route.weekday = weekday
        audit.record(actor.id, "rep_route.update", "rep_route", route.id, before, _route_snapshot(route))
        return route
    route = RepRoute(rep_id=rep.id, retailer_id=retailer.id, weekday=weekday)
    db.session.add(route)
    db.session.flush()
    audit.record(actor.id, "rep_route.create", "rep_route", route.id, None, _route_snapshot(route))
    return route


def remove_route(actor: User, rep: User, route_id: int) -> None:
    route = db.session.scalar(select(RepRoute).where(RepRoute.id == route_id, RepRoute.rep_id == rep.id))
    if route is None:
        raise NotFound(_("该拜访路线不存在。"))
    audit.record(actor.id, "rep_route.delete", "rep_route", route.id, _route_snapshot(route), None)
    db.session.delete(route)
    db.session.flush()
