#!/bin/sh
# run tests on PostgreSQL, h10b's own db and redis
cd /work/h10b && DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_h10b REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python -m pytest -n 0 -q -p no:cacheprovider "$@" 2>&1 | tail -30
