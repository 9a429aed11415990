"""Flask's signed session cookie (flask.sessions.SecureCookieSessionInterface) without its work
done again on every request: Flask builds a new itsdangerous serializer per request and checks
and decodes the cookie each time, though a browser sends the same cookie until its session
changes (~50 µs of every request; five per order, issue 15).

The serializer is built once per secret key. A cookie this process checked before is not
checked again: its signature depends only on its text and the key, so the same text gets the
same answer. Its age is still checked on every request against the time it was signed, and each
request gets its own copy of the values (a view changes them). The sign-in's validity is not
here: the signed-in session is read from the database on every request (accounts.sessions)."""
from __future__ import annotations

import copy
import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

OPENED_MAX = 4096  # cookies remembered per process (about one per browser active lately)
_SCALARS = frozenset({str, int, bool, float, type(None)})  # values no view can change in place


class CookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict = {}
        self._opened: dict[str, tuple[dict, int, bool]] = {}  # cookie text -> (its values, signed at, flat)

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            self._serializers.clear()  # another key: what the old one checked is checked again
            self._opened.clear()
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        opened = self._opened.get(value)
        if opened is None:
            try:
                data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if len(self._opened) >= OPENED_MAX:
                self._opened.clear()
            flat = all(type(v) in _SCALARS for v in data.values())
            opened = self._opened[value] = (data, int(signed_at.timestamp()), flat)
        else:
            age = int(time.time()) - opened[1]  # as itsdangerous counts it
            if age > max_age or age < 0:
                return self.session_class()
        # A copy a view may change: the values themselves only when one can be changed in place (flashes).
        return self.session_class(opened[0] if opened[2] else copy.deepcopy(opened[0]))
