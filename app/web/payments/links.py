"""Addresses the providers need: where they send notifications (the site's public address,
PUBLIC_URL, since the provider calls us from outside any request of ours)."""
from __future__ import annotations

from flask import current_app, url_for

from app.services.payments.providers import configured_name


def notify_url(provider_name: str | None = None) -> str:
    name = provider_name or configured_name() or "sandbox"
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("api.payment_notify", provider_name=name)
