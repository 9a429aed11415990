"""The nightly points and member-tier jobs, and their schedule (jobs/schedule.py).

- `expire_points_job`: expires the points lots due today or earlier, then sends the "expiring
  soon" notices (deduplicated per retailer and week): safe to run twice (one entry per lot).
- `recompute_tiers_job`: every retailer's rolling 12-month spend and member tier, with the grace
  period before a downgrade (services/loyalty/tiers.py): running twice on a day changes nothing
  more.
Both run at 02:10 / 02:40 in Shanghai (18:10 / 18:40 UTC)."""
from __future__ import annotations

from datetime import date

from app.extensions import db

SCHEDULE_EXPIRY = "10 18 * * *"
SCHEDULE_TIERS = "40 18 * * *"


def _day(today: str | None) -> date:
    from app.services.core.clock import today_local

    return date.fromisoformat(today) if today else today_local()


def expire_points_job(today: str | None = None) -> str:
    from app.services.loyalty.expiry import expire_due, notify_expiring

    day = _day(today)
    expired = expire_due(day, commit_every=500)
    notices = notify_expiring(day)
    db.session.commit()
    return f"points expiry {day}: {expired.lots} lot(s), {expired.points} point(s); {notices} notice(s)"


def recompute_tiers_job(today: str | None = None) -> str:
    from app.services.loyalty import settings
    from app.services.loyalty.tiers import recompute_all

    day = _day(today)
    result = recompute_all(day, settings.current())
    db.session.commit()
    return (f"member tiers {day}: {result.accounts} account(s), {result.changed} changed, "
            f"{result.upgraded} up, {result.downgraded} down, {result.in_grace} in grace")
