"""Locale choice: the user's saved language, else the session's, else Simplified Chinese. And the
templates' `_()` and `current_locale()` without Flask-Babel's per-call lookups."""
from flask import Flask, current_app, has_request_context, session
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from flask_login import current_user


def select_locale() -> str:
    if not has_request_context():  # jobs and CLI commands: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# Flask-Babel looks up its context (through `g`, three times) and the locale on every `_()` in a
# template: ~110 times on a cart page. Its context keeps the locale and domain it chose; what
# they gave is remembered next to them and used while they are the same objects (force_locale
# and refresh() replace or clear them, so a switch of language is seen at once).

def _babel_state():
    """Flask-Babel's per-context namespace (None outside an app context or before its first use)."""
    app_ctx = _cv_app.get(None)
    return app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None


def _remembered(name: str, compute, *on: str):
    """`compute()`, kept in Flask-Babel's state while its attributes `on` are the same objects."""
    state = _babel_state()
    kept = getattr(state, name, None)
    if kept is not None and all(kept[0][i] is getattr(state, attr, None) for i, attr in enumerate(on)):
        return kept[1]
    value = compute()
    state = _babel_state()  # compute() may have made it
    if state is not None and getattr(state, "babel_locale", None) is not None:
        setattr(state, name, (tuple(getattr(state, attr, None) for attr in on), value))
    return value


def translations():
    return _remembered("lianying_translations", get_translations, "babel_locale", "babel_domain")


def current_locale() -> str:
    """The request's language code ("zh", "en"), as str(get_locale())."""
    return _remembered("lianying_locale", lambda: str(get_locale()), "babel_locale")


def install_template_gettext(app: Flask) -> None:
    """The templates' gettext callables as Flask-Babel installs them, on the remembered translations."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
