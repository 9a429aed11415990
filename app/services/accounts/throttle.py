"""Login throttling, in three counts of failed sign-ins over a sliding LOGIN_WINDOW_SECONDS:

- per account ("user:<name>"): the first LOGIN_FREE_FAILURES are free; from then on every failure
  locks the account for a growing delay (LOGIN_DELAY_SECONDS, doubling, at most
  LOGIN_MAX_DELAY_SECONDS), so guessing slows to a few tries an hour;
- per known browser ("device:<token>"): a browser that signed in to the account before carries a
  signed device cookie, and is throttled on its own count instead of the account's and the
  address's. So an anonymous stranger's failures never lock the real user out of their usual
  browser (OWASP's "device cookies"), while a stolen cookie still gets only a few guesses;
- per address ("ip:<address>"): LOGIN_ADDRESS_MAX_FAILURES, high enough for a carrier NAT or an
  office behind one address, refuses sign-in from new browsers at that address until the
  window passes.

An admin's password reset clears the account's count (the unlock path for a new browser).
Counts live in Redis when REDIS_URL is set (shared by every process), else in the database; when
Redis cannot be reached the database counts, with a logged warning, so sign-in never fails
because Redis is down."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import LoginFailure, utcnow
from app.services.core.redis_conn import redis_connection



def account_key(username: str) -> str:
    return f"user:{username.strip().lower()[:60]}"


def device_key(device: str) -> str:
    return f"device:{device[:60]}"


def address_key(address: str) -> str:
    return f"ip:{address[:60]}"


@dataclass(frozen=True)
class Block:
    """Why sign-in is refused for now, and for how many more seconds."""
    key: str
    seconds: int


class LoginThrottle:
    def __init__(self) -> None:
        config = current_app.config
        self.window = config["LOGIN_WINDOW_SECONDS"]
        self.free = config["LOGIN_FREE_FAILURES"]
        self.first_delay = config["LOGIN_DELAY_SECONDS"]
        self.max_delay = config["LOGIN_MAX_DELAY_SECONDS"]
        self.address_limit = config["LOGIN_ADDRESS_MAX_FAILURES"]
        self.redis = redis_connection()

    def delay(self, failures: int) -> int:
        """Seconds an account (or device) stays locked after its `failures`-th failure."""
        if failures < self.free:
            return 0
        return min(self.first_delay * 2 ** min(failures - self.free, 30), self.max_delay)

    # --- the two stores ---------------------------------------------------------------------

    def _redis_failed(self, error: Exception) -> None:
        current_app.logger.warning("login throttle: Redis unreachable (%s); counting failures in the database", error)
        self.redis = None

    def _counts(self, keys: list[str]) -> dict[str, tuple[int, datetime | None]]:
        """key → (failures in the window, time of the last one)."""
        if self.redis is not None:
            try:
                pipe = self.redis.pipeline()
                for key in keys:
                    pipe.get(f"login-fail:{key}")
                    pipe.get(f"login-last:{key}")
                values = pipe.execute()
                return {key: (int(values[2 * i] or 0),
                              datetime.fromtimestamp(float(values[2 * i + 1]), utcnow().tzinfo)
                              if values[2 * i + 1] else None)
                        for i, key in enumerate(keys)}
            except RedisError as error:
                self._redis_failed(error)
        since = utcnow() - timedelta(seconds=self.window)
        rows = db.session.execute(
            select(LoginFailure.key, func.count(), func.max(LoginFailure.at))
            .where(LoginFailure.key.in_(keys), LoginFailure.at >= since).group_by(LoginFailure.key)).all()
        found = {key: (count, last) for key, count, last in rows}
        return {key: found.get(key, (0, None)) for key in keys}

    def _add(self, keys: list[str]) -> None:
        if self.redis is not None:
            try:
                now = utcnow().timestamp()
                pipe = self.redis.pipeline()
                for key in keys:
                    pipe.incr(f"login-fail:{key}")
                    pipe.expire(f"login-fail:{key}", self.window)  # sliding: each failure extends it
                    pipe.set(f"login-last:{key}", now, ex=self.window)
                pipe.execute()
                return
            except RedisError as error:
                self._redis_failed(error)
        db.session.add_all([LoginFailure(key=k) for k in keys])
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - timedelta(seconds=self.window)))

    def clear(self, key: str) -> None:
        if self.redis is not None:
            try:
                self.redis.delete(f"login-fail:{key}", f"login-last:{key}")
            except RedisError as error:
                self._redis_failed(error)
        # The database may hold counts from a time Redis was down: clear both.
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))

    # --- decisions ---------------------------------------------------------------------------

    def keys(self, username: str, address: str, device: str | None) -> list[str]:
        """The counts an attempt is judged by: a known browser only its own, else the account's
        and the address's."""
        return [device_key(device)] if device else [account_key(username), address_key(address)]

    def blocked(self, keys: list[str]) -> Block | None:
        now = utcnow()
        for key, (count, last) in self._counts(keys).items():
            if key.startswith("ip:"):
                if count >= self.address_limit:
                    remaining = self.window - (now - last).total_seconds() if last else self.window
                    return Block(key, max(1, int(remaining)))
                continue
            wait = self.delay(count)
            if wait and last is not None:
                remaining = wait - (now - last).total_seconds()
                if remaining > 0:
                    return Block(key, max(1, int(remaining + 0.999)))
        return None

    def fail(self, keys: list[str]) -> None:
        self._add(keys)

    def succeed(self, username: str, device: str | None) -> None:
        """A correct password clears the account's count (and the browser's), not the address's."""
        self.clear(account_key(username))
        if device:
            self.clear(device_key(device))
