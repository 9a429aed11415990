"""Benchmark: back up the full-scale demo database and restore it, the recovery-time objective.

    .venv/bin/python bench/backup_restore.py [--database lianying_bench] [--scratch lianying_bench_scratch]
                                             [--jobs 4] [--keep]

Runs what `flask backup --verify` runs, on the `full` demo database (build it with
bench/seed_full.py): pg_dump in custom format from one exported snapshot with every table's
fingerprint (rows and checksum), then the restore drill: a fresh scratch database, pg_restore
with --jobs, ANALYZE, and the comparison of every table with the manifest. Prints the dump size
next to the database size, the backup time, the restore time (empty database → usable, planner
statistics included: the figure the 2-hour recovery promise depends on) and the check time.
The scratch database is dropped and the dump deleted at the end (`--keep` keeps the dump).
Exits 1 when the restore takes more than the budget (5 minutes) or the check finds a difference.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import tempfile

import psycopg

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESTORE_BUDGET_S = 5 * 60


def main() -> int:
    from app.services.ops.backup import create_backup, verify_backup

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="lianying_bench")
    parser.add_argument("--scratch", default=None, help="default: <database>_scratch")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--jobs", type=int, default=None, help="pg_restore --jobs (default min(4, cores))")
    parser.add_argument("--keep", action="store_true", help="keep the dump (its folder is printed)")
    args = parser.parse_args()
    url = f"{args.server}/{args.database}"
    scratch = f"{args.server}/{args.scratch or args.database + '_scratch'}"

    with psycopg.connect(url) as connection:
        size = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        orders = connection.execute("SELECT count(*) FROM orders").fetchone()[0]
    print(f"database {args.database}: {size / 2**20:,.0f} MB, {orders:,} orders; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    work = pathlib.Path(tempfile.mkdtemp(prefix="lianying-bench-backup-"))
    try:
        made = create_backup(url, work, None)
        rows = sum(t["rows"] for t in made.manifest["tables"].values())
        print(f"backup:  {made.seconds:7.1f} s  dump {made.database_bytes / 2**20:,.0f} MB "
              f"({made.database_bytes / size:.0%} of the database), {len(made.manifest['tables'])} tables, "
              f"{rows:,} rows fingerprinted")
        check = verify_backup(made.path, scratch, url, jobs=args.jobs)
        print(f"restore: {check.restore_seconds:7.1f} s  (fresh database, pg_restore --jobs, ANALYZE)"
              f"  budget {RESTORE_BUDGET_S} s")
        print(f"check:   {check.seconds - check.restore_seconds:7.1f} s  ({check.tables} tables, {check.rows:,} rows "
              f"compared with the manifest: {'all equal' if check.ok else 'DIFFERENCES'})")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        for problem in check.problems:
            print("  " + problem)
        if args.keep:
            print(f"dump kept in {made.path}")
        return 0 if check.ok and check.restore_seconds <= RESTORE_BUDGET_S else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
