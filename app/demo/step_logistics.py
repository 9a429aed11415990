"""Demo step "logistics" (after "orders"): carrier tracking on the shipments still on the road
(picked up an hour after shipping, in transit eight hours after, when that time has come), and
dealer001 trusting the local test carrier's proof of delivery (README, "Carrier tracking")."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from app.demo.builder import register_step
from app.extensions import db

STEPS = (("picked_up", timedelta(hours=1), "揽收网点"), ("in_transit", timedelta(hours=8), "转运中心"))
ON_THE_ROAD = text("""SELECT s.id, s.carrier, s.tracking_no, s.shipped_at FROM shipments s JOIN orders o ON o.id = s.order_id
                      WHERE s.tracking_no <> '' AND o.status IN ('shipped', 'partly_shipped') ORDER BY s.id""")


def build_logistics(ctx) -> None:
    now = datetime.now(timezone.utc)
    rows = []
    for shipment_id, carrier, waybill, shipped_at in db.session.execute(ON_THE_ROAD):
        if isinstance(shipped_at, str):  # SQLite hands the text back
            shipped_at = datetime.fromisoformat(shipped_at)
        if shipped_at.tzinfo is None:
            shipped_at = shipped_at.replace(tzinfo=timezone.utc)
        for code, after, place in STEPS:
            at = (shipped_at + after).replace(microsecond=0)
            if at <= now:
                rows.append((shipment_id, carrier[:20], waybill, code, at, f"{carrier}{place}", "", "callback", at))
    ids = ctx.loader.allocate_ids("tracking_events", len(rows))
    ctx.loader.load("tracking_events", ("id", "shipment_id", "carrier", "waybill", "code", "occurred_at", "location",
                                        "description", "source", "received_at"),
                    [(i, *row) for i, row in zip(ids, rows)])
    ctx.loader.load("carrier_trust", ("dealer_id", "carrier", "since"), [(ctx.dealers[0].id, "local", ctx.started_at)])
    ctx.echo(f"  tracking events: {len(rows)}")


register_step("logistics", build_logistics, after="orders")
