"""The rebate-balance lane of a dealer's replenishment cart: offered within the agreement's share,
used only when the dealer ticks it (a plain form), spread over the lines so they sum to the
header, taken at checkout, given back on cancel and by returns; on PostgreSQL concurrent
checkouts never take the balance below zero."""
import os
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Organisation, User
from app.models.rebates import RebateLedgerEntry
from app.services.core.errors import DomainError
from app.services.ordering import cart, lifecycle, replenishment
from app.services.ordering.orders import PricesChanged
from app.services.rebates import balance, lane
from tests import builders_ordering as bo
from tests import builders_rebates as br
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
_keys = iter(range(1, 100_000))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def goods(world):
    """Two products at the A-tier dealer price ¥40 and ¥30, a balance agreement (30 % of an
    order) and ¥50 of rebate balance."""
    tea, milk = factories.product(base_price_fen=4_800), factories.product(base_price_fen=3_600)
    bo.price_list({tea: 4_000, milk: 3_000}, audience="dealer", tier="A", name="A 级经销价")
    br.agreement(world.users["admin"], world.orgs["dealer"], payout="balance", balance_share_pct=30)
    balance.move(world.orgs["dealer"].id, 5_000, "settlement", ref="seed")
    db.session.commit()
    return tea, milk


def _fill(user, dealer, items):
    for product, qty in items:
        cart.add_to_cart(user, dealer, product.id, qty)
    db.session.commit()


def _checkout(user, dealer):
    quote = cart.quote_cart(user, dealer)
    submission = replenishment.place_replenishment(user, dealer, f"rebate-{next(_keys):06d}", quote.fingerprint)
    db.session.commit()
    return submission.order


def test_the_lane_is_offered_within_the_share_and_used_only_when_chosen(world, goods):
    tea, milk = goods
    user, dealer = world.users["dealer"], world.orgs["dealer"]
    _fill(user, dealer, [(tea, 1), (milk, 1)])                  # ¥70: 30 % = ¥21
    offered = cart.quote_cart(user, dealer)
    assert (offered.rebate.limit_fen, offered.rebate.amount_fen, offered.total_fen) == (2_100, 0, 7_000)
    lane.choose(user, dealer, True)
    used = cart.quote_cart(user, dealer)
    assert (used.rebate.amount_fen, used.total_fen) == (2_100, 4_900)
    assert sum(line.line_total_fen for line in used.lines) == used.total_fen
    assert [line.discount_fen for line in used.lines] == [1_200, 900]  # ¥21 spread 40:30
    shop_user, shop = world.users["retailer"], world.orgs["retailer"]
    cart.add_to_cart(shop_user, shop, factories.product().id, 1)
    assert cart.quote_cart(shop_user, shop).rebate is None       # retailers have no rebate lane


def test_checkout_takes_the_balance_once_and_a_cancel_gives_it_back(world, goods):
    tea, milk = goods
    user, dealer = world.users["dealer"], world.orgs["dealer"]
    _fill(user, dealer, [(tea, 1), (milk, 1)])
    lane.choose(user, dealer, True)
    order = _checkout(user, dealer)
    assert order.total_fen == 4_900 and sum(line.line_total_fen for line in order.lines) == 4_900
    assert balance.balance_of(dealer.id) == 2_900
    [spend] = db.session.scalars(select(RebateLedgerEntry).where(RebateLedgerEntry.kind == "spend")).all()
    assert (spend.order_id, spend.amount_fen, sum(spend.shares.values())) == (order.id, -2_100, 2_100)
    lifecycle.act_as_seller(world.brand.id, order.id, "cancelled", world.users["admin"].id, "缺货")
    db.session.commit()
    assert balance.balance_of(dealer.id) == 5_000
    assert lane.give_back(order.id) == 0                         # once
    assert balance.balance_of(dealer.id) == 5_000


def test_a_return_gives_back_the_returned_units_share(world, goods):
    tea, _milk = goods
    user, dealer = world.users["dealer"], world.orgs["dealer"]
    _fill(user, dealer, [(tea, 3)])                               # ¥120: 30 % = ¥36
    lane.choose(user, dealer, True)
    order = _checkout(user, dealer)
    [line] = order.lines
    assert lane.give_back_returned(order.id, {line.id: 1}, "return:1") == 1_200
    db.session.commit()
    assert balance.balance_of(dealer.id) == 5_000 - 3_600 + 1_200


def test_a_balance_spent_since_the_cart_was_shown_asks_to_confirm_and_takes_nothing(world, goods):
    tea, milk = goods
    user, dealer = world.users["dealer"], world.orgs["dealer"]
    _fill(user, dealer, [(tea, 1), (milk, 1)])
    lane.choose(user, dealer, True)
    quote = cart.quote_cart(user, dealer)
    balance.move(dealer.id, -4_000, "debit", ref="elsewhere")    # only ¥10 left
    db.session.commit()
    with pytest.raises(PricesChanged):
        replenishment.place_replenishment(user, dealer, "rebate-changed-1", quote.fingerprint)
    db.session.rollback()
    assert balance.balance_of(dealer.id) == 1_000
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_the_cart_page_offers_the_lane_and_the_plain_form_uses_it(world, goods, login_as):
    tea, _milk = goods
    _fill(world.users["dealer"], world.orgs["dealer"], [(tea, 2)])
    client = login_as("dealer")
    page = client.get("/dealer/replenishment/cart").get_data(as_text=True)
    assert "返利余额 ¥50.00" in page and "使用返利余额抵扣" in page
    posted = client.post("/dealer/replenishment/cart/rebate", {"use": "1"})
    assert posted.status_code == 303
    page = client.get("/dealer/replenishment/cart").get_data(as_text=True)
    assert "返利抵扣 −¥24.00" in page and "¥56.00" in page
    fragment = client.post("/dealer/replenishment/cart/rebate", {"use": "0"}, htmx=True)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "使用返利余额抵扣" in body
    assert client.post("/dealer/replenishment/cart/rebate", {"use": "1"}, csrf=False).status_code == 400


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
def test_concurrent_checkouts_never_take_the_balance_below_zero(app, world, goods):
    tea, _milk = goods
    dealer = world.orgs["dealer"]
    buyers = [world.users["dealer"]] + [factories.user("dealer", dealer, f"dealer-extra-{i}") for i in range(7)]
    for user in buyers:
        _fill(user, dealer, [(tea, 1)])                          # ¥40: 30 % = ¥12 each, ¥50 fits four
        lane.choose(user, dealer, True)
    db.session.commit()
    ids, dealer_id = [u.id for u in buyers], dealer.id
    db.session.remove()
    start = threading.Barrier(len(ids))
    outcomes, errors = [], []

    def checkout(user_id):
        with app.app_context(), app.test_request_context():
            try:
                user, org = db.session.get(User, user_id), db.session.get(Organisation, dealer_id)
                start.wait(30)
                replenishment.place_replenishment(user, org, f"race-{user_id:06d}", None)
                db.session.commit()
                outcomes.append("ordered")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=checkout, args=(uid,)) for uid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    spends = db.session.scalars(select(RebateLedgerEntry.amount_fen).where(RebateLedgerEntry.kind == "spend")).all()
    assert balance.balance_of(dealer_id) == 5_000 + sum(spends) >= 0
    assert len(spends) == outcomes.count("ordered") == 4 and outcomes.count("refused") == 4
    assert db.session.scalar(select(func.count()).select_from(Order)) == 4
