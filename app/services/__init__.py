"""Domain logic. Services take plain arguments and the session, flush but never commit, and
raise DomainError subclasses with a user-facing message. They never touch `request`, never
import `jobs` (they enqueue a job by its dotted name: app.queue.enqueue_after_commit) or the web
layer, and never build URLs (tests/test_service_boundaries.py checks)."""
