"""One Redis connection per process (or none when REDIS_URL is unset)."""
from flask import current_app
from redis import Redis


def redis_connection() -> Redis | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    connection = current_app.extensions.get("lianying-redis")
    if connection is None:
        connection = current_app.extensions["lianying-redis"] = Redis.from_url(url)
    return connection
