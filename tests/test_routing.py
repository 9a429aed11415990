"""Order routing: the assigned dealer when it covers the retailer, else a covering dealer (most
specific territory first), else the brand."""
import pytest

from app.extensions import db
from app.models import DealerTerritory
from app.services.ordering.routing import seller_for
from tests import factories


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def territory(dealer, region):
    db.session.add(DealerTerritory(dealer_id=dealer.id, region_id=region.id))
    db.session.flush()


def test_assigned_dealer_covering_the_region_gets_the_order(world):
    assert seller_for(world.orgs["retailer"]) == world.orgs["dealer"]
    assert seller_for(world.orgs["retailer_b"]) == world.orgs["dealer_b"]


def test_a_territory_on_an_ancestor_region_covers_the_retailer(world):
    county = factories.region("西湖区", world.regions["hz"])
    dealer = factories.org("dealer", "浙江总经销")
    territory(dealer, world.regions["zj"])
    shop = factories.org("retailer", region_id=county.id, channel="kiosk", dealer_id=dealer.id)
    assert seller_for(shop) == dealer


def test_inactive_assigned_dealer_falls_back_to_a_covering_dealer(world):
    backup = factories.org("dealer", "杭州备用经销商")
    territory(backup, world.regions["hz"])
    world.orgs["dealer"].active = False
    assert seller_for(world.orgs["retailer"]) == backup


def test_assigned_dealer_that_does_not_cover_the_region_is_passed_over(world):
    shop = factories.org("retailer", region_id=world.regions["cd"].id, dealer_id=world.orgs["dealer"].id)
    assert seller_for(shop) == world.orgs["dealer_b"]


def test_most_specific_territory_wins_then_lowest_id(world):
    county = factories.region("上城区", world.regions["hz"])
    province_dealer = factories.org("dealer", "省级经销商")
    territory(province_dealer, world.regions["zj"])
    shop = factories.org("retailer", region_id=county.id)
    assert seller_for(shop) == world.orgs["dealer"]  # city (杭州) before province (浙江)
    first, second = factories.org("dealer", "区级一"), factories.org("dealer", "区级二")
    territory(second, county)
    territory(first, county)
    assert seller_for(shop) == first


def test_no_covering_dealer_goes_to_the_brand(world):
    far = factories.region("新疆")
    shop = factories.org("retailer", region_id=far.id, dealer_id=world.orgs["dealer"].id)
    assert seller_for(shop) == world.brand
    world.orgs["dealer"].active = False
    assert seller_for(world.orgs["retailer"]) == world.brand


def test_retailer_without_region_goes_to_its_active_assigned_dealer_or_the_brand(world):
    shop = factories.org("retailer", dealer_id=world.orgs["dealer"].id)
    assert seller_for(shop) == world.orgs["dealer"]
    world.orgs["dealer"].active = False
    assert seller_for(shop) == world.brand
    assert seller_for(factories.org("retailer")) == world.brand


def test_dealers_buy_from_the_brand(world):
    assert seller_for(world.orgs["dealer"]) == world.brand
