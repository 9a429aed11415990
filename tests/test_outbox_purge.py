"""Issue 14: delivered outbox events and their delivery logs are deleted after the retention
(OUTBOX_RETENTION_DAYS) by the nightly job and `flask api purge`, in batches; pending and failed
deliveries stay, and so does each aggregate's latest event (its sequence goes on from it)."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription, utcnow
from app.services.integrations import retention
from jobs.api import purge_outbox_job
from app.models import Organisation


def world_brand_id() -> int:
    return db.session.scalar(select(Organisation.id).where(Organisation.kind == "brand").limit(1))


def event(order_id: int, sequence: int, age_days: float, deliveries: tuple[str, ...] = ()) -> OutboxEvent:
    row = OutboxEvent(event_id=f"evt_{order_id}_{sequence}", type="order.approved", aggregate_type="order",
                      aggregate_id=order_id, sequence=sequence, org_ids=[], data={},
                      occurred_at=utcnow() - timedelta(days=age_days))
    db.session.add(row)
    db.session.flush()
    for status in deliveries:
        subscription = WebhookSubscription(org_id=world_brand_id(), url="https://example.com/hook",
                                           secret="whsec_x", event_types="*")
        db.session.add(subscription)
        db.session.flush()
        delivery = WebhookDelivery(subscription_id=subscription.id, event_id=row.id, status=status, attempts=1)
        db.session.add(delivery)
        db.session.flush()
        db.session.add(WebhookAttempt(delivery_id=delivery.id, at=row.occurred_at, status_code=200, duration_ms=5,
                                      ok=status == "delivered"))
    return row


def remaining() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(OutboxEvent.event_id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_job_deletes_old_delivered_events_with_their_logs_and_keeps_the_rest(app, world):
    event(1, 1, 40, ("delivered", "delivered"))      # old, delivered twice: goes
    event(1, 2, 35)                                  # old, heard by nobody: goes
    event(1, 3, 31, ("failed",))                      # old but failed (replayable): stays
    event(1, 4, 20, ("delivered",))                   # younger than 30 days: stays
    event(2, 1, 90, ("delivered",))                   # old, delivered, but order 2's latest: stays
    event(3, 1, 50, ("pending",))
    event(3, 2, 45, ("delivered",))                   # order 3's latest: stays
    db.session.commit()
    assert count(WebhookAttempt) == 7

    assert purge_outbox_job() == "removed 2 delivered outbox event(s) and 2 delivery attempt(s)"
    assert remaining() == {"evt_1_3", "evt_1_4", "evt_2_1", "evt_3_1", "evt_3_2"}
    assert count(WebhookDelivery) == count(WebhookAttempt) == 5
    assert purge_outbox_job() == "removed 0 delivered outbox event(s) and 0 delivery attempt(s)"  # safe twice


def test_retention_is_a_setting_and_the_purge_runs_in_batches(app, world, monkeypatch):
    for sequence in range(1, 8):
        event(7, sequence, 11.5 - sequence, ("delivered",))
    db.session.commit()
    monkeypatch.setitem(app.config, "OUTBOX_RETENTION_DAYS", 10)
    assert purge_outbox_job().startswith("removed 1 ")  # only sequence 1 is 11 days old
    commits = []
    assert retention.purge(3, limit=2, commit=lambda: (commits.append(1), db.session.commit())) == (5, 5)
    assert len(commits) == 3  # batches of 2, 2 and 1
    assert remaining() == {"evt_7_7"}


def test_the_command_purges_events_and_expired_idempotency_keys(app, world):
    event(5, 1, 60, ("delivered",))
    event(5, 2, 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["api", "purge", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 delivered outbox event(s) and 1 delivery attempt(s)" in result.output
    assert "expired idempotency key(s)" in result.output
    assert remaining() == {"evt_5_2"}


def test_the_schedule_registers_the_nightly_outbox_purge_and_the_hourly_key_purge():
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    found = {j.func_name: (j.cron, j.queue_name) for j in scheduler.get_jobs() if j.func_name.startswith("jobs.api.")}
    assert found == {"jobs.api.purge_outbox_job": ("43 3 * * *", "default"),
                     "jobs.api.purge_idempotency_keys_job": ("17 * * * *", "default")}
