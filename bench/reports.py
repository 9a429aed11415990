"""Benchmark: server time of the report pages and the role homes at `full` demo scale (p95 over
100 requests).

    .venv/bin/python bench/reports.py [--database lianying_bench] [--requests 100]

Needs a database with the full demo data and its facts built (`flask analytics refresh` on
`lianying_bench`, or `bench/forecasting.py`, which builds them on a copy; the service facts of a
database migrated before `h13d_service_facts` with `bench/service_facts.py`); the forecasts page shows
the last `forecast run`. The app runs in this process with production settings, driven by the Flask
test client (the server's own time per request). Signed in as `admin` (and `dealer001`) through
the login form once. Each page is asked for a one-year range with its filters varied (dimension,
comparison, province), the first round is a warm-up; the brand's report by retailer and by rep also
for custom one-year ranges (random start, either comparison, some in a province, pages 1-3). Budget: p95 ≤ 300 ms (homes: ≤ 150 ms).
"""
from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta

from benchlib import DEMO_PASSWORD, create_bench_app, csrf_token, percentile, print_table, verdict

BUDGET_MS = 300
HOME_BUDGET_MS = 150


def login(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert response.status_code in (302, 303), response.status_code
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="lianying_bench")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--only", default="", help="only the pages whose name contains this text")
    options = parser.parse_args()
    app = create_bench_app(f"postgresql://postgres@127.0.0.1:5432/{options.database}")
    admin, dealer, retailer = login(app, "admin"), login(app, "dealer001"), login(app, "retailer000001")
    rep = login(app, "rep01")
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=364)
    rng = random.Random(5)
    with app.app_context():
        from app.services.forecasting.reports import provinces
        province_ids = [p.id for p in provinces()]
    def custom_range(by: str) -> str:
        first = start - timedelta(days=rng.randint(7, 360))
        return "/admin/reports/sales?start={}&end={}&by={}&compare={}&page={}{}".format(
            first, first + timedelta(days=364), by, rng.choice(["previous", "last_year"]), rng.choice([1, 1, 2, 3]),
            rng.choice(["", "", f"&province={rng.choice(province_ids)}"]))

    pages = {
        "admin sales report, 1 year": lambda: (admin, "/admin/reports/sales?start={}&end={}&by={}&compare={}{}".format(
            start, end, rng.choice(["product", "category", "province", "dealer", "channel"]),
            rng.choice(["previous", "last_year"]), rng.choice(["", f"&province={rng.choice(province_ids)}"]))),
        "dealer sales report, 1 year": lambda: (dealer, "/dealer/reports/sales?start={}&end={}&by={}".format(
            start, end, rng.choice(["product", "province", "region", "channel"]))),
        "admin sales report by rep or retailer, 1 year": lambda: (admin, "/admin/reports/sales?start={}&end={}&by={}".format(
            start, end, rng.choice(["rep", "retailer"]))),
        # Any other range (typed into the form): one year starting on a random day of the year before
        # the presets' (not aligned to weeks, never a preset's range), either comparison, a third of
        # them in one province, pages 1-3.
        "admin sales report by retailer, custom 1 year": lambda: (admin, custom_range("retailer")),
        "admin sales report by rep, custom 1 year": lambda: (admin, custom_range("rep")),
        "dealer sales report by rep or retailer, 1 year": lambda: (
            dealer, "/dealer/reports/sales?start={}&end={}&by={}".format(start, end, rng.choice(["rep", "retailer"]))),
        "rep sales report (its shops), 1 year": lambda: (rep, "/rep/reports/sales?start={}&end={}&by={}".format(
            start, end, rng.choice(["product", "retailer", "dealer"]))),
        "admin service report, 1 year": lambda: (admin, "/admin/reports/service?start={}&end={}&by={}{}".format(
            start, end, rng.choice(["dealer", "province"]), rng.choice(["", f"&province={rng.choice(province_ids)}"]))),
        "dealer service report, 1 year": lambda: (dealer, f"/dealer/reports/service?start={start}&end={end}"),
        "admin channel and stock, 1 year": lambda: (admin, "/admin/reports/channel?start={}&end={}{}".format(
            start, end, rng.choice(["", f"&province={rng.choice(province_ids)}"]))),
        "dealer channel and stock, 1 year": lambda: (dealer, f"/dealer/reports/channel?start={start}&end={end}"),
        "admin forecasts page": lambda: (admin, "/admin/forecasts?province={}".format(
            rng.choice(["", str(rng.choice(province_ids))]))),
        "dealer customer health": lambda: (dealer, "/dealer/reports/customers?segment={}".format(
            rng.choice(["", "at_risk", "new", "active"]))),
        "rep customer health": lambda: (rep, "/rep/reports/customers"),
    }
    homes = {"admin home (brand overview)": lambda: (admin, "/admin/"),
             "dealer home": lambda: (dealer, "/dealer/"),
             "retailer home": lambda: (retailer, "/retailer/"),
             "rep home (route, shops at risk)": lambda: (rep, "/rep/")}
    pages.update(homes)
    pages = {name: make for name, make in pages.items() if options.only in name}
    rows = []
    for name, make in pages.items():
        samples = []
        for i in range(options.requests + 5):
            client, url = make()
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if i >= 5:
                samples.append(elapsed)
        p95 = percentile(samples, 0.95)
        budget = HOME_BUDGET_MS if name in homes else BUDGET_MS
        print(name, f"p95 {p95:.0f} ms", flush=True)
        rows.append((name, f"{percentile(samples, 0.5):.0f}", f"{p95:.0f}", f"{max(samples):.0f}",
                     f"≤ {budget}: {verdict(p95, budget)}"))
    print_table(("page", "p50 ms", "p95 ms", "max ms", "budget p95 (ms)"), rows)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
