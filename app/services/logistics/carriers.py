"""The carriers of the configuration, callback signatures, and the polling adapter interface."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import requests
from flask import current_app

from app.services.core.errors import DomainError
from app.services.payments.signing import fresh


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    secret: str
    poll_url: str = ""
    name_en: str = ""

    def label(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


@dataclass(frozen=True)
class CarrierEvent:
    waybill: str
    code: str
    occurred_at: datetime
    location: str = ""
    description: str = ""


def carriers() -> dict[str, Carrier]:
    return {code: Carrier(code, str(spec.get("name") or code), str(spec.get("secret") or ""),
                          str(spec.get("poll_url") or ""), str(spec.get("name_en") or ""))
            for code, spec in (current_app.config.get("CARRIERS") or {}).items()}


def carrier(code: str) -> Carrier | None:
    return carriers().get(code)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def authentic(found: Carrier, timestamp: str, given: str, body: bytes) -> bool:
    if not found.secret or not given:
        return False
    return secrets.compare_digest(given.lower(), signature(found.secret, timestamp, body)) and fresh(timestamp)


class CarrierAdapter(Protocol):
    """What polling needs from a carrier: the events it knows for a waybill."""

    def events(self, waybill: str) -> list[CarrierEvent]: ...


class HttpJsonCarrier:
    """A carrier that answers GET <poll_url>/waybills/<waybill>/events with
    {"events": [{"code", "occurred_at", "location", "description"}]} (bearer: its secret)."""

    def __init__(self, found: Carrier, timeout: float = 10):
        self.carrier, self.timeout = found, timeout

    def events(self, waybill: str) -> list[CarrierEvent]:
        url = f"{self.carrier.poll_url.rstrip('/')}/waybills/{requests.utils.quote(waybill, safe='')}/events"
        try:
            response = requests.get(url, headers={"Authorization": f"Bearer {self.carrier.secret}"},
                                    timeout=self.timeout)
            response.raise_for_status()
            rows = response.json()["events"]
            return [CarrierEvent(waybill, str(row["code"]), datetime.fromisoformat(str(row["occurred_at"])),
                                 str(row.get("location") or "")[:100], str(row.get("description") or "")[:200])
                    for row in rows]
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise DomainError(f"carrier {self.carrier.code}: {error}") from None


def adapter_for(found: Carrier) -> CarrierAdapter | None:
    return HttpJsonCarrier(found) if found.poll_url else None
