"""Recording carrier events on shipments (callbacks and polls alike), sign-off by a trusted
carrier's proof of delivery, and what the order pages show. (Rules: the package docstring.)"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import Order, OrderStatus, utcnow
from app.models.fulfilment import Shipment
from app.models.logistics import CarrierTrust, TrackingEvent
from app.models.vocabulary import TrackingCode
from app.services.core import audit
from app.services.fulfilment.delivery import sign_off_by_carrier
from app.services.inventory.ledger import insert_ignoring_conflicts
from app.services.logistics.carriers import Carrier, CarrierEvent, adapter_for

POLL_DAYS = 30  # shipments older than this are no longer polled


@dataclass
class Recorded:
    recorded: int = 0
    ignored: int = 0
    signed_off: list[int] = field(default_factory=list)


def _shipment(found: Carrier, waybill: str) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(
        Shipment.tracking_no == waybill,
        func.lower(Shipment.carrier).in_((found.code.lower(), found.name.lower())))
        .order_by(Shipment.id.desc()).limit(1))


def trusts(seller_id: int, carrier_code: str) -> bool:
    return db.session.get(CarrierTrust, (seller_id, carrier_code)) is not None


def record_events(found: Carrier, events: list[CarrierEvent], source: str) -> Recorded:
    result = Recorded()
    for event in events:
        shipment = _shipment(found, event.waybill)
        if shipment is None:
            result.ignored += 1
            continue
        at = event.occurred_at.astimezone(timezone.utc).replace(microsecond=0)
        inserted = db.session.execute(insert_ignoring_conflicts(TrackingEvent).values(
            shipment_id=shipment.id, carrier=found.code, waybill=event.waybill, code=event.code, occurred_at=at,
            location=event.location, description=event.description, source=source, received_at=utcnow())
            .returning(TrackingEvent.id)).scalar()
        if inserted is None:  # seen before
            result.ignored += 1
            continue
        result.recorded += 1
        if event.code == TrackingCode.DELIVERED.value and trusts(shipment.seller_id, found.code):
            sign_off = sign_off_by_carrier(shipment.seller_id, shipment.order_id, found.name, event.waybill)
            if sign_off is not None:
                result.signed_off.append(shipment.order_id)
    db.session.flush()
    return result


def poll(found: Carrier) -> Recorded:
    """Ask the carrier for the events of its shipments still on the road (a job runs this)."""
    adapter = adapter_for(found)
    total = Recorded()
    if adapter is None:
        return total
    since = utcnow() - timedelta(days=POLL_DAYS)
    waybills = db.session.scalars(
        select(Shipment.tracking_no).join(Order, Order.id == Shipment.order_id)
        .where(func.lower(Shipment.carrier).in_((found.code.lower(), found.name.lower())),
               Shipment.tracking_no != "", Shipment.shipped_at >= since,
               Order.status.in_((OrderStatus.SHIPPED.value, OrderStatus.PARTLY_SHIPPED.value)))
        .distinct()).all()
    for waybill in waybills:
        one = record_events(found, adapter.events(waybill), "poll")
        total.recorded += one.recorded
        total.ignored += one.ignored
        total.signed_off += one.signed_off
    return total


def events_for_order(order_id: int) -> list[TrackingEvent]:
    """The order's tracking events, newest first (one query)."""
    return list(db.session.scalars(
        select(TrackingEvent).join(Shipment, Shipment.id == TrackingEvent.shipment_id)
        .where(Shipment.order_id == order_id).order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())))


def trusted_carriers(seller_id: int) -> set[str]:
    return set(db.session.scalars(select(CarrierTrust.carrier).where(CarrierTrust.dealer_id == seller_id)))


def set_trusted_carriers(actor_id: int, seller_id: int, codes: set[str], known: set[str]) -> None:
    before = trusted_carriers(seller_id)
    wanted = codes & known
    dropped = delete(CarrierTrust).where(CarrierTrust.dealer_id == seller_id)
    if wanted:
        dropped = dropped.where(CarrierTrust.carrier.not_in(wanted))
    db.session.execute(dropped)
    for code in sorted(wanted - before):
        db.session.add(CarrierTrust(dealer_id=seller_id, carrier=code))
    db.session.flush()
    if before != wanted:
        audit.record(actor_id, "carrier_trust.set", "organisation", seller_id,
                     {"carriers": sorted(before)}, {"carriers": sorted(wanted)})
