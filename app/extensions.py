"""Extension instances, unbound: create_app() binds them to an app."""
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from app.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()
htmx = Htmx()
talisman = Talisman()
# Only the API's views are limited (per token, app/web/api/auth.py); no default limits.
limiter = Limiter(get_remote_address)
