"""The rebate settlement job on a real worker: with REDIS_URL the command enqueues on RQ and
`flask worker --burst` runs it; a worker SIGKILLed before the drafts commit leaves none, the page
shows the run as started, and the next runs draft once. Also: the command and the schedule."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.rebates import RebateRun, RebateSettlement
from app.services.core.clock import today_local
from tests import builders_rebates as br
from tests import factories


@pytest.fixture
def earned(app, world):
    """A dealer with ¥12 of rebate earned today (¥600 invoiced at 2 %)."""
    with app.test_request_context():
        br.agreement(world.users["admin"], world.orgs["dealer"], mode="flat", rate_bp=200)
        br.invoiced(world.orgs["dealer"], world.brand, [(factories.product(base_price_fen=10_000), 6)])
    return world.orgs["dealer"].id


def _amounts(dealer_id):
    db.session.rollback()
    return db.session.scalars(select(RebateSettlement.amount_fen).where(RebateSettlement.dealer_id == dealer_id)).all()


def test_the_command_settles_and_the_schedule_registers_the_job(app, earned):
    from redis import Redis
    from rq.cron import CronScheduler

    today = today_local().isoformat()
    first = app.test_cli_runner().invoke(args=["rebates", "settle", "--as-of", today])
    assert first.exit_code == 0, first.output
    assert "drafted 1 settlement(s), 1200 fen" in first.output
    again = app.test_cli_runner().invoke(args=["rebates", "settle", "--as-of", today])
    assert "drafted 0 settlement(s)" in again.output
    assert _amounts(earned) == [1_200]
    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    [job] = [j for j in scheduler.get_jobs() if j.func_name.startswith("jobs.rebates.")]
    assert (job.func_name, job.cron) == ("jobs.rebates.settle_job", "0 20 1 * *")


@pytest.mark.xdist_group("serial")
def test_a_real_worker_runs_the_settlement_job(app, earned, tmp_path):
    from tests.test_documents_worker import _finish, _flask

    today = today_local().isoformat()
    db.session.remove()
    log = tmp_path / "settle.log"
    _finish(_flask(app, ["rebates", "settle", "--as-of", today,
                         *(["--queue"] if app.config.get("REDIS_URL") else [])], log), log)
    if app.config.get("REDIS_URL"):
        worker_log = tmp_path / "worker.log"
        _finish(_flask(app, ["worker", "--burst"], worker_log), worker_log)
    assert _amounts(earned) == [1_200]


@pytest.mark.xdist_group("serial")
def test_a_worker_killed_mid_run_leaves_nothing_half_drafted(app, earned, tmp_path):
    from jobs.rebates import settle_job
    from tests.test_documents_worker import _finish, _flask, _kill_session
    from tests.waiting import wait_until

    today = today_local().isoformat()
    db.session.remove()
    queued = bool(app.config.get("REDIS_URL"))
    if queued:
        enqueue_log = tmp_path / "enqueue.log"
        _finish(_flask(app, ["rebates", "settle", "--as-of", today, "--queue"], enqueue_log), enqueue_log)
    log = tmp_path / "victim.log"
    victim = _flask(app, ["worker", "--burst"] if queued else ["rebates", "settle", "--as-of", today],
                    log, SETTLEMENT_COMMIT_DELAY=120)

    def running():
        db.session.rollback()
        return db.session.scalar(select(RebateRun).where(RebateRun.finished_at.is_(None)))

    try:
        wait_until(running, timeout=60, what="the run marked running", still_possible=lambda: victim.poll() is None,
                   details=lambda: log.read_text(errors="replace")[-2000:])
    finally:
        _kill_session(victim)
    assert db.session.scalar(select(func.count()).select_from(RebateSettlement)) == 0
    assert running() is not None  # shown as running until the day is run again

    with app.test_request_context():
        settle_job(today)
        settle_job(today)
    assert _amounts(earned) == [1_200]
    assert running() is None
