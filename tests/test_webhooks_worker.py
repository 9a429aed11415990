"""Issue 14: a worker killed in the middle of a delivery. The receiver holds the first request
unanswered; the worker process (and its work horse) is SIGKILLed; the attempt's transaction dies
with it, so the delivery is still pending; the sweep re-enqueues it (RQ still calls the dead
job "started") and a new worker delivers the SAME event id again, which the receiver can drop.

Needs REDIS_URL (real worker processes); xdist group "serial". Waits by polling with deadlines."""
import os
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from app.config import ROOT
from app.extensions import db
from app.models import OutboxEvent, WebhookAttempt, WebhookDelivery
from app.services.integrations import webhooks
from app.services.ordering import lifecycle
from jobs.webhooks import sweep_due_job
from tests import builders_lifecycle as b
from tests import factories
from tests.waiting import wait_until
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.xdist_group("serial")


def _worker(app, log_path, *args) -> subprocess.Popen:
    env = dict(os.environ, LIANYING_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"], WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "default", "webhooks", *args],
                            cwd=ROOT, env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _kill_session(leader: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse (RQ gives the horse a process group of its own)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == leader.pid:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue
    leader.wait(timeout=10)


def test_a_worker_killed_mid_delivery_redelivers_the_same_event_id(app, world, tmp_path, monkeypatch):
    if not app.config.get("REDIS_URL"):
        pytest.skip("real RQ workers need REDIS_URL")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ("127.0.0.1",))
    receiver = Receiver(hold_first=threading.Event()).start()
    try:
        webhooks.subscribe(world.orgs["dealer"], receiver.url, ["order.approved"])
        order = b.order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)])
        db.session.commit()
        lifecycle.transition(order.id, "approved", world.users["dealer"].id)
        db.session.commit()  # the fan-out job is on Redis now
        event_id = db.session.scalar(select(OutboxEvent.event_id).where(OutboxEvent.type == "order.approved"))

        log = tmp_path / "worker1.log"
        first = _worker(app, log)
        wait_until(lambda: receiver.requests, 120, "the first delivery to arrive",
                   still_possible=lambda: first.poll() is None, details=lambda: log.read_text(errors="replace"))
        _kill_session(first)
        receiver.hold_first.set()

        db.session.rollback()
        [delivery] = db.session.scalars(select(WebhookDelivery)).all()
        assert delivery.status == "pending" and delivery.attempts == 0  # the killed attempt left nothing
        monkeypatch.setitem(app.config, "WEBHOOK_STALE_SECONDS", 0)
        assert sweep_due_job() == 1  # commits: the attempt is enqueued again despite the "started" job

        log2 = tmp_path / "worker2.log"
        second = _worker(app, log2, "--burst")
        assert second.wait(timeout=120) == 0, log2.read_text(errors="replace")[-3000:]
        db.session.rollback()
        assert db.session.get(WebhookDelivery, delivery.id, populate_existing=True).status == "delivered"
        assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id, event_id]
        assert len(db.session.scalars(select(WebhookAttempt)).all()) == 1
    finally:
        receiver.hold_first.set()
        receiver.stop()
