"""Benchmark: first build and increment of the per-order service facts (issue 13, service report).

    .venv/bin/python bench/service_facts.py [--database lianying_bench] [--drop]

On a database migrated before `h13d_service_facts` the table is created here from the model
(alembic_version is left alone) and, with `--drop`, removed again with its watermark, so the
shared bench database is left as it was. Prints the first build's time, a refresh with nothing
changed, the rows written, this process's peak memory and the load average.
"""
from __future__ import annotations

import argparse
import os
import resource
import time

from benchlib import create_bench_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="lianying_bench")
    parser.add_argument("--drop", action="store_true", help="drop the table (and its watermark) and stop")
    options = parser.parse_args()
    app = create_bench_app(f"postgresql://postgres@127.0.0.1:5432/{options.database}")
    with app.app_context():
        from sqlalchemy import delete, func, select

        from app.extensions import db
        from app.models.analytics import FactWatermark, ServiceFact
        from app.services.analytics import service_facts

        if options.drop:
            db.session.execute(delete(FactWatermark).where(FactWatermark.name == service_facts.NAME))
            db.session.commit()
            ServiceFact.__table__.drop(db.engine, checkfirst=True)
            print("service_facts dropped")
            return 0
        ServiceFact.__table__.create(db.engine, checkfirst=True)
        db.session.execute(delete(FactWatermark).where(FactWatermark.name == service_facts.NAME))
        db.session.commit()
        started = time.perf_counter()
        built = service_facts.refresh()
        db.session.commit()
        first = time.perf_counter() - started
        rows = db.session.scalar(select(func.count()).select_from(ServiceFact))
        started = time.perf_counter()
        again = service_facts.refresh()
        db.session.commit()
        increment = time.perf_counter() - started
        db.session.execute(ServiceFact.__table__.select().limit(0))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"first build: {first:.1f} s, {built} orders, {rows} fact rows")
    print(f"refresh with nothing new: {increment:.2f} s ({again} orders re-read inside the overlap)")
    print(f"peak memory of this process: {peak:.0f} MiB")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
