"""Webhook fan-out: N events (default 1,000), each committed in its own transaction, to 5
subscriptions, delivered by two `flask worker` processes to a local receiver (a thread). Prints
the total time until every delivery arrived and the event→delivery latency (p50/p95/max: the
receiver's arrival time minus the event's time), first with all events at once (a backlog),
then paced (--rate events/s), the queue not backed up.

    python bench/webhook_fanout.py [--events 1000] [--rate 20 --paced 200] [--database URL]

Uses its own database (default bench_h14b, created and migrated if missing; it writes outbox
rows, subscriptions and deliveries there and deletes them at the end) and Redis database
REDIS_URL (default redis://127.0.0.1:6379/4), which it FLUSHES."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.benchlib import ROOT, percentile  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402

SUBSCRIPTIONS = 5


def _ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True,
                   env=dict(os.environ, DATABASE_URL=url), capture_output=True)


def _workers(env: dict, n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "default", "webhooks",
                              "--simple"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--paced", type=int, default=200, help="events of the paced run (0: skip it)")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second in the paced run")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/bench_h14b")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")
    _ensure_database(args.database)
    receiver = Receiver().start()
    env = dict(os.environ, DATABASE_URL=args.database, REDIS_URL=redis_url, WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
               SECRET_KEY="bench-only-not-secret", LIANYING_ENV="production")

    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    from app import create_app
    from app.extensions import db
    from app.models import Organisation, OutboxEvent, WebhookSubscription
    from app.services.core.redis_conn import redis_connection
    from app.services.integrations import outbox
    from sqlalchemy import delete, select

    from app.config import database_url

    app = create_app("production", SQLALCHEMY_DATABASE_URI=database_url(args.database), REDIS_URL=redis_url,
                     SECRET_KEY="bench-only-not-secret", WEBHOOK_ALLOWED_HOSTS=("127.0.0.1",))
    with app.app_context():
        redis_connection().flushdb()
        brand = db.session.scalar(select(Organisation).where(Organisation.code == "BENCH-BRAND")) or \
            Organisation(kind="brand", code="BENCH-BRAND", name="bench brand")
        dealer = db.session.scalar(select(Organisation).where(Organisation.code == "BENCH-D1")) or \
            Organisation(kind="dealer", code="BENCH-D1", name="bench dealer")
        db.session.add_all([brand, dealer])
        db.session.flush()
        subs = [WebhookSubscription(org_id=(brand if i < 2 else dealer).id, url=receiver.url, event_types="*",
                                    secret="whsec_" + "QmVuY2hCZW5jaEJlbmNoQmVuY2hCZW5jaA==")
                for i in range(SUBSCRIPTIONS)]
        db.session.add_all(subs)
        db.session.commit()
        workers = _workers(env, 2)
        from rq import Worker

        deadline = time.time() + 120
        while Worker.count(connection=redis_connection()) < 2 and time.time() < deadline:
            time.sleep(0.1)  # polling until both workers registered (their start is not measured)
        try:
            for label, count, rate in (("backlog", args.events, None), ("paced", args.paced, args.rate)):
                if not count:
                    continue
                receiver.requests.clear()
                occurred: dict[str, float] = {}
                started = time.time()
                for i in range(count):
                    if rate:
                        time.sleep(max(0.0, started + i / rate - time.time()))  # pacing, not a wait for a result
                    event_id = outbox.record("price.changed", "product", 10_000_000 + i + (0 if rate is None else count),
                                             [dealer.id], {"bench": i})
                    db.session.commit()
                    occurred[event_id] = time.time()
                produced = time.time() - started
                deadline = time.time() + 600
                while len(receiver.requests) < count * SUBSCRIPTIONS and time.time() < deadline:
                    time.sleep(0.05)  # polling the receiver's count
                total = max(r.at for r in receiver.requests) - started if receiver.requests else float("nan")
                latencies = sorted((r.at - occurred[r.headers["webhook-id"]]) * 1000 for r in receiver.requests
                                   if r.headers["webhook-id"] in occurred)
                load = os.getloadavg()
                print(f"{label}: {count} events x {SUBSCRIPTIONS} subscriptions = {len(receiver.requests)} of "
                      f"{count * SUBSCRIPTIONS} deliveries in {total:.1f} s (events written in {produced:.1f} s); "
                      f"event→delivery p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
                      f"max {latencies[-1]:.0f} ms; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
                ids = {r.headers["webhook-id"] for r in receiver.requests}
                print(f"  distinct event ids received: {len(ids)}")
        finally:
            for worker in workers:
                os.killpg(worker.pid, 15)
                worker.wait(timeout=30)
            receiver.stop()
            from app.models import WebhookDelivery
            sub_ids = [s.id for s in subs]
            db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id.in_(sub_ids)))
            db.session.execute(delete(WebhookSubscription).where(WebhookSubscription.id.in_(sub_ids)))
            db.session.execute(delete(OutboxEvent).where(OutboxEvent.aggregate_id >= 10_000_000))
            db.session.commit()
            redis_connection().flushdb()


if __name__ == "__main__":
    main()
