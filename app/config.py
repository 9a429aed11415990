"""Settings from environment variables, with safe development defaults.

LIANYING_ENV selects the profile: development (default for `make run`), production, testing.
Production refuses to start without a real SECRET_KEY.
"""
import json
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL to a SQLAlchemy URL using psycopg 3; SQLite file by default."""
    if not raw:
        return f"sqlite:///{INSTANCE / 'lianying.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # No pool pre-ping: it costs a `SELECT 1` round trip on every request. Connections are
    # replaced after DB_POOL_RECYCLE seconds instead (before PostgreSQL or a proxy drops idle
    # ones); a connection lost otherwise (a database restart) fails that one request, and
    # SQLAlchemy then discards the whole pool, so the next requests reconnect.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": int(os.environ.get("DB_POOL_RECYCLE") or 1800)}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUES = ("default", "webhooks")
    # A brand promotion whose budget is above this (or unlimited) needs a second admin's approval
    # before it can go live (draft → approved by someone other than its author). None: no approval.
    PROMOTION_APPROVAL_ABOVE_FEN = int(os.environ.get("PROMOTION_APPROVAL_ABOVE_FEN") or 5_000_000)  # ¥50,000

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The CSRF token lives as long as the session: a page revalidated with 304 keeps a valid token.
    WTF_CSRF_TIME_LIMIT = None

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("zh", "en")

    # Security headers (app/__init__.py register_security_headers). Scripts and styles come only
    # from /static (no inline code, no eval); no site may frame these pages.
    CONTENT_SECURITY_POLICY = {
        "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
        "font-src": "'self'", "connect-src": "'self'", "object-src": "'none'", "base-uri": "'self'",
        "form-action": "'self'", "frame-ancestors": "'none'"}
    REFERRER_POLICY = "strict-origin-when-cross-origin"
    HSTS_ENABLED = False  # production only: development and tests run over plain http
    HSTS_MAX_AGE = 365 * 24 * 3600

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    IMAGE_MAX_BYTES = 2 * 1024 * 1024
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                          "text/csv", "image/svg+xml"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500
    SEND_FILE_MAX_AGE_DEFAULT = 3600

    # Behind nginx every request comes from the proxy: trust this many X-Forwarded-* hops so
    # login throttling by address sees the client's address (0 = not behind a proxy). Left at 0
    # behind a proxy, every visitor shares the proxy's address (see README, Production).
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
    # Sign-in throttling (app/services/accounts/throttle.py), over a sliding window: per account
    # the first failures are free, then each one locks it for a doubling delay; a browser that
    # signed in before counts on its own; an address may fail many times (a carrier NAT).
    LOGIN_WINDOW_SECONDS = 60 * 60
    LOGIN_FREE_FAILURES = 5
    LOGIN_DELAY_SECONDS = 30
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    LOGIN_ADDRESS_MAX_FAILURES = int(os.environ.get("LOGIN_ADDRESS_MAX_FAILURES", "300"))
    LOGIN_DEVICE_COOKIE = "ly_device"
    LOGIN_DEVICE_DAYS = 365
    # Server-side sessions (app/services/accounts/sessions.py): end after this long without a
    # request, and at the latest this long after sign-in.
    SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_MINUTES", "120")) * 60
    SESSION_MAX_AGE_SECONDS = 7 * 24 * 3600
    SESSION_TOUCH_SECONDS = 5 * 60
    PERMANENT_SESSION_LIFETIME = SESSION_MAX_AGE_SECONDS  # the signed cookie's own limit
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass")
    PAGE_SIZE = 50

    # PDF documents built by RQ jobs. RQ stops a job after DOCUMENT_JOB_TIMEOUT seconds; a
    # document still "running" after DOCUMENT_STALE_SECONDS lost its worker and is requeued
    # (keep it above the timeout). JOB_RETRY_INTERVALS: seconds before each retry of a job.
    DOCUMENT_JOB_TIMEOUT = int(os.environ.get("DOCUMENT_JOB_TIMEOUT", "120"))
    DOCUMENT_STALE_SECONDS = int(os.environ.get("DOCUMENT_STALE_SECONDS", "300"))
    DOCUMENT_RENDER_DELAY = 0.0
    JOB_RETRY_INTERVALS = (10, 60, 300)

    # Uploaded files kept outside the database (product images and PDFs are in it today) and
    # where `flask backup` writes its backups (see README, "Backup and restore").
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or str(INSTANCE / "media")
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or str(INSTANCE / "backups")

    MAIL_SERVER = os.environ.get("SMTP_HOST") or None
    MAIL_PORT = int(os.environ.get("SMTP_PORT", "25"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@lianying.local")
    # The site's address as people reach it: the links in e-mails (made outside any request).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:5000")
    # Whether PUBLIC_URL was set: when not, the payment sandbox (our own server calling itself)
    # notifies the address the payer's request came in on, so `flask run` works on any port.
    PUBLIC_URL_SET = bool(os.environ.get("PUBLIC_URL"))

    # API rate limits per token (Flask-Limiter): counted in Redis when REDIS_URL is set (shared by
    # every gunicorn worker), in process memory otherwise. A Redis outage lets requests through.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute;50 per second")
    # Webhooks: hosts allowed although they resolve to loopback/private/link-local addresses
    # (development receivers only; comma-separated), per-attempt timeout in seconds, and how many
    # failed attempts in a row disable a subscription.
    WEBHOOK_ALLOWED_HOSTS = tuple(h.strip().lower() for h in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(",")
                                  if h.strip())
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "5"))
    WEBHOOK_DISABLE_AFTER = int(os.environ.get("WEBHOOK_DISABLE_AFTER", "20"))
    # ERP export: rows younger than this are held back to the next pull (see services/integrations/exports.py).
    EXPORT_SETTLE_SECONDS = float(os.environ.get("EXPORT_SETTLE_SECONDS", "5"))
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_KEY_PREFIX = "lianying-api"
    IDEMPOTENCY_KEY_HOURS = 24
    # Delivered outbox events and their delivery logs are deleted after this many days (jobs/api.py).
    OUTBOX_RETENTION_DAYS = int(os.environ.get("OUTBOX_RETENTION_DAYS", "30"))

    # Online payments (README, "Online payments"): "sandbox" (a local provider that plays WeChat's
    # role: /payments/sandbox/<reference>), "wechat" (WeChat Pay API v3, the WECHATPAY_* settings)
    # or "" (switched off). Notifications reach PUBLIC_URL/api/v1/payments/notify/<provider> (the
    # sandbox's: the host of the payer's request while PUBLIC_URL is not set).
    PAYMENTS_PROVIDER = os.environ.get("PAYMENTS_PROVIDER", "sandbox")
    PAYMENTS_SANDBOX_URL = os.environ.get("PAYMENTS_SANDBOX_URL", "/payments/sandbox")
    PAYMENTS_SANDBOX_SECRET = os.environ.get("PAYMENTS_SANDBOX_SECRET") or "sandbox-" + (
        os.environ.get("SECRET_KEY") or DEV_SECRET_KEY)
    WECHATPAY_MCHID = os.environ.get("WECHATPAY_MCHID", "")
    WECHATPAY_APPID = os.environ.get("WECHATPAY_APPID", "")
    WECHATPAY_SERIAL_NO = os.environ.get("WECHATPAY_SERIAL_NO", "")
    WECHATPAY_PRIVATE_KEY_PATH = os.environ.get("WECHATPAY_PRIVATE_KEY_PATH", "")
    WECHATPAY_APIV3_KEY = os.environ.get("WECHATPAY_APIV3_KEY", "")
    WECHATPAY_PLATFORM_PUBLIC_KEY_PATH = os.environ.get("WECHATPAY_PLATFORM_PUBLIC_KEY_PATH", "")
    WECHATPAY_PLATFORM_SERIAL = os.environ.get("WECHATPAY_PLATFORM_SERIAL", "")
    # Carriers that send tracking callbacks (POST /api/v1/carriers/<code>/events, HMAC-signed with
    # their secret) or are polled by a job: JSON {"<code>": {"name": "顺丰速运", "secret": "...",
    # "poll_url": "https://..."}}. Development and tests have a local test carrier.
    CARRIERS = json.loads(os.environ.get("CARRIERS") or
                          '{"local": {"name": "本地物流", "name_en": "Local carrier", "secret": "carrier-local-secret", '
                          '"poll_url": ""}}')
    WECHATPAY_API_BASE = os.environ.get("WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com")


class DevelopmentConfig(Config):
    TEMPLATES_AUTO_RELOAD = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS_ENABLED = True
    # The sandbox lets anyone "pay": never the production default. No test carrier either.
    PAYMENTS_PROVIDER = os.environ.get("PAYMENTS_PROVIDER", "")
    CARRIERS = json.loads(os.environ.get("CARRIERS") or "{}")


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    PAYMENTS_PROVIDER = "sandbox"
    PAYMENTS_SANDBOX_SECRET = "sandbox-testing-secret"
    JOB_RETRY_INTERVALS = (0, 0, 0)  # retries go straight back on the queue for a burst worker
    API_RATE_LIMIT = "100000 per minute"  # tests that check the limit set their own
    PROMOTION_APPROVAL_ABOVE_FEN = None  # the tests of the approval set their own
    EXPORT_SETTLE_SECONDS = 0
    # Test-only: a document job sleeps this long before rendering, so a test can kill its worker.
    DOCUMENT_RENDER_DELAY = float(os.environ.get("DOCUMENT_RENDER_DELAY", "0"))
    # Test-only: the settlement job sleeps this long before committing its drafts.
    SETTLEMENT_COMMIT_DELAY = float(os.environ.get("SETTLEMENT_COMMIT_DELAY", "0"))


PROFILES = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def load_config(name: str | None = None) -> type[Config]:
    profile = PROFILES[name or os.environ.get("LIANYING_ENV", "development")]
    if profile is ProductionConfig:
        # Read at start-up, not at import, so the key in force is the environment's own.
        secret = os.environ.get("SECRET_KEY") or ""
        if not secret or secret == DEV_SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production")
        profile = type("ProductionConfig", (ProductionConfig,), {"SECRET_KEY": secret})
    return profile
