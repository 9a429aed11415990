"""Benchmark: page weight of the retailer catalog against the issue's budgets.

    .venv/bin/python bench/page_weight.py [--database-url URL]

Inputs: by default a throw-away SQLite database with the demo data at its `tiny` scale (built
in a few seconds); `--database-url` measures an existing database with demo data instead
(e.g. postgresql://postgres@127.0.0.1:5432/lianying_bench). Signs in as retailer000001
(password demo-pass) through the login form, in-process (Flask test client, production
settings: Flask-Compress with gzip and brotli). Sizes are response bodies as sent for
`Accept-Encoding: gzip` (bodies under Flask-Compress's 500-byte minimum are sent as they are);
brotli sizes are shown for what a browser that asks for `br` gets.

Budgets: catalog HTML with 50 products ≤ 20 KB gzip; first load (HTML + CSS + htmx) ≤ 45 KB
gzip; the htmx answer to the stepper's + ("set quantity") ≤ 3 KB; a revalidation with If-None-Match answers 304;
static files carry a year-long immutable Cache-Control. The one cart line the run adds is
removed at the end.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile

from benchlib import DEMO_PASSWORD, add_forms, create_bench_app, csrf_token, print_table, verdict

RETAILER = "retailer000001"
KB = 1024
YEAR = 365 * 24 * 3600
HTML_BUDGET = 20 * KB
FIRST_LOAD_BUDGET = 45 * KB
ADD_BUDGET = 3 * KB
_ASSETS = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


def kb(n: int) -> str:
    return f"{n / KB:.1f} KB"


def build_tiny_demo(app) -> None:
    from flask_migrate import upgrade

    from app.demo.builder import build

    with app.app_context():
        upgrade()
        build("tiny", echo=lambda line: None)


def sizes(client, method: str, url: str, **kw):
    """(response for gzip, gzip body bytes, brotli body bytes, identity body bytes)."""
    headers = kw.pop("headers", {})
    gz = client.open(url, method=method, headers={**headers, "Accept-Encoding": "gzip"}, **kw)
    br = client.open(url, method=method, headers={**headers, "Accept-Encoding": "br"}, **kw) if method == "GET" else None
    plain = client.open(url, method=method, headers=headers, **kw) if method == "GET" else None
    return gz, len(gz.get_data()), len(br.get_data()) if br else None, len(plain.get_data()) if plain else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an existing database with demo data (default: a new tiny SQLite demo)")
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + tempfile.mkdtemp(prefix="lianying-weight-") + "/weight.db"
    app = create_bench_app(url)
    if not args.database_url:
        build_tiny_demo(app)
    print(f"database: {url.split('@')[-1]}")

    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": RETAILER, "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_token(login)})
    if response.status_code != 303:
        print(f"login as {RETAILER} failed: {response.status_code}")
        return 1

    rows, failures = [], 0

    def row(item, raw, gzip, brotli, budget=None, note=""):
        nonlocal failures
        result = verdict(gzip, budget) if budget is not None else ""
        failures += result == "FAIL"
        rows.append([item, kb(raw) if raw is not None else "", kb(gzip) if gzip is not None else "",
                     kb(brotli) if brotli is not None else "", f"≤ {kb(budget)}" if budget else "", result or note])

    page, page_gz, page_br, page_raw = sizes(client, "GET", "/retailer/catalog")
    body = client.get("/retailer/catalog").get_data(as_text=True)
    products = body.count('<li class="prod"')
    row(f"catalog page HTML ({products} products)", page_raw, page_gz, page_br, HTML_BUDGET)
    if products != 50:
        print(f"WARNING: the catalog page shows {products} products, not 50")

    first_gz, first_br, first_raw, cache_headers = page_gz, page_br, page_raw, {}
    for asset in _ASSETS.findall(body):
        response, gz, br, raw = sizes(client, "GET", asset)
        name = asset.rsplit("/", 1)[-1]
        cache_headers[name] = response.headers.get("Cache-Control", "")
        row(f"  {name}", raw, gz, br)
        first_gz, first_br, first_raw = first_gz + gz, first_br + br, first_raw + raw
    row("first load: HTML + CSS + htmx", first_raw, first_gz, first_br, FIRST_LOAD_BUDGET)

    product_id, qty = add_forms(body)[0]
    had = cart_quantity(app, product_id)
    form = {"csrf_token": csrf_token(body), "product_id": product_id, "to": qty, "next": "/retailer/catalog"}
    added, add_gz, _br, _raw = sizes(client, "POST", "/retailer/cart/set", data=form,
                                     headers={"HX-Request": "true"})
    raw_add = client.post("/retailer/cart/set", data=form, headers={"HX-Request": "true"})  # the same again, identity
    row(f"htmx stepper answer ({added.status_code})", len(raw_add.get_data()), add_gz, None, ADD_BUDGET)
    _r, search_gz, search_br, search_raw = sizes(client, "GET", "/retailer/catalog?q=%E8%8C%B6",
                                                 headers={"HX-Request": "true"})
    row("htmx search answer (q=茶)", search_raw, search_gz, search_br, note="info")
    _r, cart_gz, cart_br, cart_raw = sizes(client, "GET", "/retailer/cart")
    row("cart page (1 line)", cart_raw, cart_gz, cart_br, note="info")

    print()
    print_table(["item", "identity", "gzip", "brotli", "budget", "result"], rows)

    etag = client.get("/retailer/catalog").headers.get("ETag")
    again = client.get("/retailer/catalog", headers={"If-None-Match": etag or ""})
    revalidated = again.status_code == 304 and not again.get_data()
    static_ok = all(f"max-age={YEAR}" in value and "immutable" in value for value in cache_headers.values())
    failures += (not revalidated) + (not static_ok)
    print()
    print_table(["check", "measured", "result"], [
        ["catalog revalidation (If-None-Match)", f"{again.status_code}, {len(again.get_data())} B body, "
                                                 f"ETag {etag}", "PASS" if revalidated else "FAIL"],
        ["catalog Cache-Control", page.headers.get("Cache-Control", ""), "info"],
        *[[f"static {name} Cache-Control", value, "PASS" if f"max-age={YEAR}" in value and "immutable" in value
           else "FAIL"] for name, value in cache_headers.items()],
    ])

    restore_cart_line(app, product_id, had)
    return 1 if failures else 0


def cart_quantity(app, product_id: int) -> int | None:
    with app.app_context():
        from app.extensions import db
        from app.models import CartLine, User

        user = db.session.scalar(db.select(User).where(User.username == RETAILER))
        return db.session.scalar(db.select(CartLine.qty).where(CartLine.owner_id == user.id,
                                                               CartLine.product_id == product_id))


def restore_cart_line(app, product_id: int, qty: int | None) -> None:
    """Put retailer000001's cart line for the product back as it was before the run."""
    with app.app_context():
        from app.extensions import db
        from app.models import CartLine, User

        user = db.session.scalar(db.select(User).where(User.username == RETAILER))
        line = db.session.scalar(db.select(CartLine).where(CartLine.owner_id == user.id,
                                                           CartLine.product_id == product_id))
        if line is not None and qty is None:
            db.session.delete(line)
        elif line is not None:
            line.qty = qty
        db.session.commit()


if __name__ == "__main__":
    sys.exit(main())
