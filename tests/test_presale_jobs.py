"""Presale jobs: the release button's job run by a real `flask worker --burst` process (with
REDIS_URL), the nightly job (release on the date, then cancel what the balance window left
unpaid), and the schedule that registers it. No sleeps: the worker is waited on by its exit."""
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.config import ROOT
from app.extensions import db
from app.models import Order
from app.models.presale import PresaleCampaign, PresaleOrder
from app.services.campaigns import presale
from app.services.core.clock import today_local
from tests import builders_presale as bp
from tests.test_documents_worker import _env

pytestmark = pytest.mark.xdist_group("serial")


def _held_order(world, qty=2, **campaign):
    item = bp.campaign(**campaign)
    bp.top_up(world)
    user = world.users["retailer"]
    row = presale.place_order(user, user.org, item.id, qty, "prepayment", f"jobs-key-{item.id}")
    db.session.commit()
    return item, row


def test_the_release_button_runs_in_a_worker_process(app, world, tmp_path):
    if not app.config.get("REDIS_URL"):
        pytest.skip("without REDIS_URL the job runs inline after the commit (tests/test_presale.py)")
    item, row = _held_order(world)
    presale.request_release(world.users["admin"], item.campaign_id)
    db.session.commit()  # enqueued on Redis after this commit
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"], cwd=ROOT,
                                env=_env(app), stdout=out, stderr=subprocess.STDOUT, timeout=240)
    assert worker.returncode == 0, log.read_text(errors="replace")[-3000:]
    db.session.rollback()  # see what the worker committed
    assert db.session.get(PresaleCampaign, item.campaign_id).status == "released"
    assert db.session.get(Order, row.order_id).status == "approved"
    assert db.session.get(PresaleOrder, row.id).balance == "paid"


def test_the_nightly_job_releases_on_the_date_and_cancels_unpaid_balances(world):
    from jobs.presale import nightly_job

    _held_order(world, release_in=10)
    _held_order(world, qty=1, release_in=10, non_payment="forfeit")
    assert "0 order(s) released" in nightly_job()  # not yet the release date
    for campaign in db.session.scalars(select(PresaleCampaign)):
        campaign.deposit_opens_on = today_local() - timedelta(days=9)
        campaign.deposit_closes_on = today_local() - timedelta(days=5)
        campaign.release_on = today_local() - timedelta(days=4)
        campaign.balance_opens_on = today_local() - timedelta(days=4)
        campaign.balance_closes_on = today_local() - timedelta(days=1)
    db.session.commit()
    # the shop's prepayment covers every balance: nothing is left unpaid, nothing cancelled
    assert nightly_job() == "presale: 2 order(s) released, 0 cancelled for an unpaid balance"
    assert nightly_job() == "presale: 0 order(s) released, 0 cancelled for an unpaid balance"
    db.session.expire_all()
    assert {r.balance for r in db.session.scalars(select(PresaleOrder))} == {"paid"}
    assert {c.status for c in db.session.scalars(select(PresaleCampaign))} == {"finished"}


def test_the_schedule_registers_the_nightly_job():
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    [job] = [j for j in scheduler.get_jobs() if j.func_name.startswith("jobs.presale.")]
    assert (job.func_name, job.cron, job.queue_name) == ("jobs.presale.nightly_job", "20 16 * * *", "default")
