"""The pricing service, rule by rule (see the docstring of app/services/pricing/prices.py), its query
count, and product visibility (app/services/catalog/visibility.py)."""
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Product
from app.services.pricing.prices import quote_price, quote_prices, region_profile
from app.services.catalog.visibility import visible_products
from tests import factories
from tests.builders_catalog import contract, list_item, price_list, visibility

ON = date(2024, 6, 1)


@pytest.fixture
def retailer(world):
    """西湖小卖部: a retailer, channel kiosk, region 杭州市 (in 浙江省), no tier."""
    return world.orgs["retailer"]


@pytest.fixture
def product(world):
    return factories.product(code="P-TEA", base_price_fen=5000)


def price_for(org, product, qty=1, on=ON):
    return quote_price(region_profile(org), product.id, qty, on)


def test_base_price_when_nothing_else_applies(retailer, product):
    price = price_for(retailer, product)
    assert (price.unit_price_fen, price.source, price.reference, price.min_qty) == (5000, "base", "", 1)
    assert str(price.reason) == "基础价" and price.total_fen() == 5000


# --- 1. contracts -------------------------------------------------------------------------

def test_contract_beats_any_price_list(retailer, product):
    specific = price_list("VERY-SPECIFIC", channel="kiosk", region_id=retailer.region_id, priority=99)
    list_item(specific, product, 3000)
    contract(retailer, product, 4500, reference="HT-9")
    price = price_for(retailer, product)
    assert (price.unit_price_fen, price.source, price.reference) == (4500, "contract", "HT-9")
    assert str(price.reason) == "合同价 HT-9"


def test_highest_contract_break_reached_wins(retailer, product):
    contract(retailer, product, 4500, min_qty=1, reference="C1")
    contract(retailer, product, 4300, min_qty=10, reference="C10")
    contract(retailer, product, 4000, min_qty=50, reference="C50")
    assert price_for(retailer, product, 9).reference == "C1"
    assert price_for(retailer, product, 10).reference == "C10"
    assert price_for(retailer, product, 49).unit_price_fen == 4300
    big = price_for(retailer, product, 50)
    assert (big.unit_price_fen, big.min_qty, str(big.reason)) == (4000, 50, "合同价 C50（满 50 起）")


def test_contract_tie_goes_to_the_latest_start(retailer, product):
    contract(retailer, product, 4500, reference="OLD", valid_from=date(2024, 1, 1))
    contract(retailer, product, 4400, reference="NEW", valid_from=date(2024, 5, 1))
    contract(retailer, product, 4300, reference="FUTURE", valid_from=date(2024, 7, 1))
    assert price_for(retailer, product).reference == "NEW"


def test_contract_full_tie_goes_to_the_newest_row(retailer, product):
    # The unique constraint lets two rows without a start date share a break (NULLs differ).
    contract(retailer, product, 4500, reference="FIRST")
    contract(retailer, product, 4400, reference="SECOND")
    assert price_for(retailer, product).reference == "SECOND"


def test_contract_out_of_date_or_of_another_customer_is_ignored(world, retailer, product):
    contract(retailer, product, 4000, reference="EXPIRED", valid_to=date(2024, 5, 31))
    contract(retailer, product, 4100, reference="LATER", valid_from=date(2024, 6, 2))
    contract(world.orgs["retailer_b"], product, 3900, reference="NOT-YOURS")
    assert price_for(retailer, product).source == "base"
    assert price_for(retailer, product, on=date(2024, 5, 31)).reference == "EXPIRED"
    assert price_for(retailer, product, on=date(2024, 6, 2)).reference == "LATER"


def test_contract_quantity_below_every_break_falls_through_to_lists(retailer, product):
    contract(retailer, product, 4000, min_qty=20, reference="BULK")
    general = price_list("GENERAL")
    list_item(general, product, 4800)
    price = price_for(retailer, product, 19)
    assert (price.source, price.reference, price.unit_price_fen) == ("price_list", "GENERAL", 4800)


# --- 2. price lists -----------------------------------------------------------------------

def test_more_specific_list_beats_higher_priority(retailer, product):
    broad = price_list("BROAD", priority=100)
    narrow = price_list("NARROW", channel="kiosk", region_id=retailer.region_id, priority=0)
    list_item(broad, product, 4000)
    list_item(narrow, product, 4600)
    price = price_for(retailer, product)
    assert (price.reference, price.unit_price_fen) == ("NARROW", 4600)
    assert str(price.reason) == "价目表 价目表 NARROW"


def test_same_specificity_higher_priority_wins(retailer, product):
    low = price_list("LOW", channel="kiosk", priority=1)
    high = price_list("HIGH", channel="kiosk", priority=5)
    list_item(low, product, 4000)
    list_item(high, product, 4700)
    assert price_for(retailer, product).reference == "HIGH"


def test_same_specificity_and_priority_lower_id_wins(retailer, product):
    first = price_list("FIRST", channel="kiosk", priority=3)
    second = price_list("SECOND", region_id=retailer.region_id, priority=3)
    list_item(second, product, 4000)
    list_item(first, product, 4700)
    assert first.id < second.id
    assert price_for(retailer, product).reference == "FIRST"


def test_list_region_matches_an_ancestor_region(world, retailer, product):
    province = price_list("ZJ", region_id=world.regions["zj"].id)
    elsewhere = price_list("SC", region_id=world.regions["sc"].id, priority=50)
    list_item(province, product, 4400)
    list_item(elsewhere, product, 3000)
    assert price_for(retailer, product).reference == "ZJ"
    assert price_for(world.orgs["retailer_b"], product).reference == "SC"


def test_channel_and_tier_mismatch_ignored(world, retailer, product):
    catering = price_list("CATERING", channel="catering")
    list_item(catering, product, 3000)
    assert price_for(retailer, product).source == "base"

    dealer = world.orgs["dealer"]  # tier A
    tier_b = price_list("TIER-B", audience="dealer", tier="B")
    tier_a = price_list("TIER-A", audience="dealer", tier="A")
    list_item(tier_b, product, 3500)
    assert price_for(dealer, product).source == "base"
    list_item(tier_a, product, 3800)
    assert price_for(dealer, product).reference == "TIER-A"
    assert price_for(world.orgs["dealer_b"], product).reference == "TIER-B"


def test_audience_mismatch_ignored(world, retailer, product):
    dealers_only = price_list("DEALERS", audience="dealer")
    list_item(dealers_only, product, 3000)
    assert price_for(retailer, product).source == "base"
    assert price_for(world.orgs["dealer"], product).reference == "DEALERS"


def test_inactive_and_out_of_date_lists_ignored(retailer, product):
    inactive = price_list("OFF", active=False, priority=9)
    expired = price_list("EXPIRED", valid_to=date(2024, 5, 31), priority=8)
    future = price_list("FUTURE", valid_from=date(2024, 6, 2), priority=7)
    current = price_list("CURRENT", valid_from=date(2024, 6, 1), valid_to=date(2024, 6, 1))
    for plist, fen in ((inactive, 1000), (expired, 2000), (future, 3000), (current, 4900)):
        list_item(plist, product, fen)
    assert price_for(retailer, product).reference == "CURRENT"
    assert price_for(retailer, product, on=date(2024, 5, 31)).reference == "EXPIRED"


def test_list_without_the_product_falls_through_to_the_next_list(retailer, product):
    other_product = factories.product()
    best = price_list("BEST", channel="kiosk", region_id=retailer.region_id)
    fallback = price_list("FALLBACK")
    list_item(best, other_product, 1000)
    list_item(fallback, product, 4700)
    assert price_for(retailer, product).reference == "FALLBACK"
    assert price_for(retailer, other_product).reference == "BEST"


def test_quantity_below_every_break_of_a_list_falls_through(retailer, product):
    bulk_only = price_list("BULK-ONLY", channel="kiosk")
    list_item(bulk_only, product, 4000, min_qty=10)
    general = price_list("GENERAL")
    list_item(general, product, 4800)
    assert price_for(retailer, product, 9).reference == "GENERAL"
    assert price_for(retailer, product, 10).reference == "BULK-ONLY"
    only = price_list("ONLY-BULK-2", channel="kiosk", region_id=retailer.region_id)
    lonely = factories.product(base_price_fen=999)
    list_item(only, lonely, 500, min_qty=5)
    assert price_for(retailer, lonely, 4).source == "base"


def test_highest_break_of_the_winning_list(retailer, product):
    plist = price_list("BREAKS", channel="kiosk")
    for qty, fen in ((1, 4800), (10, 4600), (100, 4400)):
        list_item(plist, product, fen, min_qty=qty)
    assert [price_for(retailer, product, q).unit_price_fen for q in (1, 9, 10, 99, 100, 500)] == [
        4800, 4800, 4600, 4600, 4400, 4400]
    assert str(price_for(retailer, product, 150).reason) == "价目表 价目表 BREAKS（满 100 起）"


def test_a_product_that_does_not_exist_gets_no_price(retailer):
    assert quote_prices(region_profile(retailer), {999999: 1}, ON) == {}
    assert quote_prices(region_profile(retailer), {}, ON) == {}


# --- query count --------------------------------------------------------------------------

@contextmanager
def counted_queries():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_quote_prices_runs_the_same_number_of_queries_for_5_and_60_products(world, retailer):
    products = [factories.product(base_price_fen=1000 + n) for n in range(60)]
    lists = [price_list("L-ALL"), price_list("L-KIOSK", channel="kiosk"),
             price_list("L-HZ", region_id=retailer.region_id, priority=2),
             price_list("L-OLD", valid_to=date(2020, 1, 1))]
    for n, product in enumerate(products):
        if n % 5 == 4:
            continue  # left at its base price
        for k, plist in enumerate(lists):
            if (n + k) % 2 == 0:
                list_item(plist, product, 900 + n, min_qty=1 + k)
        if n % 3 == 0:
            contract(retailer, product, 800 + n, min_qty=1 + n % 4, reference=f"HT-{n}")
    ids = [p.id for p in products]
    db.session.commit()
    profile = region_profile(world.orgs["retailer"])
    quote_prices(profile, {ids[0]: 1}, ON)  # the process's price book, built once after the writes
    db.session.commit()  # a new transaction checks the book's token again

    with counted_queries() as few:
        few_prices = quote_prices(profile, {i: 3 for i in ids[:5]}, ON)
    db.session.commit()
    with counted_queries() as many:
        many_prices = quote_prices(profile, {i: 3 for i in ids}, ON)
    assert len(few_prices) == 5 and len(many_prices) == 60
    # the book's token, the products' base prices: whatever the number of products, lists, contracts
    assert len(few) == len(many) == 2, many
    assert {p.source for p in many_prices.values()} == {"contract", "price_list", "base"}
    assert many_prices[ids[0]].source == "contract"


# --- visibility ---------------------------------------------------------------------------

def visible_codes(org) -> set[str]:
    return set(db.session.scalars(visible_products(region_profile(org)).with_only_columns(Product.code)))


def test_product_without_rules_is_visible_to_everyone(world):
    factories.product(code="OPEN")
    for key in ("retailer", "retailer_b", "dealer", "dealer_b"):
        assert visible_codes(world.orgs[key]) == {"OPEN"}


def test_visibility_rules_by_channel_region_tier_and_audience(world):
    by_channel = factories.product(code="CATERING")
    visibility(by_channel, channel="catering")
    by_region = factories.product(code="ZJ-ONLY")
    visibility(by_region, region_id=world.regions["zj"].id)
    by_tier = factories.product(code="TIER-A")
    visibility(by_tier, audience="dealer", tier="A")
    by_audience = factories.product(code="RETAIL")
    visibility(by_audience, audience="retailer")
    either = factories.product(code="KIOSK-OR-SC")
    visibility(either, channel="kiosk")
    visibility(either, region_id=world.regions["sc"].id)

    assert visible_codes(world.orgs["retailer"]) == {"ZJ-ONLY", "RETAIL", "KIOSK-OR-SC"}  # kiosk in 杭州
    assert visible_codes(world.orgs["retailer_b"]) == {"RETAIL", "KIOSK-OR-SC"}  # convenience in 成都
    assert visible_codes(world.orgs["dealer"]) == {"ZJ-ONLY", "TIER-A"}  # tier A in 杭州
    assert visible_codes(world.orgs["dealer_b"]) == {"KIOSK-OR-SC"}  # tier B in 成都


def test_draft_and_discontinued_are_never_visible(world):
    factories.product(code="DRAFT", status="draft")
    gone = factories.product(code="GONE", status="discontinued")
    visibility(gone, audience="retailer")
    factories.product(code="ON-SALE")
    assert visible_codes(world.orgs["retailer"]) == {"ON-SALE"}


def test_a_price_written_by_a_statement_in_the_same_transaction_is_priced_at_once(world, retailer):
    """The price book follows this transaction's own writes, ORM or plain UPDATE statements."""
    from sqlalchemy import update

    from app.models import PriceListItem

    product = factories.product(base_price_fen=2000)
    plist = price_list("L-NOW")
    list_item(plist, product, 1500)
    db.session.commit()
    profile = region_profile(world.orgs["retailer"])
    assert quote_prices(profile, {product.id: 1}, ON)[product.id].unit_price_fen == 1500
    db.session.execute(update(PriceListItem).where(PriceListItem.product_id == product.id).values(price_fen=1400))
    assert quote_prices(profile, {product.id: 1}, ON)[product.id].unit_price_fen == 1400
    plist.items[0].price_fen = 1300
    db.session.flush()
    assert quote_prices(profile, {product.id: 1}, ON)[product.id].unit_price_fen == 1300
