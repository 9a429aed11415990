"""Login throttling: after LOGIN_MAX_FAILURES failures for an account or an address within
LOGIN_WINDOW_SECONDS, further attempts are refused until the window passes.

Counts live in Redis when REDIS_URL is set (shared by every process), else in the database."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import LoginFailure, utcnow
from app.services.core.redis_conn import redis_connection


class LoginThrottle:
    def __init__(self) -> None:
        self.limit = current_app.config["LOGIN_MAX_FAILURES"]
        self.window = current_app.config["LOGIN_WINDOW_SECONDS"]
        self.redis = redis_connection()

    @staticmethod
    def keys(username: str, address: str) -> list[str]:
        return [f"user:{username.strip().lower()[:60]}", f"ip:{address}"]

    def blocked(self, keys: list[str]) -> bool:
        if self.redis is not None:
            counts = self.redis.mget([f"login-fail:{k}" for k in keys])
            return any(int(c or 0) >= self.limit for c in counts)
        since = utcnow() - timedelta(seconds=self.window)
        count = db.session.scalar(
            select(func.count()).select_from(LoginFailure)
            .where(LoginFailure.key.in_(keys), LoginFailure.at >= since)
            .group_by(LoginFailure.key).order_by(func.count().desc()).limit(1))
        return (count or 0) >= self.limit

    def fail(self, keys: list[str]) -> None:
        if self.redis is not None:
            pipe = self.redis.pipeline()
            for key in keys:
                name = f"login-fail:{key}"
                pipe.incr(name)
                pipe.expire(name, self.window, nx=True)
            pipe.execute()
            return
        db.session.add_all([LoginFailure(key=k) for k in keys])
        db.session.execute(delete(LoginFailure).where(
            LoginFailure.at < utcnow() - timedelta(seconds=self.window)))

    def succeed(self, username: str) -> None:
        """A correct password clears the account's count (not the address's)."""
        key = self.keys(username, "")[0]
        if self.redis is not None:
            self.redis.delete(f"login-fail:{key}")
        else:
            db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))
