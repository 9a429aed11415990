"""Addresses the providers need: where they send notifications. A real provider calls us from
outside any request of ours, so it needs the site's public address, PUBLIC_URL. The sandbox is
our own server calling itself: while PUBLIC_URL is not set it uses the address the payer's
request came in on, so a fresh `flask run` works on whatever port it listens."""
from __future__ import annotations

from flask import current_app, has_request_context, request, url_for

from app.services.payments.providers import configured_name


def notify_url(provider_name: str | None = None) -> str:
    name = provider_name or configured_name() or "sandbox"
    base = current_app.config["PUBLIC_URL"]
    if name == "sandbox" and not current_app.config.get("PUBLIC_URL_SET") and has_request_context():
        base = request.host_url
    return base.rstrip("/") + url_for("api.payment_notify", provider_name=name)
