"""The issue's page-weight budgets for a browser that asks for gzip only (an old phone browser):
the catalog with 50 products ≤ 20 KB, the first load with CSS and htmx ≤ 45 KB. bench/page_weight.py
prints the same figures in full."""
import gzip
import re

from app.demo.builder import build

KB = 1024
ASSETS = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


def gzip_get(client, url):
    response = client.request("GET", url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, url
    assert response.headers.get("Content-Encoding") == "gzip", url
    return response, len(response.get_data())


def test_catalog_and_first_load_fit_the_gzip_budgets(app, client):
    build("tiny", echo=lambda line: None)
    assert client.login("retailer000001", app.config["DEMO_PASSWORD"]).status_code == 303

    page, html_bytes = gzip_get(client, "/retailer/catalog")
    body = gzip.decompress(page.get_data()).decode()
    assert body.count('<li class="prod"') == 50
    assert html_bytes <= 20 * KB

    assets = ASSETS.findall(body)
    assert any(a.endswith(".css") for a in assets) and any("htmx" in a for a in assets)
    total = html_bytes
    for asset in assets:
        response, size = gzip_get(client, asset)
        assert "immutable" in response.headers["Cache-Control"]
        total += size
    assert total <= 45 * KB
