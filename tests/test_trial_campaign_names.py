"""Presale and group-buy pages name the product in the reader's language (they printed the Chinese
name in the English UI), and the retailer's presale offers are cards without list bullets."""
from app.extensions import db
from tests import builders_groupbuy as gb
from tests import builders_presale as bp
from tests import factories


def test_presale_and_group_buy_pages_name_the_product_in_english(world, retailer, login_as):
    item = bp.campaign(factories.product(name_zh="新年礼盒可乐", name_en="New Year cola gift box"))
    campaign = gb.campaign(world.orgs["dealer"], factories.product(name_zh="团购冰红茶", name_en="Group iced tea"))
    db.session.commit()
    offers = retailer.get("/retailer/presale").get_data(as_text=True)
    assert '<ul class="cards">' in offers and "新年礼盒可乐" in offers
    retailer.post("/locale", {"locale": "en", "next": "/retailer/"})
    for url, name in (("/retailer/presale", "New Year cola gift box"),
                      (f"/retailer/presale/{item.id}", "New Year cola gift box"),
                      ("/retailer/groupbuys", "Group iced tea"),
                      (f"/retailer/groupbuys/{campaign.id}", "Group iced tea")):
        html = retailer.get(url).get_data(as_text=True)
        assert name in html and "新年礼盒可乐" not in html and "团购冰红茶" not in html, url
    dealer = login_as("dealer")
    dealer.post("/locale", {"locale": "en", "next": "/dealer/"})
    html = dealer.get("/dealer/groupbuys").get_data(as_text=True)
    assert "Group iced tea" in html and "团购冰红茶" not in html
