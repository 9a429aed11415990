"""Bundles (套餐) and volume tiers (累计阶梯) in the pure engine (services/promotions/multiline.py):
the set price spread over the bundle's lines by largest remainder, repeated k times, beaten by
the lines' own promotions when they save more; the buyer's earlier quantity plus the cart unlocks
a tier; near-miss hints for both."""
from datetime import timedelta

from flask_babel import force_locale

from app.services.promotions.engine import LineIn
from tests.test_promotions_engine import NOW, promo, quote


def text(value):
    with force_locale("zh"):
        return str(value)


TEA = LineIn(1, product_id=21, category_id=5, qty=4, unit_price_fen=1_001, unit="箱")
CUP = LineIn(2, product_id=22, category_id=5, qty=2, unit_price_fen=2_000, unit="箱")


def bundle(**kw):
    # 2 tea + 1 cup (list 4,002) for 35 yuan: 502 fen off a set
    return promo("bundle", lane="item", rule={"items": [[21, 2], [22, 1]], "price_fen": 3_500},
                 product_ids={21, 22}, **kw)


def test_a_bundle_repeats_k_times_and_spreads_its_saving_by_largest_remainder(app):
    with app.test_request_context():
        deal = bundle()
        result = quote([TEA, CUP], deal)  # two whole sets
        assert result.discount_fen == 2 * 502
        # weights 4,004 (tea) and 4,000 (cup): 1,004 splits 502.25 / 501.75 → 502 / 502
        assert result.discounts == {1: {deal.id: 502}, 2: {deal.id: 502}}
        assert sum(result.discounts[1].values()) + sum(result.discounts[2].values()) == result.discount_fen
        assert text(result.applied[0].label) == "套餐价 ¥35 · 品牌承担"
        assert result.hints == []


def test_units_beyond_the_sets_pay_their_price_and_the_hint_says_what_completes_one_more(app):
    with app.test_request_context():
        deal = bundle()
        three_tea = LineIn(1, 21, 5, 5, 1_001, "箱")
        result = quote([three_tea, CUP], deal)  # 5 tea, 2 cups: still 2 sets, one tea spare
        assert result.discount_fen == 2 * 502
        assert [text(h) for h in result.hints] == ["再买2箱可享套餐价 ¥35"]  # 1 tea + 1 cup for a third set
        only_tea = quote([LineIn(1, 21, 5, 1, 1_001, "箱")], deal)
        assert only_tea.discount_fen == 0
        assert [text(h) for h in only_tea.hints] == ["再买2箱可享套餐价 ¥35"]


def test_a_line_promotion_that_saves_more_beats_the_bundle_and_a_pinned_bundle_wins(app):
    with app.test_request_context():
        deal = bundle()
        big = promo("percent_off", rule={"percent_x100": 5_000}, product_ids={21})  # 2,002 off the tea
        result = quote([TEA, CUP], deal, big)
        assert set(result.applied_by_id()) == {big.id}
        small = promo("percent_off", rule={"percent_x100": 500}, product_ids={21})  # 200 off the tea
        result = quote([TEA, CUP], deal, small)
        assert set(result.applied_by_id()) == {deal.id}  # a bundled line takes no other item promotion
        pinned = bundle(priority=1)
        assert set(quote([TEA, CUP], pinned, big).applied_by_id()) == {pinned.id}


def test_a_bundle_at_contract_prices_that_save_nothing_gives_nothing(app):
    with app.test_request_context():
        cheap = [LineIn(1, 21, 5, 2, 1_000, "箱"), LineIn(2, 22, 5, 1, 1_400, "箱")]  # 3,400 < 3,500
        assert quote(cheap, bundle()).applied == []


def tier(**kw):
    return promo("volume_tier", lane="item", rule={"tiers": [[100, 500], [300, 1_000]]}, product_ids={21, 22}, **kw)


def test_earlier_quantity_plus_the_cart_unlocks_a_tier_on_every_covered_line(app):
    with app.test_request_context():
        volume = tier()
        lines = [TEA, CUP]  # 6 cases in the cart
        assert quote(lines, volume).applied == []
        from app.services.promotions.engine import apply_promotions
        from app.services.promotions.index import PromotionIndex
        from tests.test_promotions_engine import SHOP

        index = PromotionIndex(1, [volume])
        short = apply_promotions(lines, SHOP, NOW, index, history={volume.id: 93})
        assert short.applied == [] and [text(h) for h in short.hints] == ["累计再买1箱可减5%"]
        reached = apply_promotions(lines, SHOP, NOW, index, history={volume.id: 94})  # 94 + 6 = 100
        assert reached.discounts == {1: {volume.id: 200}, 2: {volume.id: 200}}  # 5 % of 4,004 and 4,000
        assert text(reached.applied[0].label) == "累计满100箱减5%，累计满300箱减10% · 品牌承担"
        assert [text(h) for h in reached.hints] == ["累计再买200箱可减10%"]
        top = apply_promotions(lines, SHOP, NOW, index, history={volume.id: 500})
        assert top.discount_fen == 400 + 400 and top.hints == []


def test_a_tier_outside_its_window_or_audience_counts_for_nothing(app):
    with app.test_request_context():
        from app.services.promotions.engine import apply_promotions
        from app.services.promotions.index import PromotionIndex
        from tests.test_promotions_engine import SHOP

        later = tier(starts_at=NOW + timedelta(hours=1))
        other = tier(channels={"supermarket"})
        index = PromotionIndex(1, [later, other])
        assert apply_promotions([TEA], SHOP, NOW, index, history={later.id: 999, other.id: 999}).applied == []
