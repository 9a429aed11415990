"""Entry point for `flask --app wsgi` and `gunicorn wsgi:app`."""
import gc

from app import create_app

app = create_app()

# Move everything imported and built so far (~490 k objects: SQLAlchemy's mappers, the translations,
# the pinyin tables ...) out of the cyclic collector's reach. They live as long as the process, yet
# each full collection walked them all: ~200 ms every few hundred requests of a gunicorn worker
# (measured under bench/baseline.py's load). gunicorn imports this module in each worker after the
# fork (no preload), so each worker freezes its own; reference counting still frees what they drop.
# Collect first: garbage cycles left by the imports would otherwise be frozen for good.
gc.collect()
gc.freeze()
