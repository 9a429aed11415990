"""Integrations with the brand's and dealers' systems: the outbox of domain events
(outbox.py), webhook subscriptions and their deliveries (webhooks.py), ERP export (exports.py)."""
