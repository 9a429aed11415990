"""Low-stock and near-expiry alerts: one notice per product and warehouse until it recovers,
the right recipients, e-mail through SMTP when configured, the command, the schedule, and the
notification pages."""
import email
import email.policy
import socketserver
import threading

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, ReorderRule, StockAlert
from app.services import notifications
from app.services.inventory import operations
from app.services.inventory.alerts import scan_stock_alerts
from app.services.core.redis_conn import redis_connection
from tests import factories
from tests.builders_stock import stock, warehouse
from tests.builders_lifecycle import shown


@pytest.fixture
def shop(world):
    dealer_wh = warehouse(world.orgs["dealer"], world.regions["hz"], code="HZ-1", name="杭州仓")
    dc = warehouse(world.brand, world.regions["zj"], code="DC-1", name="华东DC")
    product = factories.product(code="JUICE", name_zh="橙汁")
    lot = stock(dealer_wh, product, 10, batch="J1", expires_in_days=200)
    stock(dc, product, 50, batch="J2", expires_in_days=300)
    db.session.add_all([ReorderRule(warehouse_id=dealer_wh.id, product_id=product.id, safety_stock=5, reorder_point=12),
                        ReorderRule(warehouse_id=dc.id, product_id=product.id, safety_stock=5, reorder_point=60)])
    db.session.commit()
    return dict(dealer_wh=dealer_wh, dc=dc, product=product, lot=lot)


def _notices(user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def test_one_notice_per_product_and_warehouse_until_it_recovers(shop, world):
    dealer_user, admin, admin_without_stock = world.users["dealer"], world.users["admin"], world.users["admin_b"]
    result = scan_stock_alerts()
    db.session.commit()
    assert result.opened == {"low_stock": 2, "near_expiry": 0}
    [dealer_notice] = map(shown, _notices(dealer_user))
    assert "橙汁" in dealer_notice.title and "杭州仓" in dealer_notice.title
    assert "可用 10，再订货点 12" in dealer_notice.body
    assert dealer_notice.link == f"/dealer/stock/{shop['dealer_wh'].id}/{shop['product'].id}"
    [admin_notice] = map(shown, _notices(admin))
    assert "华东DC" in admin_notice.title and admin_notice.link.startswith("/admin/stock/")
    assert _notices(admin_without_stock) == [] and _notices(world.users["dealer_b"]) == []

    assert scan_stock_alerts().notifications == 0  # still low: nothing new
    db.session.commit()
    assert len(_notices(dealer_user)) == 1

    operations.receive_stock(shop["dealer_wh"].id, shop["product"].id, 20, "J1", actor_id=None)
    assert scan_stock_alerts().resolved == 1
    db.session.commit()
    operations.adjust_lot(shop["lot"], -25, "破损", actor_id=None)
    result = scan_stock_alerts()
    db.session.commit()
    assert result.opened["low_stock"] == 1
    assert len(_notices(dealer_user)) == 2  # low again after recovering: a new notice
    alert = db.session.scalar(select(StockAlert).where(StockAlert.warehouse_id == shop["dealer_wh"].id))
    assert (alert.is_open, alert.episode) == (True, 2)


def test_near_expiry_notice(shop, world):
    stock(shop["dealer_wh"], shop["product"], 4, batch="OLD", expires_in_days=10)
    db.session.commit()
    result = scan_stock_alerts(expiry_window_days=30)
    db.session.commit()
    assert result.opened["near_expiry"] == 1
    titles = [shown(n).title for n in _notices(world.users["dealer"])]
    assert any(t.startswith("临期库存") for t in titles)


def test_scan_command_runs_inline(shop, app, world):
    result = app.test_cli_runner().invoke(args=["stock", "scan-alerts"])
    assert result.exit_code == 0 and "opened low_stock=2" in result.output
    assert db.session.scalar(select(func.count()).select_from(StockAlert)) == 2
    queued = app.test_cli_runner().invoke(args=["stock", "scan-alerts", "--queue"])
    if app.config.get("REDIS_URL"):
        assert queued.exit_code == 0 and "Enqueued job" in queued.output
    else:
        assert queued.exit_code != 0 and "REDIS_URL" in queued.output


def test_schedule_registers_the_scan_with_rq_cron():
    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    [job] = [j for j in scheduler.get_jobs() if j.func_name.startswith("jobs.stock_alerts.")]
    assert (job.func_name, job.cron, job.queue_name) == (
        "jobs.stock_alerts.scan_stock_alerts_job", "*/30 * * * *", "default")


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages (a stand-in for the real mail server)."""

    def handle(self):
        self.wfile.write(b"220 fake ESMTP\r\n")
        in_data, lines = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    self.server.messages.append(b"".join(lines))
                    lines = []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                self.wfile.write(b"250-fake\r\n250 8BITMIME\r\n")
            elif command.startswith(b"DATA"):
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif command.startswith(b"QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server(app):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1])
    yield server
    app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    server.shutdown()
    server.server_close()


def test_email_copies_go_out_after_the_commit(shop, world, smtp_server, app):
    world.users["dealer"].email = "dealer@example.com"
    db.session.commit()
    scan_stock_alerts()
    assert smtp_server.messages == []  # not before the commit
    db.session.commit()
    connection = redis_connection()
    if connection is not None:  # with Redis the mail job was queued: run it here, in this app
        SimpleWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    [message] = smtp_server.messages
    assert b"dealer@example.com" in message
    mail = email.message_from_bytes(message, policy=email.policy.default)
    content = mail.get_content()  # in the default language, with an absolute link made by the job
    assert mail["Subject"].startswith("库存低于再订货点") and "可用 10，再订货点 12" in content
    assert f"{app.config['PUBLIC_URL']}/dealer/stock/{shop['dealer_wh'].id}/{shop['product'].id}" in content
    notice = _notices(world.users["dealer"])[0]
    db.session.refresh(notice)
    assert notice.emailed_at is not None
    assert _notices(world.users["admin"])[0].emailed_at is None  # no address, no mail


def test_notification_pages(shop, login_as, world):
    scan_stock_alerts()
    db.session.commit()
    c = login_as("dealer")
    page = c.get("/dealer/notifications/").get_data(as_text=True)
    assert "库存低于再订货点" in page and "未读（1）" in page
    badge = c.hx_get("/dealer/notifications/badge")
    assert badge.status_code == 200 and '<span class="badge"' in badge.get_data(as_text=True)
    assert c.get("/dealer/notifications/badge").status_code == 302  # not a page of its own
    fragment = c.hx_get("/dealer/notifications/?page=1").get_data(as_text=True)
    assert 'id="notifications"' in fragment and "<html" not in fragment
    notice = _notices(world.users["dealer"])[0]
    follow = c.post(f"/dealer/notifications/{notice.id}/read", {"follow": "1"})
    assert follow.status_code == 303 and follow.headers["Location"] == shown(notice).link
    assert notifications.unread_count(world.users["dealer"]) == 0
    assert c.hx_get("/dealer/notifications/badge").get_data(as_text=True).strip() == ""
    admin_notice = _notices(world.users["admin"])[0]
    assert c.post(f"/dealer/notifications/{admin_notice.id}/read", {}).status_code == 404
    admin = login_as("admin")
    assert admin.post("/admin/notifications/read-all", {}).status_code == 303
    assert notifications.unread_count(world.users["admin"]) == 0


def test_notify_dedupes_per_user(world):
    audience = notifications.Audience(world.orgs["dealer"].id, "dealer")
    first = notifications.notify(audience, kind="test", message="plain", params={"title": "甲"}, dedupe_key="k1")
    second = notifications.notify(audience, kind="test", message="plain", params={"title": "甲"}, dedupe_key="k1")
    db.session.commit()
    assert len(first) == 1 and second == []
