"""The rate limiter's Redis storage, answering the response headers from the hit itself.

With a fixed window, Flask-Limiter counts a request with one Redis script (INCRBY, EXPIRE on
the window's first hit) and then, for the X-RateLimit-* headers, reads the window back with a GET
and a TTL: three round trips per API request. Here the script also returns the key's TTL, and
the count and reset time it saw are kept (per thread, for one second) for the header read that
follows: one round trip. The headers then show the window as this request left it.

Used as `lianying+redis://…` (app/__init__.py), registered by limits' storage registry when
this module is imported.
"""
from __future__ import annotations

import threading
import time

from limits.storage import RedisStorage

# INCRBY, EXPIRE on the window's first hit (as limits' incr_expire.lua), and the TTL, in one call.
_INCR_EXPIRE_TTL = """
local current = redis.call("incrby", KEYS[1], tonumber(ARGV[2]))
if current == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""
FRESH_FOR = 1.0  # seconds a hit's count answers the headers' read


class HitAnswersWindowRedisStorage(RedisStorage):
    STORAGE_SCHEME = ["lianying+redis", "lianying+rediss"]

    def __init__(self, uri: str, **options) -> None:
        self._last_hit = threading.local()
        super().__init__(uri.removeprefix("lianying+"), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(_INCR_EXPIRE_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, ttl = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        self._last_hit.seen = (key, int(count), max(int(ttl), 0) + time.time(), time.monotonic())
        return int(count)

    def _seen(self, key: str):
        seen = getattr(self._last_hit, "seen", None)
        if seen is not None and seen[0] == key and time.monotonic() - seen[3] < FRESH_FOR:
            return seen
        return None

    def get(self, key: str) -> int:
        seen = self._seen(key)
        return seen[1] if seen else super().get(key)

    def get_expiry(self, key: str) -> float:
        seen = self._seen(key)
        if seen is None:
            return super().get_expiry(key)
        self._last_hit.seen = None  # the window's stats read (count, then expiry) is done
        return seen[2]

    def clear(self, key: str) -> None:
        self._last_hit.seen = None
        super().clear(key)

    def reset(self) -> int | None:
        self._last_hit.seen = None
        return super().reset()
