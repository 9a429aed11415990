"""Recurring jobs, read by RQ's own scheduler (`rq cron`, built into rq since 2.4):

    rq cron jobs.schedule --url "$REDIS_URL" --path .    # enqueues each job on its schedule
    flask --app wsgi worker                              # workers run them, each in an app context

Run one `rq cron` process per deployment (it only enqueues; workers do the work). Add a job
family's schedule here with one `cron.register(...)` line.
"""
from rq import cron

from jobs.stock_alerts import SCHEDULE as STOCK_ALERT_SCHEDULE
from jobs.stock_alerts import scan_stock_alerts_job

cron.register(scan_stock_alerts_job, "default", cron=STOCK_ALERT_SCHEDULE, job_timeout=1800, name="stock-alert-scan")

from jobs.analytics import SCHEDULE_FACTS, SCHEDULE_FORECAST, forecast_job, refresh_facts_job  # noqa: E402

cron.register(refresh_facts_job, "default", cron=SCHEDULE_FACTS, job_timeout=3600, name="analytics-facts")
cron.register(forecast_job, "default", cron=SCHEDULE_FORECAST, job_timeout=3600, name="demand-forecast")

from jobs.api import (SCHEDULE_IDEMPOTENCY_PURGE, SCHEDULE_OUTBOX_PURGE, purge_idempotency_keys_job,  # noqa: E402
                      purge_outbox_job)

cron.register(purge_idempotency_keys_job, "default", cron=SCHEDULE_IDEMPOTENCY_PURGE, job_timeout=600,
              name="api-idempotency-purge")
cron.register(purge_outbox_job, "default", cron=SCHEDULE_OUTBOX_PURGE, job_timeout=3600, name="outbox-purge")

from jobs.promotions import SCHEDULE as SETTLEMENT_SCHEDULE  # noqa: E402
from jobs.promotions import settle_job  # noqa: E402

cron.register(settle_job, "default", cron=SETTLEMENT_SCHEDULE, job_timeout=3600, name="promotion-settlement")

from jobs.rebates import SCHEDULE as REBATE_SCHEDULE  # noqa: E402
from jobs.rebates import settle_job as rebate_settle_job  # noqa: E402

cron.register(rebate_settle_job, "default", cron=REBATE_SCHEDULE, job_timeout=3600, name="rebate-settlement")
from jobs.webhooks import SCHEDULE_SWEEP, sweep_due_job  # noqa: E402

cron.register(sweep_due_job, "webhooks", cron=SCHEDULE_SWEEP, job_timeout=1800, name="webhook-due-sweep")

from jobs.loyalty import SCHEDULE_EXPIRY, SCHEDULE_TIERS, expire_points_job, recompute_tiers_job  # noqa: E402

cron.register(expire_points_job, "default", cron=SCHEDULE_EXPIRY, job_timeout=3600, name="points-expiry")
cron.register(recompute_tiers_job, "default", cron=SCHEDULE_TIERS, job_timeout=3600, name="member-tiers")
from jobs.groupbuy import SCHEDULE as GROUPBUY_SCHEDULE  # noqa: E402
from jobs.groupbuy import close_due_job  # noqa: E402

cron.register(close_due_job, "default", cron=GROUPBUY_SCHEDULE, job_timeout=1800, name="groupbuy-close")
from jobs.logistics import SCHEDULE as CARRIER_POLL_SCHEDULE  # noqa: E402
from jobs.logistics import poll_carriers_job  # noqa: E402

cron.register(poll_carriers_job, "default", cron=CARRIER_POLL_SCHEDULE, job_timeout=600, name="carrier-poll")
from jobs.presale import SCHEDULE as PRESALE_SCHEDULE  # noqa: E402
from jobs.presale import nightly_job as presale_nightly_job  # noqa: E402

cron.register(presale_nightly_job, "default", cron=PRESALE_SCHEDULE, job_timeout=1800, name="presale-nightly")
