"""Real worker processes. With REDIS_URL: `flask worker --burst` (an RQ worker whose jobs fork
work horses; `--simple`: run in the worker itself), enqueued by the web side. Without it, the same flow runs inline in a separate
process (`flask documents build`, `flask documents recover`). Either way a process is
SIGKILLed in the middle of an invoice job and the invoice still appears exactly once.

They start processes, so they run in the xdist group "serial"; they wait on process exits and on
polling the database with a deadline, never on a fixed sleep."""
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.config import ROOT
from app.extensions import db
from app.models import Document, Invoice, utcnow
from app.services.documents import requests as documents
from tests.builders_documents import many_lines, order_with_lines, pdf_text
from tests.waiting import wait_until

pytestmark = pytest.mark.xdist_group("serial")


def _env(app, **extra) -> dict:
    env = dict(os.environ, LIANYING_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config.get("REDIS_URL") or "", DOCUMENT_RENDER_DELAY="0")
    env.update({key: str(value) for key, value in extra.items()})
    return env


def _flask(app, args, log_path, **env) -> subprocess.Popen:
    """Start `flask --app wsgi <args>` in its own process group (so a kill takes its children)."""
    log = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                            env=_env(app, **env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _kill_session(leader: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse. RQ moves each horse into a process group of its
    own, so killing the worker's group is not enough; both stay in the session it leads."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == leader.pid:
                    members.append(int(entry))
            except OSError:
                continue  # gone meanwhile
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    leader.wait(timeout=10)


def _session_alive(leader_pid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == leader_pid and not _is_zombie(int(entry)):
                    return True
            except OSError:
                continue
    return False


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def _finish(process: subprocess.Popen, log_path, timeout=240) -> None:
    assert process.wait(timeout=timeout) == 0, log_path.read_text(errors="replace")[-3000:]


def _document(order_id) -> Document | None:
    db.session.rollback()  # see what the other processes committed
    return db.session.scalar(select(Document).where(Document.order_id == order_id, Document.kind == "invoice"))


def _invoices(order_id) -> list[Invoice]:
    db.session.rollback()
    return list(db.session.scalars(select(Invoice).where(Invoice.order_id == order_id)))


def _wait_until(condition, process, timeout, what, log_path):
    """Poll `condition` while `process` runs (a slow, loaded machine gets the full timeout)."""
    wait_until(condition, timeout, what, interval=0.2, still_possible=lambda: process.poll() is None,
               details=lambda: f"process exit code {process.poll()}\n" + log_path.read_text(errors="replace")[-3000:])


def _start_invoice_job(app, order_id, log_path, worker_options=(), **env) -> subprocess.Popen:
    if app.config.get("REDIS_URL"):
        documents.request_order_document(order_id, "invoice")
        db.session.commit()  # enqueued on Redis after this commit
        return _flask(app, ["worker", "--burst", *worker_options], log_path, **env)
    return _flask(app, ["documents", "build", "invoice", str(order_id)], log_path, **env)


@pytest.mark.parametrize("worker_options", [(), ("--simple",)], ids=["forking", "simple"])
def test_a_worker_process_builds_the_invoice(app, world, tmp_path, worker_options):
    if worker_options and not app.config.get("REDIS_URL"):
        pytest.skip("--simple is an RQ worker option: without REDIS_URL the job runs inline, as in [forking]")
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], many_lines(20))
    db.session.commit()
    log = tmp_path / "worker.log"
    _finish(_start_invoice_job(app, order.id, log, worker_options), log)

    document = _document(order.id)
    assert document.status == "ready" and document.attempts == 1, document.last_error
    [invoice] = _invoices(order.id)
    text = pdf_text(document.pdf)
    assert invoice.number in text and "西湖小卖部" in text and "测试饮料019号" in text


def test_worker_killed_mid_job_the_invoice_appears_exactly_once(app, world, tmp_path):
    order = order_with_lines(world.orgs["retailer"], world.orgs["dealer"], many_lines(60))
    db.session.commit()

    # 1. A worker claims the job, issues the number, then is killed while it renders.
    victim_log = tmp_path / "victim.log"
    victim = _start_invoice_job(app, order.id, victim_log, DOCUMENT_RENDER_DELAY=300)
    try:
        _wait_until(lambda: _invoices(order.id) and _document(order.id) and _document(order.id).status == "running",
                    victim, 180, "running invoice job", victim_log)
    finally:
        _kill_session(victim)
    # SIGKILL is final, but a horse may take a moment to be reaped by init.
    wait_until(lambda: not _session_alive(victim.pid), 10, "the killed worker's processes to go")
    [issued] = _invoices(order.id)
    number = issued.number
    stuck = _document(order.id)
    assert stuck.status == "running" and stuck.attempts == 1 and stuck.pdf is None

    # 2. The document's worker has been gone for longer than the stale limit (1 s here): its
    # claim is dated back rather than waited out. Another worker starts.
    db.session.execute(update(Document).where(Document.id == stuck.id)
                       .values(started_at=utcnow() - timedelta(seconds=2)))
    db.session.commit()
    rescuer_log = tmp_path / "rescuer.log"
    if app.config.get("REDIS_URL"):
        rescuer = _flask(app, ["worker", "--burst"], rescuer_log, DOCUMENT_STALE_SECONDS=1)
    else:
        rescuer = _flask(app, ["documents", "recover"], rescuer_log, DOCUMENT_STALE_SECONDS=1)
    _finish(rescuer, rescuer_log)

    document = _document(order.id)
    assert document.status == "ready", document.last_error + rescuer_log.read_text(errors="replace")
    assert document.attempts == 2
    assert [i.number for i in _invoices(order.id)] == [number]
    assert db.session.scalar(select(func.count(Document.id)).where(Document.order_id == order.id)) == 1
    assert number in pdf_text(document.pdf)
