"""The pure promotion engine: every kind, the lanes' order, stacking rules, ladders on list or
discounted amounts, budgets as loaded, time windows, and the rounding property."""
from datetime import datetime, timedelta, timezone

from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.promotions.engine import (Buyer, CompiledPromotion, Coupon, LineIn, apply_promotions, spread)
from app.services.promotions.index import PromotionIndex

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=timezone.utc)
SHOP = Buyer(id=100, kind="retailer", channel="kiosk", tier=None, region_ids=(1, 11), dealer_id=7)
_ids = iter(range(1, 10_000))


def promo(kind, lane=None, **kw):
    lane = lane or ("item" if kind in ("percent_off", "amount_off", "buy_x_get_y") else "order")
    defaults = dict(id=next(_ids), code=f"P{kind}", name=kind, kind=kind, lane=lane, rule={},
                    starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    defaults.update(kw)
    for name in ("product_ids", "category_ids", "channels", "tiers", "region_ids", "dealer_ids", "customer_ids",
                 "kinds"):
        if name in defaults:
            defaults[name] = frozenset(defaults[name])
    return CompiledPromotion(**defaults)


def quote(lines, *promos, coupon=None, buyer=SHOP, now=NOW, exclude=frozenset()):
    return apply_promotions(lines, buyer, now, PromotionIndex(1, list(promos)), coupon, exclude)


def text(value):
    with force_locale("zh"):
        return str(value)


A = LineIn(1, product_id=11, category_id=5, qty=10, unit_price_fen=10_000, unit="箱")  # 1,000 yuan
B = LineIn(2, product_id=12, category_id=6, qty=3, unit_price_fen=33_333, unit="箱")   # 999.99 yuan


def test_percent_and_amount_off_round_once_per_line(app):
    with app.test_request_context():
        pct = promo("percent_off", rule={"percent_x100": 1000}, product_ids={12})
        result = quote([A, B], pct)
        assert result.discounts == {2: {pct.id: 10_000}}  # 99,999 × 10 % = 9,999.9 → 10,000
        amount = promo("amount_off", rule={"off_fen": 500}, category_ids={5})
        assert quote([A, B], amount).discounts == {1: {amount.id: 5_000}}
        assert text(quote([A], amount).applied[0].label) == "每件立减 5 元 · 品牌承担"


def test_best_for_the_buyer_wins_within_the_item_lane_unless_a_priority_is_pinned(app):
    with app.test_request_context():
        small = promo("percent_off", rule={"percent_x100": 500})
        big = promo("amount_off", rule={"off_fen": 1_000})
        assert set(quote([A], small, big).applied_by_id()) == {big.id}
        pinned = promo("percent_off", rule={"percent_x100": 500}, priority=1)
        assert set(quote([A], small, big, pinned).applied_by_id()) == {pinned.id}


def test_repeatable_buy_x_get_y_gives_zero_priced_gifts_and_a_hint(app):
    with app.test_request_context():
        gift = promo("buy_x_get_y", rule={"buy": 4, "get": 1, "repeat": True}, product_ids={11})
        result = quote([A], gift)
        assert [(g.product_id, g.qty, g.value_fen) for g in result.gifts] == [(11, 2, 20_000)]
        assert result.discount_fen == 0 and result.applied[0].gift_fen == 20_000
        assert [text(h) for h in result.hints] == ["再买2箱享每满4箱赠1箱"]
        once = promo("buy_x_get_y", rule={"buy": 4, "get": 1, "repeat": False, "gift_product_id": 99},
                     gift_price_fen=700, product_ids={11})
        result = quote([A], once)
        assert [(g.product_id, g.qty, g.value_fen) for g in result.gifts] == [(99, 1, 700)]


def test_spend_ladder_reaches_the_highest_rung_and_hints_the_next(app):
    with app.test_request_context():
        ladder = promo("spend_off", rule={"ladder": [[300_000, 30_000], [150_000, 10_000]]})
        result = quote([A, B], ladder)  # 1,999.99 yuan
        assert result.discount_fen == 10_000
        assert text(result.applied[0].label) == "满1500减100 · 品牌承担"
        assert [text(h) for h in result.hints] == ["还差 ¥1,000.01 可减 ¥300"]
        assert sum(result.discounts[k][ladder.id] for k in (1, 2)) == 10_000


def test_threshold_counts_list_or_discounted_amounts_as_the_promotion_says(app):
    with app.test_request_context():
        item = promo("percent_off", rule={"percent_x100": 2000}, product_ids={11})  # A: 1,000 → 800
        on_discounted = promo("spend_off", rule={"ladder": [[190_000, 5_000]], "basis": "discounted"})
        on_list = promo("spend_off", rule={"ladder": [[190_000, 5_000]], "basis": "list"})
        assert on_discounted.id not in quote([A, B], item, on_discounted).applied_by_id()
        assert on_list.id in quote([A, B], item, on_list).applied_by_id()


def test_spend_percent_and_coupon_lane_after_the_order_lane(app):
    with app.test_request_context():
        order = promo("spend_percent", rule={"ladder": [[100_000, 1000]]})  # 10 % off over 1,000
        coupon_promo = promo("spend_off", lane="coupon", rule={"ladder": [[0, 2_000]]})
        result = quote([A, B], order, coupon_promo, coupon=Coupon(5, "SAVE20", coupon_promo))
        assert [a.lane for a in result.applied] == ["order", "coupon"]
        assert result.discount_fen == 20_000 + 2_000
        assert result.applied[1].coupon_id == 5
        # the coupon promotion is never applied without its code
        assert coupon_promo.id not in quote([A, B], order, coupon_promo).applied_by_id()


def test_coupon_below_its_minimum_says_why_and_changes_nothing(app):
    with app.test_request_context():
        coupon_promo = promo("spend_off", lane="coupon", rule={"ladder": [[500_000, 2_000]]})
        result = quote([A, B], coupon_promo, coupon=Coupon(5, "X", coupon_promo))
        assert result.discount_fen == 0 and text(result.coupon_note) == "未达到优惠券的使用门槛"


def test_exclusive_group_keeps_the_bigger_saving_across_lanes(app):
    with app.test_request_context():
        item = promo("percent_off", rule={"percent_x100": 500}, exclusive_group="cny")  # 5,000 + 5,000
        order = promo("spend_off", rule={"ladder": [[100_000, 30_000]]}, exclusive_group="cny")
        result = quote([A, B], item, order)
        assert set(result.applied_by_id()) == {order.id}
        assert [(left.promotion.id, left.reason) for left in result.left_out] == [(item.id, "exclusive")]


def test_stop_further_ends_the_later_lanes(app):
    with app.test_request_context():
        item = promo("percent_off", rule={"percent_x100": 500}, product_ids={11}, stop_further=True)
        order = promo("spend_off", rule={"ladder": [[100_000, 30_000]]})
        coupon_promo = promo("spend_off", lane="coupon", rule={"ladder": [[0, 100]]})
        result = quote([A, B], item, order, coupon_promo, coupon=Coupon(1, "C", coupon_promo))
        assert set(result.applied_by_id()) == {item.id}
        assert text(result.coupon_note) == "本单已享不可叠加的优惠，优惠券不可同时使用"


def test_a_budget_that_cannot_cover_the_discount_leaves_the_promotion_out(app):
    with app.test_request_context():
        order = promo("spend_off", rule={"ladder": [[100_000, 30_000]]}, remaining_fen=29_999)
        other = promo("spend_off", rule={"ladder": [[100_000, 10_000]]})
        result = quote([A, B], order, other)
        assert set(result.applied_by_id()) == {other.id}
        assert [(x.promotion.id, x.reason) for x in result.left_out] == [(order.id, "budget")]
        no_uses = promo("percent_off", rule={"percent_x100": 500}, remaining_uses=0)
        assert quote([A], no_uses).applied == []


def test_targeting_and_dealer_owned_promotions(app):
    with app.test_request_context():
        cases = [
            (dict(channels={"kiosk"}), True), (dict(channels={"supermarket"}), False),
            (dict(region_ids={1}), True), (dict(region_ids={2}), False),  # tree-aware: province 1 covers 11
            (dict(customer_ids={100}), True), (dict(customer_ids={101}), False),
            (dict(dealer_ids={7}), True), (dict(owner_dealer_id=7), True), (dict(owner_dealer_id=8), False),
            (dict(kinds={"dealer"}), False),
        ]
        for targeting, applies in cases:
            p = promo("percent_off", rule={"percent_x100": 500}, **targeting)
            assert bool(quote([A], p).applied) is applies, targeting
        dealer = Buyer(id=7, kind="dealer", tier="A")
        assert quote([A], promo("percent_off", rule={"percent_x100": 500}, owner_dealer_id=7), buyer=dealer).applied == []


def test_the_window_is_half_open_at_the_shanghai_day_boundary(app):
    with app.test_request_context():
        # 2026-06-02 00:00 in Shanghai is 2026-06-01 16:00 UTC
        midnight = datetime(2026, 6, 1, 16, 0, tzinfo=timezone.utc)
        p = promo("percent_off", rule={"percent_x100": 500}, starts_at=midnight, ends_at=midnight + timedelta(days=1))
        assert quote([A], p, now=midnight - timedelta(seconds=1)).applied == []
        assert quote([A], p, now=midnight).applied
        assert quote([A], p, now=midnight + timedelta(days=1)).applied == []


def test_shared_funding_wording(app):
    with app.test_request_context():
        p = promo("spend_off", rule={"ladder": [[300_000, 30_000]]}, funding="shared", brand_share_pct=60)
        assert text(p.explanation()) == "满3000减300 · 品牌承担 60%"
        assert p.brand_share(30_001) == 18_001


def test_spread_is_exact_and_never_exceeds_a_weight():
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert spread(0, [5]) == [0]
    assert spread(7, [0, 7]) == [0, 7]


lines_strategy = st.lists(st.tuples(st.integers(1, 500), st.integers(0, 2_000_000)), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, off=st.integers(1, 10_000_000), pct=st.integers(1, 9_999))
def test_lines_always_sum_to_the_header(app, lines, off, pct):
    """Property: whatever the cart, the per-line discounts sum to the header discount, and no
    line is discounted below zero."""
    cart = [LineIn(i, product_id=i, category_id=1, qty=q, unit_price_fen=p) for i, (q, p) in enumerate(lines)]
    item = promo("percent_off", rule={"percent_x100": pct}, product_ids={0, 2, 4})
    order = promo("spend_off", rule={"ladder": [[0, off]]})
    coupon_promo = promo("spend_percent", lane="coupon", rule={"ladder": [[0, pct]]})
    with app.test_request_context():
        result = quote(cart, item, order, coupon_promo, coupon=Coupon(1, "C", coupon_promo))
    per_line = {line.key: result.line_discount(line.key) for line in cart}
    assert sum(per_line.values()) == result.discount_fen
    assert all(0 <= per_line[line.key] <= line.amount_fen for line in cart)
    for applied in result.applied:
        assert sum(d.get(applied.promotion.id, 0) for d in result.discounts.values()) == applied.discount_fen
