"""Carrier polling: ask each configured carrier that can be polled for the events of its
shipments on the road. Safe to run twice (events are unique; a repeat records nothing)."""
from __future__ import annotations

from app.extensions import db
from app.services.logistics.carriers import carriers
from app.services.logistics.tracking import poll

SCHEDULE = "*/10 * * * *"  # every ten minutes: the requirements ask for near-real-time tracking


def poll_carrier(code: str) -> dict:
    found = carriers().get(code)
    if found is None:
        return {"recorded": 0, "ignored": 0, "signed_off": []}
    result = poll(found)
    db.session.commit()
    return {"recorded": result.recorded, "ignored": result.ignored, "signed_off": result.signed_off}


def poll_carriers_job() -> dict:
    return {code: poll_carrier(code) for code, found in carriers().items() if found.poll_url}
