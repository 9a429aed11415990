"""Signatures shared by the providers: the HMAC of the sandbox and the timestamp window.

Both providers sign `timestamp\\nnonce\\nbody\\n` (WeChat Pay v3 with RSA-SHA256, the sandbox with
HMAC-SHA256 under a shared secret); a notification older or newer than FRESH_SECONDS is refused,
so a captured one cannot be replayed days later."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

FRESH_SECONDS = 300


def notification_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


def hmac_signature(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def fresh(timestamp: str, now: float | None = None) -> bool:
    try:
        at = int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs((now if now is not None else time.time()) - at) <= FRESH_SECONDS
