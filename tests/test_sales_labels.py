"""The brand's export by retailer names every shop of the market (~10⁵ at full scale): more ids
than PostgreSQL takes as parameters of one statement (65,535), which made the export a 500."""
from app.services.analytics.sales import SalesRow, _label


def test_labels_for_more_shops_than_one_statement_takes(world):
    shop = world.orgs["retailer"]
    missing = range(10_000_000, 10_070_000)  # ids of no shop: 70,000 of them
    rows = [SalesRow(k, 0, 0, 0, 0, 0, 0, 0, 0) for k in (*missing, shop.id)]
    _label(rows, "retailer", "zh_CN", {})
    assert (rows[-1].label, rows[-1].code) == (shop.name, shop.code)
    assert {(r.label, r.code) for r in rows[:-1]} == {("—", "")}
