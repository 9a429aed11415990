"""Settings from environment variables, with safe development defaults.

LIANYING_ENV selects the profile: development (default for `make run`), production, testing.
Production refuses to start without a real SECRET_KEY.
"""
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


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUES = ("default",)

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

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    IMAGE_MAX_BYTES = 2 * 1024 * 1024
    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/javascript", "application/json",
                          "text/csv", "image/svg+xml"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500
    SEND_FILE_MAX_AGE_DEFAULT = 3600

    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass")
    PAGE_SIZE = 50

    MAIL_SERVER = os.environ.get("SMTP_HOST") or None
    MAIL_PORT = int(os.environ.get("SMTP_PORT", "25"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@lianying.local")


class DevelopmentConfig(Config):
    TEMPLATES_AUTO_RELOAD = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"


PROFILES = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def load_config(name: str | None = None) -> type[Config]:
    profile = PROFILES[name or os.environ.get("LIANYING_ENV", "development")]
    if profile is ProductionConfig and profile.SECRET_KEY == Config.SECRET_KEY and not os.environ.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in production")
    return profile
