"""Benchmark: the analytics facts and the demand forecast at `full` demo scale, and the
forecasting command on synthetic series.

    .venv/bin/python bench/forecasting.py [--database bench_copy] [--skip-build]

On a COPY of the full demo database (it writes: `createdb -T lianying_bench bench_copy`):
1. first fact build (`flask analytics refresh` on an empty fact table): time, peak memory, rows;
2. a nightly increment after 2,000 orders changed status: time;
3. held-out accuracy: every product × province series with its last 8 complete weeks held out,
   forecast by the product's model selection and by naive, 4-week moving average and seasonal
   naive on the same weeks (1 − WAPE, volume-weighted);
4. the weekly forecast run (`flask forecast run`, backtest included): time, peak memory;
and `flask forecast csv` on 200 series × 100 weeks. Peak memory is the child process's maximum
resident set size (GNU time; Debian package `time`).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

from benchlib import ROOT, create_bench_app  # noqa: F401 (puts the project on sys.path)

FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
HOLDOUT = 8


def run(args: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds, peak MiB, output) of one flask command in a child process (GNU time's max RSS)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", *FLASK, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = int(done.stderr.rsplit("MAXRSS", 1)[1].split()[0]) / 1024
    return seconds, peak, done.stdout.strip()


def held_out_accuracy(database_url: str) -> None:
    from app.services.forecasting.demand import weekly_history
    from app.services.forecasting.history import WeeklySeries
    from app.services.forecasting.holidays import week_of
    from app.services.forecasting.selection import forecast

    app = create_bench_app(database_url)
    with app.app_context():
        last_week = week_of(date.today()) - timedelta(days=7)
        series = [s for s in weekly_history(last_week) if len(s.values) > HOLDOUT + 8]
    train = [WeeklySeries(s.name, s.start, s.values[:-HOLDOUT]) for s in series]
    started = time.perf_counter()
    result = forecast(train, HOLDOUT)
    seconds = time.perf_counter() - started
    totals = {"model selection (ours)": 0.0, "naive (last week)": 0.0, "moving average (4 weeks)": 0.0,
              "seasonal naive (52 weeks)": 0.0}
    actual_total = 0.0
    for s, t, item in zip(series, train, result.series):
        actual = s.values[-HOLDOUT:]
        actual_total += sum(actual)
        history = t.values
        naive = [history[-1]] * HOLDOUT
        average = [sum(history[-4:]) / min(4, len(history))] * HOLDOUT
        seasonal = [history[len(history) - 52 + i] if len(history) >= 52 else history[-1] for i in range(HOLDOUT)]
        for name, predicted in (("model selection (ours)", item.values), ("naive (last week)", naive),
                                ("moving average (4 weeks)", average), ("seasonal naive (52 weeks)", seasonal)):
            totals[name] += sum(abs(a - p) for a, p in zip(actual, predicted))
    print(f"\nHeld-out accuracy, last {HOLDOUT} complete weeks, {len(series)} product x province series "
          f"({actual_total:,.0f} cases; selection and fit took {seconds:.1f} s):")
    for name, error in totals.items():
        print(f"  {name:28s} 1 - WAPE = {1 - error / actual_total:6.1%}")


def csv_command(env: dict) -> None:
    rng = random.Random(1)
    start = date(2024, 1, 1)
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "in.csv"), os.path.join(folder, "out.csv")
        with open(source, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("series", "period", "qty"))
            for n in range(200):
                level = rng.uniform(5, 100)
                for week in range(100):
                    qty = max(0.0, level + rng.gauss(0, level * 0.15))
                    if n % 4 == 0 and rng.random() < 0.7:
                        qty = 0.0
                    writer.writerow((f"s{n}", (start + timedelta(weeks=week)).isoformat(), round(qty, 1)))
        seconds, peak, output = run(["forecast", "csv", "--input", source, "--horizon", "13", "--output", target], env)
        print(f"\nforecast csv, 200 series x 100 weeks, horizon 13: {seconds:.1f} s, peak {peak:.0f} MiB")
        print("  " + output.replace("\n", "\n  "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_forecast", help="a COPY of the full demo database")
    parser.add_argument("--skip-build", action="store_true", help="keep the facts already built")
    options = parser.parse_args()
    url = f"postgresql://postgres@127.0.0.1:5432/{options.database}"
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("REDIS_URL", None)
    run(["db", "upgrade"], env)
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        if not options.skip_build:
            conn.execute("TRUNCATE sales_daily, fact_watermarks")
            seconds, peak, output = run(["analytics", "refresh"], env)
            print(f"first fact build: {seconds:.1f} s, peak {peak:.0f} MiB — {output}")
        conn.execute("UPDATE orders SET status = 'completed', updated_at = now() WHERE id IN "
                     "(SELECT id FROM orders WHERE status = 'delivered' ORDER BY id DESC LIMIT 2000)")
        changed = conn.execute("SELECT count(*) FROM orders WHERE updated_at > now() - interval '1 minute'").fetchone()[0]
    seconds, peak, output = run(["analytics", "refresh"], env)
    print(f"nightly increment ({changed} orders changed): {seconds:.1f} s, peak {peak:.0f} MiB — {output}")
    held_out_accuracy(url)
    seconds, peak, output = run(["forecast", "run"], env)
    print(f"\nweekly forecast run: {seconds:.1f} s, peak {peak:.0f} MiB — {output}")
    csv_command(env)
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
