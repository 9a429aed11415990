"""The outbox: every domain change writes its event in the same transaction (a rolled-back
change leaves none), with a stable unique id and a sequence per aggregate."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OutboxEvent
from app.services.credit.invoicing import ensure_invoice
from app.services.credit.payments import issue_credit_note, record_payment
from app.services.fulfilment import returns
from app.services.ordering import lifecycle
from app.services.pricing import admin as pricing_admin
from tests import builders_fulfilment as f
from tests import builders_lifecycle as b
from tests import factories


def events(aggregate_type=None, aggregate_id=None) -> list[OutboxEvent]:
    query = select(OutboxEvent).order_by(OutboxEvent.id)
    if aggregate_type:
        query = query.where(OutboxEvent.aggregate_type == aggregate_type, OutboxEvent.aggregate_id == aggregate_id)
    return list(db.session.scalars(query))


def test_an_order_s_life_is_a_numbered_stream_of_events(world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    b.checkout(world.users["retailer"], world.orgs["retailer"], [(items[0], 3)])
    db.session.commit()
    placed = events()[0]
    order_id = placed.aggregate_id
    assert placed.type == "order.placed" and placed.data["status"] == "submitted"
    order = db.session.get(Order, order_id)
    if order.status != "approved":  # the automatic review may have approved it already
        lifecycle.transition(order_id, "approved", world.users["dealer"].id)
    f.ship_all(world, order)
    db.session.commit()

    stream = events("order", order_id)
    assert [e.type for e in stream][0] == "order.placed"
    assert [e.type for e in stream][-1] == "order.shipped"
    assert "order.approved" in [e.type for e in stream]
    assert [e.sequence for e in stream] == list(range(1, len(stream) + 1))
    assert len({e.event_id for e in stream}) == len(stream) and all(e.event_id.startswith("evt_") for e in stream)
    assert set(stream[-1].org_ids) == {world.orgs["retailer"].id, world.orgs["dealer"].id}
    assert stream[-1].data["from_status"] in ("approved", "picking") and stream[-1].data["order_id"] == order_id


def test_a_change_rolled_back_leaves_no_event(world):
    product = factories.product()
    order = b.order(world.orgs["retailer"], world.orgs["dealer"], [(product, 2)])
    db.session.commit()
    before = len(events())
    lifecycle.transition(order.id, "on_hold", world.users["dealer"].id, "查一下信用")
    db.session.rollback()
    assert len(events()) == before
    lifecycle.transition(order.id, "rejected", world.users["dealer"].id, "不供货")
    db.session.commit()
    [last] = events()[before:]
    assert (last.type, last.data["note"], last.sequence) == ("order.rejected", "不供货", 1)


def test_returns_invoices_credit_notes_payments_and_prices_have_events(world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    order = f.delivered_order(world, [(items[0], 4)])
    invoice = ensure_invoice(order.id)
    request = returns.request_return(order.buyer_id, order.id, world.users["retailer"].id, "破损",
                                     {order.lines[0].id: 1})
    returns.refuse_return(order.seller_id, request.id, world.users["dealer"].id, "外箱完好")
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    record_payment(world.users["dealer"], seller=dealer, customer=retailer, method="cod", amount_fen=100,
                   invoice=invoice)
    issue_credit_note(world.users["dealer"], seller=dealer, customer=retailer, amount_fen=50, reason="adjustment")
    pricing_admin.create_contract(world.users["admin"].id, {
        "customer_code": retailer.code, "product_code": items[0].code, "min_qty": 1, "price_fen": 2000,
        "valid_from": None, "valid_to": None, "reference": "C-1"})
    db.session.commit()

    types = [e.type for e in events()]
    for wanted in ("order.delivered", "invoice.issued", "return.requested", "return.decided", "payment.received",
                   "credit_note.issued", "price.changed"):
        assert wanted in types, (wanted, types)
    decided = [e for e in events("return", request.id)]
    assert [(e.type, e.sequence, e.data["status"]) for e in decided] == [
        ("return.requested", 1, "requested"), ("return.decided", 2, "refused")]
    price = events()[-1]
    assert price.data["customer_code"] == retailer.code and price.org_ids == [retailer.id]


@pytest.mark.parametrize("bad", ["order.unknown"])
def test_only_known_event_types_are_written(world, bad):
    from app.services.integrations import outbox

    with pytest.raises(AssertionError):
        outbox.record(bad, "order", 1, [], {})


def fan_outs_asked() -> list[list[str]]:
    """The event ids of the webhook fan-out job the current transaction will send after its commit."""
    return [job.args[0] for job in db.session.info.get("lianying_jobs") or ()
            if job.func == "jobs.webhooks.fan_out_events"]


def test_the_fan_out_is_asked_for_only_when_a_subscription_may_hear_the_event(world, app, monkeypatch):
    from app.services.integrations import outbox, webhooks

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ("127.0.0.1",))

    retailer, dealer, other = world.orgs["retailer"], world.orgs["dealer"], world.orgs["dealer_b"]
    record = lambda: outbox.record("order.placed", "order", 1, (retailer.id, dealer.id), {})  # noqa: E731
    record()
    assert fan_outs_asked() == []  # nobody subscribes: no job after the commit
    db.session.commit()

    webhooks.subscribe(other, "http://127.0.0.1:9/hook", ["*"])  # another dealer hears its own orders only
    db.session.commit()
    record()
    assert fan_outs_asked() == []
    db.session.commit()

    heard = webhooks.subscribe(dealer, "http://127.0.0.1:9/hook", ["order.approved"])
    db.session.commit()
    first, second = record(), record()  # (the job filters the types: the INSERT asks for any subscription)
    assert fan_outs_asked() == [[first, second]]
    db.session.commit()

    heard.active = False  # disabled after failures: as good as none
    brand = webhooks.subscribe(world.brand, "http://127.0.0.1:9/hook", ["*"])
    db.session.commit()
    event_id = record()
    assert fan_outs_asked() == [[event_id]]  # the brand hears every event
    db.session.rollback()
    brand.active = False
    db.session.commit()
    record()
    assert fan_outs_asked() == []
