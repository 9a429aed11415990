"""Group-buy close as RQ jobs: one campaign (the owner's "close now" button, enqueued after its
commit), and the sweep that closes every campaign whose window has ended (SCHEDULE, registered
in jobs/schedule.py). Both are safe to run twice or at once: see
app/services/campaigns/groupbuy_close.py."""
from __future__ import annotations

from app.extensions import db

SCHEDULE = "*/10 * * * *"  # every ten minutes: a campaign closes at most ten minutes after its end


def close_campaign_job(campaign_id: int, actor_id: int | None = None, early: bool = False) -> str:
    from app.services.campaigns.groupbuy_close import close_campaign

    result = close_campaign(campaign_id, actor_id, early=early)
    db.session.commit()
    if not result.closed_now:
        return f"group-buy {campaign_id}: nothing to do ({result.campaign.status})"
    return (f"group-buy {campaign_id}: {result.campaign.result}, pool {result.campaign.pool_qty}, "
            f"{result.credit_notes} credit note(s) {result.credited_fen} fen, {result.cancelled} cancelled")


def close_due_job() -> str:
    """Close each ended campaign in its own transaction (one failure does not hold the others)."""
    from app.services.campaigns.groupbuy_close import due_campaign_ids

    done = [close_campaign_job(campaign_id) for campaign_id in due_campaign_ids()]
    return f"group-buy sweep: {len(done)} campaign(s) closed"
