"""Promotion settlement: brand-funded discounts a dealer gave its retailers become a draft per
dealer, net of releases; running the same period again changes nothing; a later run pays only
"earned to date minus already settled"; approval posts one credit note brand → dealer; the
pages (admin runs and approves, a dealer sees only its own); the command and the schedule; and
on PostgreSQL two concurrent runs of one period draft once."""
import os
import threading

import pytest
from click.testing import CliRunner  # noqa: F401 (the app's runner is used)
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Organisation, PromotionRedemption, User
from app.models.credit import CreditNote
from app.models.promotions import PromotionSettlement, SettlementRun
from app.services.core.clock import today_local
from app.services.core.errors import DomainError
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.services.promotions import redemption, settlement
from tests import builders_promotions as bp
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
_keys = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _order(world, product, qty, buyer_key="retailer"):
    """A retailer's checkout through the real cart (its dealer is the seller)."""
    user, buyer = world.users[buyer_key], world.orgs[buyer_key]
    cart.add_to_cart(user, buyer, product.id, qty)
    quote = cart.quote_cart(user, buyer)
    order = ordering.submit_order(user, buyer, f"settle-{next(_keys):06d}", quote.fingerprint).order
    db.session.commit()
    return order


def _run():
    today = today_local()
    result = settlement.run_settlement(today, today)
    db.session.commit()
    return result


def _settlements(dealer):
    return db.session.scalars(select(PromotionSettlement).where(PromotionSettlement.dealer_id == dealer.id)
                              .order_by(PromotionSettlement.id)).all()


@pytest.fixture
def funded(world):
    """A brand-funded 10 % off and a dealer-funded 5 % off another product (not the brand's to pay)."""
    admin = world.users["admin"]
    drink, snack = factories.product(base_price_fen=10_000), factories.product(base_price_fen=10_000)
    bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 1000}, product_ids=[drink.id], funding="brand")
    bp.promotion(admin, world.brand, "percent_off", {"percent_x100": 500}, product_ids=[snack.id], funding="dealer")
    return drink, snack


def test_a_run_drafts_the_brand_share_per_dealer_and_the_same_period_again_changes_nothing(world, funded):
    drink, snack = funded
    _order(world, drink, 10)            # 1,000 yuan, 100 off, brand pays 100
    _order(world, snack, 10)            # dealer-funded: nothing owed
    _order(world, drink, 5, "retailer_b")  # the other dealer: 50 yuan
    first = _run()
    assert (first.drafted, first.drafted_fen) == (2, 15_000)
    dealer, dealer_b = world.orgs["dealer"], world.orgs["dealer_b"]
    [mine] = _settlements(dealer)
    assert (mine.earned_fen, mine.settled_before_fen, mine.amount_fen, mine.status) == (10_000, 0, 10_000, "draft")
    assert [s.amount_fen for s in _settlements(dealer_b)] == [5_000]

    again = _run()
    assert (again.drafted, again.drafted_fen) == (0, 0)
    assert again.run.id == first.run.id and again.run.passes == 2
    assert db.session.scalar(select(func.count()).select_from(PromotionSettlement)) == 2
    assert db.session.scalar(select(func.count()).select_from(SettlementRun)) == 1


def test_approval_posts_one_credit_note_and_later_runs_pay_only_the_difference(world, funded):
    drink, _ = funded
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    first_order = _order(world, drink, 10)
    cancelled = _order(world, drink, 20)
    redemption.release_order(cancelled.id)  # what a cancel does in its transaction
    db.session.commit()
    _run()
    [draft] = _settlements(dealer)
    assert draft.amount_fen == 10_000  # the cancelled order's 200 yuan is not owed

    settlement.approve(admin, draft.id)
    db.session.commit()
    note = db.session.scalar(select(CreditNote).where(CreditNote.customer_id == dealer.id))
    assert (note.seller_id, note.amount_fen, note.source_ref) == (world.brand.id, 10_000, draft.number)
    with pytest.raises(DomainError):
        settlement.approve(admin, draft.id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CreditNote)) == 1

    # a late return of 4 of the 10 units gives back 40 yuan of the discount: owed back,
    # so the next run drafts nothing and the one after a new order pays only the difference
    line = first_order.lines[0]
    redemption.release_returned(first_order.id, {line.id: 4})
    db.session.commit()
    assert _run().drafted == 0
    _order(world, drink, 10)
    _run()
    latest = _settlements(dealer)[-1]
    assert (latest.earned_fen, latest.settled_before_fen, latest.amount_fen) == (16_000, 10_000, 6_000)


def test_shared_funding_pays_the_brand_percentage(world):
    drink = factories.product(base_price_fen=10_000)
    bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000}, product_ids=[drink.id],
                 funding="shared", brand_share_pct=60)
    order = _order(world, drink, 3)
    [row] = db.session.scalars(select(PromotionRedemption).where(PromotionRedemption.order_id == order.id))
    assert (row.discount_fen, row.brand_fen) == (3_000, 1_800)
    _run()
    assert [s.amount_fen for s in _settlements(world.orgs["dealer"])] == [1_800]


def test_a_period_must_be_real(world):
    today = today_local()
    with pytest.raises(DomainError) as late:
        settlement.run_settlement(today, today.replace(year=today.year + 1))
    assert late.value.field == "period_end"
    with pytest.raises(DomainError) as backwards:
        settlement.run_settlement(today, today.replace(year=today.year - 1))
    assert backwards.value.field == "period_end"


def test_admin_runs_and_approves_on_the_page_and_a_dealer_sees_only_its_own(app, world, funded, login_as,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # the job runs inline after the commit
    drink, _ = funded
    _order(world, drink, 10)
    admin = login_as("admin")
    page = admin.get("/admin/promotions/settlements")
    assert page.status_code == 200 and "运行结算" in page.get_data(as_text=True)
    today = today_local().isoformat()
    bad = admin.post("/admin/promotions/settlements", {"period_start": today, "period_end": "2999-01-01"})
    assert bad.status_code == 400 and "结束日期不能晚于今天" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SettlementRun)) == 0
    ran = admin.post("/admin/promotions/settlements", {"period_start": today, "period_end": today})
    assert ran.status_code == 303
    body = admin.get("/admin/promotions/settlements").get_data(as_text=True)
    assert "杭州经销商" in body and "¥100.00" in body and "批准并入账" in body
    [draft] = _settlements(world.orgs["dealer"])
    approved = admin.post(f"/admin/promotions/settlements/{draft.id}/approve", {})
    assert approved.status_code == 303
    db.session.expire_all()
    assert db.session.get(PromotionSettlement, draft.id).status == "approved"

    dealer_page = login_as("dealer").get("/dealer/promotions/settlements").get_data(as_text=True)
    assert draft.number in dealer_page and "已批准入账" in dealer_page
    other = login_as("dealer_b").get("/dealer/promotions/settlements").get_data(as_text=True)
    assert draft.number not in other
    assert login_as("admin_b").get("/admin/promotions/settlements").status_code == 403
    assert login_as("dealer_b").post(f"/admin/promotions/settlements/{draft.id}/approve", {}).status_code in (403, 404)


def test_the_command_settles_a_period_and_the_schedule_registers_the_job(app, world, funded):
    from redis import Redis
    from rq.cron import CronScheduler

    drink, _ = funded
    _order(world, drink, 10)
    today = today_local().isoformat()
    result = app.test_cli_runner().invoke(args=["promotions", "settle", "--from", today, "--to", today])
    assert result.exit_code == 0, result.output
    assert "drafted 1 settlement(s), 10000 fen" in result.output
    again = app.test_cli_runner().invoke(args=["promotions", "settle", "--from", today, "--to", today])
    assert "drafted 0 settlement(s)" in again.output

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    [job] = [j for j in scheduler.get_jobs() if j.func_name.startswith("jobs.promotions.")]
    assert (job.func_name, job.cron, job.queue_name) == ("jobs.promotions.settle_job", "30 19 1 * *", "default")


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
def test_two_concurrent_runs_of_one_period_draft_once(app, world, funded):
    from jobs.promotions import settle_job

    drink, _ = funded
    _order(world, drink, 10)
    _order(world, drink, 5, "retailer_b")
    db.session.remove()
    today = today_local().isoformat()
    start = threading.Barrier(4)
    outputs, errors = [], []

    def run():
        with app.app_context(), app.test_request_context():
            try:
                start.wait(30)
                outputs.append(settle_job(today, today))
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(int(o.split("drafted ")[1].split(" ")[0]) for o in outputs) == [0, 0, 0, 2]
    rows = db.session.scalars(select(PromotionSettlement).order_by(PromotionSettlement.dealer_id)).all()
    assert [r.amount_fen for r in rows] == [10_000, 5_000]
    assert db.session.scalar(select(SettlementRun.passes)) == 4


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
def test_two_concurrent_approvals_post_one_credit_note(app, world, funded):
    drink, _ = funded
    _order(world, drink, 10)
    _run()
    [draft] = _settlements(world.orgs["dealer"])
    draft_id, admin_ids = draft.id, [world.users["admin"].id, world.users["admin"].id]
    db.session.remove()
    start = threading.Barrier(2)
    outcomes, errors = [], []

    def approve(user_id):
        with app.app_context(), app.test_request_context():
            try:
                start.wait(30)
                settlement.approve(db.session.get(User, user_id), draft_id)
                db.session.commit()
                outcomes.append("posted")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(uid,)) for uid in admin_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(outcomes) == ["posted", "refused"]
    assert db.session.scalar(select(func.count()).select_from(CreditNote)) == 1


@pytest.mark.xdist_group("serial")
def test_a_real_worker_runs_the_settlement_job(app, world, funded, tmp_path):
    """With REDIS_URL the command enqueues on RQ and `flask worker --burst` runs the job; without
    it the command itself runs in its own process. Either way the drafts appear once."""
    from tests.test_documents_worker import _finish, _flask

    drink, _ = funded
    _order(world, drink, 10)
    dealer_id = world.orgs["dealer"].id
    today = today_local().isoformat()
    db.session.remove()
    log = tmp_path / "settle.log"
    _finish(_flask(app, ["promotions", "settle", "--from", today, "--to", today,
                         *(["--queue"] if app.config.get("REDIS_URL") else [])], log), log)
    if app.config.get("REDIS_URL"):
        worker_log = tmp_path / "worker.log"
        _finish(_flask(app, ["worker", "--burst"], worker_log), worker_log)
    db.session.rollback()
    assert db.session.scalars(select(PromotionSettlement.amount_fen)
                              .where(PromotionSettlement.dealer_id == dealer_id)).all() == [10_000]


@pytest.mark.xdist_group("serial")
def test_a_worker_killed_mid_run_leaves_nothing_half_drafted(app, world, funded, tmp_path):
    """The job commits "running" first, then drafts batch by batch, each committed: SIGKILLed
    before a batch commits, nothing of it is drafted and the page shows the run as started; the
    next run drafts once."""
    from jobs.promotions import settle_job
    from tests.test_documents_worker import _finish, _flask, _kill_session
    from tests.waiting import wait_until

    drink, _ = funded
    _order(world, drink, 10)
    dealer_id = world.orgs["dealer"].id
    today = today_local().isoformat()
    db.session.remove()
    queued = bool(app.config.get("REDIS_URL"))
    if queued:
        enqueue_log = tmp_path / "enqueue.log"
        _finish(_flask(app, ["promotions", "settle", "--from", today, "--to", today, "--queue"], enqueue_log),
                enqueue_log)
    log = tmp_path / "victim.log"
    victim = _flask(app, ["worker", "--burst"] if queued else ["promotions", "settle", "--from", today, "--to", today],
                    log, SETTLEMENT_COMMIT_DELAY=120)

    def running():
        db.session.rollback()
        return db.session.scalar(select(SettlementRun).where(SettlementRun.finished_at.is_(None)))

    try:
        wait_until(running, timeout=60, what="the run marked running", still_possible=lambda: victim.poll() is None,
                   details=lambda: log.read_text(errors="replace")[-2000:])
    finally:
        _kill_session(victim)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PromotionSettlement)) == 0
    assert running() is not None  # shown as running (started at …) until the period runs again

    settle_job(today, today)
    settle_job(today, today)
    db.session.rollback()
    assert db.session.scalars(select(PromotionSettlement.amount_fen)
                              .where(PromotionSettlement.dealer_id == dealer_id)).all() == [10_000]
    assert running() is None


def test_the_runs_list_reads_a_fixed_number_of_queries(world, funded):
    from tests import builders_ordering as b

    drink, _ = funded
    _order(world, drink, 10)
    _run()
    settlement.approve(world.users["admin"], _settlements(world.orgs["dealer"])[0].id)
    db.session.commit()

    def shown():
        db.session.expire_all()
        with b.count_queries() as queries:
            for run in settlement.recent_runs():
                for row in run.settlements:
                    (row.dealer.name, row.credit_note.number if row.credit_note else None)
        return len(queries)

    one = shown()
    _order(world, drink, 5, "retailer_b")
    _order(world, drink, 7)
    _run()
    settlement.approve(world.users["admin"], _settlements(world.orgs["dealer_b"])[0].id)
    db.session.commit()
    assert len(db.session.scalars(select(PromotionSettlement)).all()) == 3
    assert shown() == one == 4


def test_a_running_run_shows_its_progress_and_polls_until_finished(app, world, funded, login_as):
    """While a pass runs the page says how many dealers are done and polls (htmx) every few
    seconds; without JS a "刷新" link; once finished the section stops polling and shows totals."""
    drink, _ = funded
    _order(world, drink, 10)
    _order(world, drink, 5, "retailer_b")
    today = today_local()
    run = SettlementRun(period_start=today, period_end=today, passes=1, dealers_total=10, dealers_done=3)
    db.session.add(run)
    db.session.commit()
    admin = login_as("admin")
    page = admin.get("/admin/promotions/settlements").get_data(as_text=True)
    status_url = f"/admin/promotions/settlements/runs/{run.id}"
    assert "已处理 3 / 10 个经销商" in page
    assert f'hx-get="{status_url}" hx-trigger="every 3s"' in page and ">刷新</a>" in page
    fragment = admin.get(status_url, headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "已处理 3 / 10 个经销商" in body
    assert "hx-trigger" in body
    assert admin.get(status_url).status_code == 303  # without htmx: the page itself

    _run()  # the same period's next pass, run to the end
    body = admin.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in body and "已处理" not in body
    assert "已完成：处理 2 个经销商，2 张结算单，合计 ¥150.00" in body
    assert login_as("dealer").get(status_url).status_code == 403
    assert admin.get("/admin/promotions/settlements/runs/999999", headers={"HX-Request": "true"}).status_code == 404


def test_progress_moves_per_batch_and_only_for_the_latest_pass(world, funded):
    """The job's callback commits after the set-up and after each batch; the run row counts the
    dealers done. A pass overtaken by a newer one (passes moved on) no longer writes progress
    nor marks the run finished."""
    drink, _ = funded
    _order(world, drink, 10)
    _order(world, drink, 5, "retailer_b")
    today = today_local()
    seen = []

    def batch_done():
        db.session.commit()
        seen.append(db.session.execute(select(SettlementRun.dealers_done, SettlementRun.dealers_total)).one())

    result = settlement.run_settlement(today, today, batch_done=batch_done, batch_size=1)
    db.session.commit()
    assert seen == [(0, 2), (1, 2), (2, 2)] and result.drafted == 2
    assert result.run.finished_at is not None

    _order(world, drink, 1)

    def overtaken():
        if not seen[3:]:  # a newer pass starts right after this one's set-up
            db.session.execute(update(SettlementRun).values(passes=SettlementRun.passes + 1, dealers_done=0))
        db.session.commit()
        seen.append(db.session.execute(select(SettlementRun.dealers_done, SettlementRun.finished_at)).one())

    settlement.run_settlement(today, today, batch_done=overtaken, batch_size=1)
    db.session.commit()
    assert [done for done, _at in seen[3:]] == [0, 0, 0]
    assert db.session.scalar(select(SettlementRun.finished_at)) is None  # the newer pass will finish it
    assert [s.amount_fen for s in _settlements(world.orgs["dealer"])] == [11_000]
