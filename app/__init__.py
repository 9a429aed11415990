"""The application factory: a short list of register_* steps."""
import os

from flask import Flask, request
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import ROOT, load_config


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=None,
                instance_path=str(ROOT / "instance"))
    app.config.from_object(load_config(config_name))
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("TRUSTED_PROXY_COUNT"):
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every model on the metadata before migrate binds)
    from app.extensions import babel, compress, csrf, db, htmx, limiter, login_manager, migrate, talisman
    from app.web.common.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            event.listen(db.engine, "connect", _postgresql_session)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    from app.web.common.cookie_session import CookieSessions

    app.session_interface = CookieSessions()
    app.config["RATELIMIT_STORAGE_URI"] = _rate_limit_storage(app.config.get("REDIS_URL"))
    limiter.init_app(app)
    # Only the API's views are limited, each by its decorator, which runs the check itself: the
    # limiter's own check before every request found no limit to apply (~2 % of a catalog page).
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    compress.init_app(app)
    htmx.init_app(app)  # request.htmx: the HX-* request headers
    from app.web.common.safe_args import SafeRequest

    # After htmx-flask, which sets its own request class: ours extends it, so query and form
    # values never reach the database unusable and request.htmx still works.
    app.request_class = SafeRequest
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    register_security_headers(app, talisman)
    from app.web import auth  # noqa: F401  (registers the user loader)
    from app.web.common import read_only

    read_only.register(app)  # before any blueprint's hook: the role guard's session read is a read


def _rate_limit_storage(redis_url: str | None) -> str:
    """Redis when there is one, through our storage that answers the rate-limit headers from the
    counting call itself (app/web/common/rate_limit_storage.py: one round trip, not three)."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith(("redis://", "rediss://")):
        import app.web.common.rate_limit_storage  # noqa: F401 (registers the lianying+redis scheme)

        return "lianying+" + redis_url
    return redis_url


def _postgresql_session(dbapi_connection, _record) -> None:
    """Every new connection runs without JIT compilation: on our short queries PostgreSQL's JIT
    costs more than it saves (measured: 105 ms of compiling for a 50 ms report aggregate)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET inside a transaction the pool rolls back would not last
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


def register_security_headers(app: Flask, talisman) -> None:
    """Every response's security headers, set in one place by Flask-Talisman: the CSP (no inline
    scripts or styles, no framing: the one-button order actions cannot be clickjacked),
    X-Frame-Options DENY, nosniff, a referrer policy, and HSTS in production. HTTPS itself is
    nginx's job (force_https off); the cookie flags stay those of app.config."""
    talisman.init_app(
        app, force_https=False,
        content_security_policy=app.config["CONTENT_SECURITY_POLICY"],
        frame_options="DENY",
        referrer_policy=app.config["REFERRER_POLICY"],
        strict_transport_security=app.config["HSTS_ENABLED"],
        strict_transport_security_max_age=app.config["HSTS_MAX_AGE"],
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"])
    # No view has options of its own, so Talisman's headers are the same on every response but
    # HSTS (HTTPS only); its hooks built them again on every request (~40 µs of a catalog page:
    # the options, the CSP string) and its two before_request hooks did nothing (force_https off, no
    # nonce). Talisman builds them here once, for plain and for secure requests.
    before, after = app.before_request_funcs[None], app.after_request_funcs[None]
    before.remove(talisman._force_https)
    before.remove(talisman._make_nonce)
    after[after.index(talisman._set_response_headers)] = _SecurityHeaders(app, talisman)


class _SecurityHeaders:
    """The after_request hook that sets Talisman's headers, built by Talisman once per kind of request."""

    def __init__(self, app: Flask, talisman) -> None:
        self.plain, self.secure = (self._built(app, talisman, scheme) for scheme in ("http", "https"))

    @staticmethod
    def _built(app: Flask, talisman, scheme: str) -> tuple:
        with app.test_request_context("/", base_url=f"{scheme}://localhost"):
            response = app.response_class()
            own = set(response.headers.keys())
            talisman._set_response_headers(response)
            return tuple((key, value) for key, value in response.headers.items() if key not in own)

    def __call__(self, response):
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"  # as Talisman
        headers = response.headers
        for key, value in self.secure if secure else self.plain:
            headers[key] = value
        return response


def register_blueprints(app: Flask) -> None:
    from app.web import admin, assets, auth, dealer, documents, media, rep, retailer
    from app.web.payments import sandbox as payments_sandbox

    for module in (assets, auth, admin, dealer, retailer, rep, media, documents, payments_sandbox):
        app.register_blueprint(module.bp)
    from app.web import api  # JSON API under /api/v1 (token auth, CSRF-exempt)
    from app.web.api.openapi import init_api

    init_api(app)  # registers api.bp and builds its OpenAPI document


def register_errorhandlers(app: Flask) -> None:
    from app.web.common.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from app.web.common import filters

    filters.register(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.register(app)
