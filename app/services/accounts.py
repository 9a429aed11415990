"""Users: password hashing (Argon2id), sign-in with throttling, password changes, and the
admin's user management. Every change to a user or its permissions is audited."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import PERMISSIONS, Organisation, Role, User
from app.services import audit
from app.services.errors import DomainError
from app.services.throttle import LoginThrottle

AUDITED_FIELDS = ["username", "role", "org_id", "display_name", "email", "permissions", "active", "locale"]
MIN_PASSWORD_LENGTH = 8


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


class LoginRefused(DomainError):
    pass


def authenticate(username: str, password: str, address: str) -> User:
    """The user for these credentials, or LoginRefused. Too many recent failures for the
    account or the address refuse even a correct password until the window passes."""
    throttle = LoginThrottle()
    keys = throttle.keys(username, address)
    if throttle.blocked(keys):
        minutes = throttle.window // 60
        raise LoginRefused(_("登录失败次数过多，请 %(minutes)d 分钟后再试。", minutes=minutes))
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not verify_password(user, password):
        throttle.fail(keys)
        raise LoginRefused(_("用户名或密码不正确。"))
    throttle.succeed(username)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise DomainError(_("当前密码不正确。"), field="current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("新密码至少 %(n)d 位。", n=MIN_PASSWORD_LENGTH), field="new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    audit.record(user.id, "user.password", "user", user.id)


def _check_role_and_org(role: str, org: Organisation | None) -> None:
    expected = {Role.ADMIN.value: "brand", Role.REP.value: "brand",
                Role.DEALER.value: "dealer", Role.RETAILER.value: "retailer"}[role]
    if org is None or org.kind != expected:
        raise DomainError(_("该角色必须属于相应类型的组织。"), field="org_code")


def _clean_permissions(role: str, permissions: list[str]) -> str:
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise DomainError(_("未知权限：%(p)s", p=", ".join(sorted(unknown))), field="permissions")
    return " ".join(p for p in PERMISSIONS if p in permissions) if role == Role.ADMIN.value else ""


def create_user(actor: User, *, username: str, password: str, role: str, org: Organisation | None,
                display_name: str = "", email: str | None = None, permissions: list[str] = ()) -> User:
    username = username.strip()
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise DomainError(_("用户名已存在。"), field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("密码至少 %(n)d 位。", n=MIN_PASSWORD_LENGTH), field="password")
    _check_role_and_org(role, org)
    user = User(username=username, password_hash=hash_password(password), role=role, org_id=org.id,
                display_name=display_name, email=email or None,
                permissions=_clean_permissions(role, list(permissions)))
    db.session.add(user)
    db.session.flush()
    audit.record(actor.id, "user.create", "user", user.id, None, audit.snapshot(user, AUDITED_FIELDS))
    return user


def update_user(actor: User, user: User, *, display_name: str, email: str | None, active: bool,
                permissions: list[str]) -> User:
    if user.id == actor.id and (not active or ("users" not in permissions and user.role == Role.ADMIN.value)):
        raise DomainError(_("不能停用自己或取消自己的用户管理权限。"), field="active")
    before = audit.snapshot(user, AUDITED_FIELDS)
    user.display_name = display_name
    user.email = email or None
    if user.active and not active:
        user.session_version += 1  # signs the user out everywhere
    user.active = active
    user.permissions = _clean_permissions(user.role, permissions)
    audit.record(actor.id, "user.update", "user", user.id, before, audit.snapshot(user, AUDITED_FIELDS))
    return user


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_("不支持的语言。"), field="locale")
    user.locale = locale
