"""Partial credits (the cancelled rest, short and damaged goods at delivery, returns in parts)
are valued as differences of cumulative values, so a line whose whole quantity ends up credited
has been credited exactly its total: never a fen more or less, whatever the order and the size
of the events. Property tests (hypothesis) over random lines and random sequences of events."""
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, OrderLine
from app.models.credit import CreditNote
from app.services.fulfilment import delivery, returns, shipping
from app.services.fulfilment.progress import credit_value, line_value
from tests import builders_fulfilment as f


@st.composite
def line_and_events(draw):
    """A line (qty, total not a multiple of qty) and its quantity cut into partial events."""
    qty = draw(st.integers(min_value=1, max_value=60))
    total = draw(st.integers(min_value=0, max_value=10_000_000))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=qty - 1), max_size=qty - 1)) if qty > 1 else [])
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, qty])]
    return qty, total, draw(st.permutations(sizes))


@settings(max_examples=500, deadline=None)
@given(line_and_events())
def test_partial_credits_of_a_line_add_up_to_its_total(case):
    qty, total, events = case
    line = OrderLine(qty=qty, line_total_fen=total)
    credited, credits = 0, []
    for size in events:
        credits.append(credit_value(line, credited, size))
        credited += size
    assert sum(credits) == total
    for size, credit in zip(events, credits):  # each within a fen of its exact share
        assert abs(credit - Fraction(total * size, qty)) < 1
    assert credit_value(line, 0, qty) == line_value(line, qty) == total


def test_rounding_each_part_on_its_own_would_lose_a_fen():
    """Why: 3 returns of 1 out of 3 cases worth 1,000 fen are 333.33 each; rounded alone they
    credit 999 fen, by cumulative values 333 + 334 + 333 = 1,000."""
    line = OrderLine(qty=3, line_total_fen=1_000)
    assert [line_value(line, 1)] * 3 == [333, 333, 333]
    assert [credit_value(line, done, 1) for done in range(3)] == [333, 334, 333]


@st.composite
def fulfilment_story(draw):
    """One line of `qty` worth `total`: shipped in part (the rest cancelled), some short and
    damaged at delivery, the rest returned in parts; some returns refused once and asked again;
    the returns asked together and accepted in a random order."""
    qty = draw(st.integers(min_value=2, max_value=12))
    total = draw(st.integers(min_value=qty * 100, max_value=qty * 10_000))
    shipped = draw(st.integers(min_value=1, max_value=qty))
    short = draw(st.integers(min_value=0, max_value=shipped))
    damaged = draw(st.integers(min_value=0, max_value=shipped - short))
    delivered = shipped - short - damaged
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=delivered - 1), max_size=3))) if delivered > 1 else []
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, delivered])] if delivered else []
    refused_first = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    accept_order = draw(st.permutations(range(len(parts))))
    return qty, total, shipped, short, damaged, parts, refused_first, accept_order


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fulfilment_story())
def test_a_fully_credited_line_is_credited_exactly_its_total(world, story):
    qty, total, shipped, short, damaged, parts, refused_first, accept_order = story
    delivered = shipped - short - damaged
    [product] = f.products(1)
    order = f.approved_order(world, [(product, qty)])  # the dealer keeps no stock in the system here
    line = order.lines[0]
    line.line_total_fen, order.total_fen = total, total  # e.g. after a promotion: not qty × unit price
    db.session.flush()
    dealer_id, buyer_id = order.seller_id, order.buyer_id
    dealer_user, retailer_user = world.users["dealer"].id, world.users["retailer"].id

    shipping.ship(dealer_id, order.id, dealer_user, carrier="自送", quantities={line.id: shipped},
                  cancel_rest_reason="缺货" if shipped < qty else "")
    found = {(line.id, "short"): short, (line.id, "damaged"): damaged}
    delivery.confirm_receipt(buyer_id, order.id, retailer_user, {k: v for k, v in found.items() if v})
    for part, refuse in zip(parts, refused_first):
        if refuse:
            asked = returns.request_return(buyer_id, order.id, retailer_user, "临期", {line.id: part})
            returns.refuse_return(dealer_id, asked.id, dealer_user, "不符合退货条件")
    asked = [returns.request_return(buyer_id, order.id, retailer_user, "临期", {line.id: part}) for part in parts]
    for i in accept_order:
        returns.accept_return(dealer_id, asked[i].id, dealer_user, "restock")
    db.session.flush()

    credited = db.session.scalar(select(func.sum(CreditNote.amount_fen)).where(CreditNote.order_id == order.id))
    assert credited == total
    assert sum(r.amount_fen for r in asked) == total - line_value(line, qty - delivered)
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert (invoice.total_fen, invoice.paid_fen, invoice.status) == (total, total, "paid")
