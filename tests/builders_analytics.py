"""Fulfilment events for the sales-fact tests, made directly with the models at chosen moments."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import DeliveryDiscrepancy, DeliverySignOff, OrderLine, ReturnLine, ReturnRequest, Shipment, ShipmentLine


def fulfil_some(made, seed=11):
    """Shipments (in one or two parts), sign-offs with a short quantity, and returns (accepted,
    refused) for the orders that went ahead, at moments over the Shanghai day boundary, days
    after the order."""
    rng = random.Random(seed)
    for o in made:
        if o.status in ("cancelled", "rejected") or rng.random() < 0.2:
            continue
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == o.id)).all()
        at = o.created_at
        parts = [{line.id: line.qty for line in lines}]
        if rng.random() < 0.5:  # two shipments: part of each line, then the rest
            first = {i: rng.randint(0, q - 1) for i, q in parts[0].items()}
            parts = [{i: q for i, q in first.items() if q}, {i: parts[0][i] - q for i, q in first.items()}]
        for part in parts:
            at = at + timedelta(hours=rng.randint(3, 40))
            shipment = Shipment(order_id=o.id, seller_id=o.seller_id, carrier="SF", shipped_at=at)
            db.session.add(shipment)
            db.session.flush()
            db.session.add_all([ShipmentLine(shipment_id=shipment.id, order_line_id=i, qty=q,
                                             product_id=next(x.product_id for x in lines if x.id == i))
                                for i, q in part.items() if q])
        if rng.random() < 0.3:
            continue  # still on the road
        at = at + timedelta(hours=rng.randint(3, 40))
        sign_off = DeliverySignOff(order_id=o.id, method="portal", signed_at=at)
        db.session.add(sign_off)
        db.session.flush()
        short = rng.choice(lines)
        if short.qty > 1 and rng.random() < 0.4:
            db.session.add(DeliveryDiscrepancy(sign_off_id=sign_off.id, order_line_id=short.id,
                                               product_id=short.product_id, kind="short", qty=1, amount_fen=0))
        if rng.random() < 0.5:
            back = rng.choice(lines)
            request = ReturnRequest(order_id=o.id, buyer_id=o.buyer_id, seller_id=o.seller_id, reason="test",
                                    status=rng.choice(["accepted", "accepted", "refused", "requested"]),
                                    decided_at=at + timedelta(hours=rng.randint(1, 60)))
            if request.status == "requested":
                request.decided_at = None
            db.session.add(request)
            db.session.flush()
            db.session.add(ReturnLine(return_id=request.id, order_line_id=back.id, product_id=back.product_id,
                                      qty=rng.randint(1, back.qty)))
    db.session.flush()
