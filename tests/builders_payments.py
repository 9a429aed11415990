"""Builders for payment tests: an invoiced order and sandbox notifications signed as the
sandbox signs them."""
from __future__ import annotations

from app.extensions import db
from app.services.payments.sandbox import SandboxProvider
from tests import builders_credit

NOTIFY_PATH = "/api/v1/payments/notify/sandbox"


def invoiced_order(world, total_fen: int = 10_000, paid_fen: int = 0):
    """An order of the world's retailer from its dealer, shipped and invoiced."""
    invoice = builders_credit.invoice(world.orgs["retailer"], world.orgs["dealer"], total_fen, paid_fen=paid_fen)
    db.session.commit()
    return invoice.order, invoice


def sandbox_notification(intent, outcome: str = "paid", reason: str = "") -> tuple[dict, bytes]:
    return SandboxProvider().signed_notification(intent, outcome, reason)


class LiveServer:
    """The app served over real HTTP on a free local port, in a thread: the sandbox provider
    POSTs its notifications to it as a provider's servers would."""

    def __init__(self, app):
        import threading

        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.previous = self.app.config["PUBLIC_URL"], self.app.config.get("PUBLIC_URL_SET")
        self.app.config["PUBLIC_URL"], self.app.config["PUBLIC_URL_SET"] = self.url, True
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join()
        self.app.config["PUBLIC_URL"], self.app.config["PUBLIC_URL_SET"] = self.previous
