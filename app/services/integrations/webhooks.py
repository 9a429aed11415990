"""Webhook subscriptions and deliveries (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
`webhook-signature`, signed by the `standardwebhooks` package).

- An organisation (brand, dealer) subscribes a URL to event types; the secret is made here and
  shown once. A subscription hears the events that concern its organisation (buyer or seller);
  the brand's hear every event.
- `fan_out(event_id)` (a job after the commit: jobs.webhooks.fan_out_events, one per transaction) makes one delivery per interested active
  subscription (unique per subscription and event, so running it twice adds nothing) and
  enqueues each delivery.
- `attempt(delivery_id)` (a job) POSTs once with a short timeout and logs the attempt. A failure
  schedules the next attempt by `RETRY_DELAYS` with ±20 % jitter (about 28 h in all); after the
  last one the delivery is `failed`. `WEBHOOK_DISABLE_AFTER` failed attempts in a row disable the
  subscription and notify the organisation in-app; a success resets the count.
- The `webhook-id` is the outbox event's id: every attempt and replay of one event carries the
  same id, so a receiver that saw it (e.g. before a worker died mid-delivery) can drop the repeat.
- SSRF guard: the URL's host must resolve to public addresses only, unless it is named in
  WEBHOOK_ALLOWED_HOSTS. Checked when subscribing and again before every attempt (DNS may change).
"""
from __future__ import annotations

import base64
import ipaddress
import json
import random
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import Organisation, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription, utcnow
from app.queue import enqueue_after_commit
from app.services.core.errors import DomainError, NotFound
from app.services.integrations.outbox import EVENT_TYPES

# Seconds before each retry (Standard Webhooks' suggested schedule): 5 s ... 10 h, ~28 h in all.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_SUBSCRIPTIONS = 10
EXCERPT = 500
# A delivery due for this long whose job RQ still calls "started" lost its worker (an attempt
# takes at most WEBHOOK_TIMEOUT plus a few queries).
STALE_SECONDS = 120


# --- subscriptions ----------------------------------------------------------------------------

def subscriptions_of(org_id: int):
    return (select(WebhookSubscription).where(WebhookSubscription.org_id == org_id, ~WebhookSubscription.deleted)
            .order_by(WebhookSubscription.id))


def subscription_of(org_id: int, subscription_id: int) -> WebhookSubscription:
    row = db.session.scalar(subscriptions_of(org_id).where(WebhookSubscription.id == subscription_id)) \
        if 0 < subscription_id < 2**31 else None
    if row is None:
        raise NotFound(_("订阅不存在。"))
    return row


def check_url(url: str) -> str:
    """The URL, if it is http(s) to a host we may deliver to; else DomainError on field url."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise DomainError(_("请填写 http 或 https 地址。"), field="url")
    if not host_allowed(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        raise DomainError(_("不能向内网、本机或链路本地地址发送。"), field="url")
    return url


def host_allowed(host: str, port: int) -> bool:
    """Named in WEBHOOK_ALLOWED_HOSTS, or every address it resolves to is public."""
    if host.lower() in current_app.config["WEBHOOK_ALLOWED_HOSTS"]:
        return True
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    return bool(addresses) and all(address.is_global and not address.is_multicast for address in addresses)


def check_types(types: list[str]) -> str:
    wanted = sorted(set(types or []))
    unknown = [t for t in wanted if t != "*" and t not in EVENT_TYPES]
    if not wanted or unknown:
        raise DomainError(_("未知的事件类型：%(t)s", t=", ".join(unknown) or "-"), field="event_types")
    return " ".join(wanted)


def subscribe(org: Organisation, url: str, event_types: list[str]) -> WebhookSubscription:
    if org.kind not in ("brand", "dealer"):
        raise DomainError(_("只有品牌方和经销商可以订阅。"))
    types, url = check_types(event_types), check_url(url)
    count = len(list(db.session.scalars(subscriptions_of(org.id))))
    if count >= MAX_SUBSCRIPTIONS:
        raise DomainError(_("最多 %(n)d 个订阅。", n=MAX_SUBSCRIPTIONS))
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    row = WebhookSubscription(org_id=org.id, url=url, secret=secret, event_types=types, active=True)
    db.session.add(row)
    db.session.flush()
    return row


def unsubscribe(org_id: int, subscription_id: int) -> None:
    """Deleted subscriptions keep their log; pending deliveries to them are dropped."""
    row = subscription_of(org_id, subscription_id)
    row.deleted, row.active = True, False
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id,
                                                     WebhookDelivery.status == "pending")
                       .values(status="failed", next_attempt_at=None))
    db.session.flush()


def enable(org_id: int, subscription_id: int) -> WebhookSubscription:
    row = subscription_of(org_id, subscription_id)
    row.active, row.disabled_at, row.failures_in_a_row = True, None, 0
    db.session.flush()
    return row


# --- fan-out and delivery ---------------------------------------------------------------------

def fan_out(event_id: str) -> list[int]:
    """One delivery per active subscription that hears the event; their ids (new ones only)."""
    return fan_out_events([event_id])


def fan_out_events(event_ids: list[str]) -> list[int]:
    """fan_out for every event one transaction recorded, in a fixed number of statements: the
    events, the subscriptions that may hear any of them and, only when there are some, the
    deliveries already made (a checkout's two events took six statements, and most shops have no
    subscription at all)."""
    events = list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_id.in_(event_ids))
                                     .order_by(OutboxEvent.id)))
    if not events:
        return []
    org_ids = sorted({org_id for event in events for org_id in (event.org_ids or [])}) or [0]
    is_brand = Organisation.kind == "brand"
    candidates = db.session.execute(
        select(WebhookSubscription, is_brand).join(Organisation, Organisation.id == WebhookSubscription.org_id)
        .where(WebhookSubscription.active, or_(WebhookSubscription.org_id.in_(org_ids), is_brand))
        .order_by(WebhookSubscription.id)).tuples().all()
    if not candidates:
        return []
    done = set(db.session.execute(select(WebhookDelivery.event_id, WebhookDelivery.subscription_id)
                                  .where(WebhookDelivery.event_id.in_([event.id for event in events]))).tuples())
    now = utcnow()
    created = [WebhookDelivery(subscription_id=subscription.id, event_id=event.id, status="pending", attempts=0,
                               next_attempt_at=now)
               for event in events for subscription, brand in candidates
               if (brand or subscription.org_id in (event.org_ids or ()))
               and subscription.wants(event.type) and (event.id, subscription.id) not in done]
    db.session.add_all(created)
    db.session.flush()  # one INSERT ... RETURNING for all of them
    for delivery in created:
        schedule(delivery.id)
    return [delivery.id for delivery in created]


def schedule(delivery_id: int, attempts: int = 0, delay_seconds: float = 0, *, replace_started: bool = False) -> None:
    """Enqueue the delivery's next attempt after the commit (with a delay: RQ's scheduler).
    `replace_started`: enqueue it even if RQ believes that attempt's job still runs (the sweep,
    for a delivery long overdue: its worker died; a second run is harmless, see `attempt`)."""
    enqueue_after_commit("jobs.webhooks.attempt", delivery_id, job_id=f"webhook-{delivery_id}-{attempts}",
                         queue="webhooks", retries=0, delay=delay_seconds, replace_started=replace_started)


def payload(event: OutboxEvent) -> str:
    return json.dumps({"id": event.event_id, "type": event.type, "timestamp": event.occurred_at.isoformat(),
                       "aggregate": {"type": event.aggregate_type, "id": event.aggregate_id,
                                     "sequence": event.sequence},
                       "data": event.data}, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def signed_headers(secret: str, event_id: str, body: str) -> dict[str, str]:
    now = utcnow()
    return {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(event_id, now, body),
            "content-type": "application/json", "user-agent": "Lianying-Webhooks/1"}


def next_delay(attempts: int) -> float | None:
    """Seconds before the retry that follows `attempts` failed attempts (None: no more)."""
    if attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1] * random.uniform(0.8, 1.2)


def attempt(delivery_id: int, *, force: bool = False) -> str | None:
    """POST the delivery once if it is due (or `force`), log the attempt and decide what follows.
    Returns the delivery's status afterwards (None: nothing to do). The caller commits."""
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                 .with_for_update(skip_locked=True))
    if delivery is None or delivery.status != "pending":
        return None
    if not force and delivery.next_attempt_at and delivery.next_attempt_at > utcnow() + timedelta(seconds=1):
        return None  # an early duplicate; the scheduled job will come
    subscription = delivery.subscription
    if not subscription.active:
        delivery.status, delivery.next_attempt_at = "failed", None
        return delivery.status
    event = delivery.event
    body = payload(event)
    started = time.monotonic()
    status_code, ok, excerpt = None, False, ""
    parts = urlsplit(subscription.url)
    if not host_allowed(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)):
        excerpt = "refused: the host resolves to a private, loopback or link-local address"
    else:
        try:
            response = requests.post(subscription.url, data=body.encode(), allow_redirects=False,
                                     headers=signed_headers(subscription.secret, event.event_id, body),
                                     timeout=current_app.config["WEBHOOK_TIMEOUT"], stream=True)
            status_code, ok = response.status_code, 200 <= response.status_code < 300
            excerpt = response.raw.read(EXCERPT, decode_content=True).decode("utf-8", "replace")
            response.close()
        except requests.RequestException as error:
            excerpt = f"{type(error).__name__}: {error}"
    duration_ms = int((time.monotonic() - started) * 1000)
    now = utcnow()
    db.session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=status_code, ok=ok,
                                  duration_ms=duration_ms, excerpt=excerpt[:EXCERPT]))
    delivery.attempts += 1
    # The failure count is shared by the workers attempting this subscription's deliveries at
    # once: it changes by single UPDATEs only, never by read-modify-write.
    table = WebhookSubscription.__table__
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        db.session.execute(update(table).where(table.c.id == subscription.id, table.c.failures_in_a_row != 0)
                           .values(failures_in_a_row=0))
        return delivery.status
    failures = db.session.execute(update(table).where(table.c.id == subscription.id)
                                  .values(failures_in_a_row=table.c.failures_in_a_row + 1)
                                  .returning(table.c.failures_in_a_row)).scalar_one()
    delay = next_delay(delivery.attempts)
    if delay is None:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        schedule(delivery.id, delivery.attempts, delay)
    if failures >= current_app.config["WEBHOOK_DISABLE_AFTER"]:
        _disable(subscription.id, failures)
    db.session.flush()
    db.session.expire(delivery)
    return db.session.scalar(select(WebhookDelivery.status).where(WebhookDelivery.id == delivery_id))


def _disable(subscription_id: int, failures: int) -> None:
    """Disable the subscription once (the one UPDATE that turns it off tells the organisation)
    and fail its pending deliveries."""
    from app.services.notifications import Audience, notify

    now = utcnow()
    table = WebhookSubscription.__table__
    row = db.session.execute(update(table).where(table.c.id == subscription_id, table.c.active)
                             .values(active=False, disabled_at=now)
                             .returning(table.c.org_id, table.c.url)).first()
    if row is None:
        return  # another worker disabled it a moment ago
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id,
                                                     WebhookDelivery.status == "pending")
                       .values(status="failed", next_attempt_at=None).execution_options(synchronize_session=False))
    org = db.session.get(Organisation, row.org_id)
    role = "admin" if org.kind == "brand" else "dealer"
    notify(Audience(org.id, role), kind="webhook_disabled", message="webhook.disabled",
           params={"url": row.url, "n": failures}, dedupe_key=f"webhook:{subscription_id}:{int(now.timestamp())}")


# --- log and replay ---------------------------------------------------------------------------

def deliveries_of(org_id: int, subscription_id: int):
    subscription = subscription_of(org_id, subscription_id)
    return (select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.id.desc()))


def replay(org_id: int, subscription_id: int, delivery_ids: list[int] | None = None,
           status: str | None = None) -> list[int]:
    """Send deliveries of the subscription again (the named ones, or all with `status`): each
    becomes pending with a fresh round of retries, same event id. The subscription must be
    active (enable it first). Returns the ids scheduled."""
    subscription = subscription_of(org_id, subscription_id)
    if not subscription.active:
        raise DomainError(_("订阅已停用，请先启用。"))
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if delivery_ids:
        query = query.where(WebhookDelivery.id.in_([i for i in delivery_ids if 0 < i < 2**62]))
    elif status:
        query = query.where(WebhookDelivery.status == status)
    else:
        raise DomainError(_("请指定要重发的投递。"), field="delivery_ids")
    ids = []
    for delivery in db.session.scalars(query.order_by(WebhookDelivery.id).limit(1000).with_for_update()):
        delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
        ids.append(delivery.id)
        schedule(delivery.id)
    if delivery_ids and len(ids) != len(set(delivery_ids)):
        raise NotFound(_("投递不存在。"))
    db.session.flush()
    return ids


def due_deliveries(limit: int = 500) -> list[tuple[int, int, bool]]:
    """(id, attempts, overdue) of pending deliveries whose attempt is due (for the sweep that
    covers a lost scheduled job, a worker killed mid-attempt, and inline mode where delayed jobs
    do not run). `overdue`: due for longer than STALE_SECONDS, so its job (if RQ still lists it
    as started) died with its worker."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config.get("WEBHOOK_STALE_SECONDS", STALE_SECONDS))
    rows = db.session.execute(select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.next_attempt_at)
                              .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                              .order_by(WebhookDelivery.next_attempt_at).limit(limit)).tuples()
    return [(delivery_id, attempts, due_at <= stale) for delivery_id, attempts, due_at in rows]
