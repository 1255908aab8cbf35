"""The delivery job: send the deliveries that are due, signed, and record each attempt.

``deliver_due(store)`` works in three steps, so that no database transaction
is open while a receiver is being waited for (on SQLite that would stall
every writer of the service):

1. **Take** up to a batch of due deliveries (pending, ``next_attempt_at`` in
   the past, subscription live) in one short write transaction, with
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and move their
   ``next_attempt_at`` a lease (:data:`LEASE`) ahead: another worker neither
   waits for them nor sees them as due, so each attempt is made once. A worker
   that dies mid-send leaves the delivery to be tried again when the lease
   runs out (delivery is at least once).
2. **Send** them, a few at a time in threads, each with short connect, read
   and write timeouts and no redirects. The body is
   ``{"id", "type", "created", "claim"}``, signed by the Standard Webhooks
   scheme (the ``standardwebhooks`` package): ``webhook-id`` is the event id
   (the same for every attempt and every subscription, so a receiver can drop
   duplicates), ``webhook-timestamp`` the attempt's time from the store clock.
   Any 2xx answer is success; anything else, a timeout or a refused
   connection is a failure.
3. **Record** every attempt of the batch and its outcome in one short
   transaction: a success ends the delivery; a failure schedules the next attempt
   (:mod:`adjudicator.webhooks.retry`) or, past 24 h after the event, marks
   the delivery failed.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, select, update
from standardwebhooks import Webhook

from adjudicator.db.store import Store
from adjudicator.webhooks.models import (
    ERROR_MAX,
    OutboxRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from adjudicator.webhooks.retry import next_retry
from adjudicator.webhooks.sealing import SealError, bound_to, unseal

log = logging.getLogger("adjudicator.webhooks")
LEASE = timedelta(minutes=5)
DELIVERY_BATCH = 32
CONCURRENCY = 8
USER_AGENT = "adjudicator-webhooks/1"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a receiver: to connect, for each read and each write."""

    connect: float = 3.0
    read: float = 10.0
    write: float = 10.0

    def for_httpx(self) -> httpx.Timeout:
        """The same as an ``httpx.Timeout`` (the pool wait is the connect timeout)."""
        return httpx.Timeout(
            connect=self.connect, read=self.read, write=self.write, pool=self.connect
        )


@dataclass(frozen=True, slots=True)
class _Due:
    delivery_id: int
    attempts: int
    expires_at: datetime
    event_id: str
    event_type: str
    subscription_id: str
    url: str
    events: list[str]
    secret_sealed: str
    created_at: datetime
    claim: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Outcome:
    due: _Due
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


def event_body(
    event_id: str, event_type: str, created: datetime, claim: Mapping[str, Any]
) -> bytes:
    """The JSON body of a webhook: ``{"id", "type", "created", "claim"}``."""
    stamp = created.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"id": event_id, "type": event_type, "created": stamp, "claim": claim})


def signed_headers(secret: str, event_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` sent at ``at`` (and the content type)."""
    signature = Webhook(secret).sign(event_id, at.astimezone(UTC), body.decode())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def _take(store: Store, batch: int) -> list[_Due]:
    now = store.clock()
    deliveries = WebhookDeliveryRow
    subscriptions = WebhookSubscriptionRow
    query = (
        select(
            deliveries.id,
            deliveries.attempts,
            deliveries.expires_at,
            deliveries.event_id,
            deliveries.event_type,
            deliveries.subscription_id,
            subscriptions.url,
            subscriptions.events,
            subscriptions.secret_sealed,
            OutboxRow.created_at,
            OutboxRow.payload,
        )
        .join(subscriptions, subscriptions.id == deliveries.subscription_id)
        .join(OutboxRow, OutboxRow.id == deliveries.outbox_id)
        .where(
            deliveries.status == "pending",
            deliveries.next_attempt_at <= now,
            subscriptions.deleted_at.is_(None),
        )
        .order_by(deliveries.next_attempt_at, deliveries.id)
        .limit(batch)
    )
    with store.db.read() as session:  # idle polls take no write lock (SQLite has one for all)
        if session.execute(query.limit(1)).first() is None:
            return []
    with store.db.write() as session:
        taken = session.execute(query.with_for_update(skip_locked=True, of=deliveries))
        due = [_Due(*row) for row in taken.all()]
        if due:
            session.execute(
                update(deliveries)
                .where(deliveries.id.in_([d.delivery_id for d in due]))
                .values(next_attempt_at=now + LEASE)
            )
    return due


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    described = type(error).__name__ + (f": {text}" if text else "")
    return described[:ERROR_MAX]


def _send(store: Store, client: httpx.Client, due: _Due) -> _Outcome:
    at = store.clock()
    started = time.monotonic()

    def outcome(status_code: int | None, error: str | None) -> _Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return _Outcome(due, at, status_code, error, elapsed)

    try:
        bound = bound_to(due.subscription_id, due.url, due.events)
        secret = unseal(store.key_secret, bound, due.secret_sealed)
    except SealError as exc:
        return outcome(None, _describe(exc))
    body = event_body(due.event_id, due.event_type, due.created_at, due.claim)
    headers = signed_headers(secret, due.event_id, at, body)
    try:
        with client.stream("POST", due.url, content=body, headers=headers) as response:
            status = response.status_code
    except Exception as exc:  # one receiver's failure, whatever it is, is that attempt's result
        return outcome(None, _describe(exc))
    return outcome(status, None if 200 <= status < 300 else f"HTTP {status}")


def _record(store: Store, results: Sequence[_Outcome], rng: random.Random) -> None:
    now = store.clock()
    with store.db.write() as session:
        for result in results:
            due = result.due
            number = due.attempts + 1
            retry_at = None if result.delivered else next_retry(now, number, due.expires_at, rng)
            if result.delivered:
                state = {"status": "delivered", "next_attempt_at": None, "finished_at": now}
            elif retry_at is None:
                state = {"status": "failed", "next_attempt_at": None, "finished_at": now}
                log.warning(
                    "webhook delivery %s failed for good after %d attempts (%s)",
                    due.delivery_id,
                    number,
                    result.error,
                    extra={"delivery_id": due.delivery_id, "webhook_id": due.subscription_id},
                )
            else:
                state = {"status": "pending", "next_attempt_at": retry_at, "finished_at": None}
            recorded = {
                "attempts": number,
                "last_status_code": result.status_code,
                "last_error": result.error,
            }
            this = WebhookDeliveryRow.id == due.delivery_id
            session.execute(update(WebhookDeliveryRow).where(this).values(**recorded))
            session.execute(  # cancelled meanwhile (subscription deleted): stays cancelled
                update(WebhookDeliveryRow)
                .where(this, WebhookDeliveryRow.status == "pending")
                .values(**state)
            )
            session.execute(
                insert(WebhookAttemptRow),
                {
                    "delivery_id": due.delivery_id,
                    "number": number,
                    "at": result.at,
                    "status_code": result.status_code,
                    "error": result.error,
                    "duration_ms": result.duration_ms,
                    "next_retry_at": retry_at,
                },
            )


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """The TLS context of every client (loading the CA bundle once per process, not per batch)."""
    return httpx.create_ssl_context()


def _send_all(store: Store, due: Sequence[_Due], timeouts: Timeouts) -> list[_Outcome]:
    # One client (its TLS context and connection pool) for the batch; httpx clients are
    # thread-safe. Redirects are not followed: a 3xx is a failed attempt.
    with httpx.Client(
        timeout=timeouts.for_httpx(), follow_redirects=False, verify=_tls()
    ) as client:
        if len(due) == 1:
            return [_send(store, client, due[0])]
        with ThreadPoolExecutor(max_workers=min(len(due), CONCURRENCY)) as pool:
            return list(pool.map(lambda d: _send(store, client, d), due))


def deliver_due(
    store: Store,
    *,
    batch: int = DELIVERY_BATCH,
    timeouts: Timeouts | None = None,
    rng: random.Random | None = None,
) -> int:
    """Attempt one batch of due deliveries; return how many attempts were made."""
    due = _take(store, batch)
    if not due:
        return 0
    results = _send_all(store, due, timeouts or Timeouts())
    _record(store, results, rng or random.Random())
    return len(results)
