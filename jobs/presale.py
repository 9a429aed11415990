"""Presale jobs: release a campaign (the admin's button, or the nightly run on the release date)
and cancel orders whose balance window ended unpaid. Both are safe to run twice or at once
(app/services/campaigns/presale_release.py); each commits what it did.

SCHEDULE: every night at 00:20 in Shanghai (16:20 UTC), after the day turned: release the
campaigns due, then cancel what the day before left unpaid (jobs/schedule.py)."""
from __future__ import annotations

from app.extensions import db

SCHEDULE = "20 16 * * *"


def release_job(campaign_id: int, actor_id: int | None = None) -> str:
    from app.services.campaigns.presale_release import release_campaign

    released = release_campaign(campaign_id, actor_id)
    db.session.commit()
    return f"presale campaign {campaign_id}: {released} order(s) released"


def nightly_job() -> str:
    from app.services.campaigns.presale_release import cancel_unpaid, release_due, release_campaign

    released = 0
    for campaign_id in release_due():
        released += release_campaign(campaign_id)
        db.session.commit()
    cancelled = cancel_unpaid()
    db.session.commit()
    return f"presale: {released} order(s) released, {cancelled} cancelled for an unpaid balance"
