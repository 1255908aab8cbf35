"""Webhook subscriptions: create (the secret shown once), list, delete; the delivery log.

Creating and deleting a subscription are audit-chain entries
(``webhook.created``, ``webhook.deleted``) written in the same transaction as
the change. Deleting keeps the row (marked deleted, so its deliveries and
audit entries still point somewhere) and cancels what was still pending for
it: a deleted subscription is sent nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from adjudicator.audit import chain
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.pagination import (
    Page,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from adjudicator.db.store import Store
from adjudicator.webhooks.events import normalise_selection, selection_errors
from adjudicator.webhooks.models import (
    DESCRIPTION_MAX,
    URL_MAX,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from adjudicator.webhooks.sealing import bound_to, new_secret, seal

SCHEMES = ("http", "https")
DELIVERY_STATES = ("pending", "delivered", "failed", "cancelled")


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Subscription:
    """What may be shown of a subscription: never its secret."""

    webhook_id: str
    url: str
    events: list[str]
    description: str
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "webhook_id": self.webhook_id,
            "url": self.url,
            "events": list(self.events),
            "description": self.description,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt of a delivery."""

    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    next_retry_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "number": self.number,
            "at": _iso(self.at),
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "next_retry_at": _iso(self.next_retry_at),
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event owed to one subscription, and every attempt made at it so far."""

    delivery_id: int
    event_id: str
    event_type: str
    status: str
    created_at: datetime
    next_attempt_at: datetime | None
    expires_at: datetime
    finished_at: datetime | None
    attempts: list[Attempt] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "delivery_id": self.delivery_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "next_attempt_at": _iso(self.next_attempt_at),
            "expires_at": _iso(self.expires_at),
            "finished_at": _iso(self.finished_at),
            "attempts": [a.to_dict() for a in self.attempts],
        }


def _subscription(row: WebhookSubscriptionRow) -> Subscription:
    return Subscription(
        row.id, row.url, list(row.events), row.description, row.created_at, row.created_by
    )


def url_errors(url: str) -> list[str]:
    """What is wrong with an endpoint URL: only absolute http(s) URLs with a host."""
    if not url or len(url) > URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
        return [f"Must be an http or https URL of at most {URL_MAX} characters, without spaces."]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ["Not a valid URL."]
    if parts.scheme.lower() not in SCHEMES:
        return ["Only http and https URLs are accepted."]
    if not parts.hostname:
        return ["The URL must name a host."]
    if parts.username is not None or parts.password is not None:
        return ["Credentials do not belong in the URL (they would be stored in clear)."]
    if parts.fragment:
        return ["The URL must not have a fragment."]
    if port == 0:
        return ["Port 0 is not a valid port."]
    return []


def create_subscription(
    store: Store,
    *,
    url: str,
    events: Sequence[str],
    description: str = "",
    actor: Actor,
    request_id: str | None = None,
) -> tuple[Subscription, str]:
    """Subscribe ``url`` to ``events``; return the subscription and its secret (shown once)."""
    errors: dict[str, list[str]] = {}
    if found := url_errors(url):
        errors["url"] = found
    if found := selection_errors(events):
        errors["events"] = found
    if len(description) > DESCRIPTION_MAX or "\x00" in description:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters, no NUL."]
    if errors:
        raise InvalidRequest("invalid subscription", errors)
    webhook_id = str(uuid.uuid4())
    secret = new_secret()
    now = store.clock()
    selection = normalise_selection(events)
    row = WebhookSubscriptionRow(
        id=webhook_id,
        url=url,
        events=selection,
        description=description,
        secret_sealed=seal(store.key_secret, bound_to(webhook_id, url, selection), secret),
        created_at=now,
        created_by=actor.name,
        deleted_at=None,
    )
    with store.db.write() as session:
        head = chain.lock_head(session)
        session.add(row)
        chain.append(
            session,
            head,
            at=now,
            actor=actor,
            action="webhook.created",
            subject=webhook_id,
            request_id=request_id,
            payload={
                "webhook_id": webhook_id,
                "url": url,
                "events": selection,
                "description": description,
            },
        )
    return _subscription(row), secret


def list_subscriptions(store: Store) -> list[Subscription]:
    """Every subscription not deleted, oldest first."""
    query = (
        select(WebhookSubscriptionRow)
        .where(WebhookSubscriptionRow.deleted_at.is_(None))
        .order_by(WebhookSubscriptionRow.created_at, WebhookSubscriptionRow.id)
    )
    with store.db.read() as session:
        return [_subscription(row) for row in session.execute(query).scalars()]


def get_subscription(store: Store, webhook_id: str) -> Subscription:
    """One subscription not deleted, or :class:`NotFound`."""
    with store.db.read() as session:
        row = session.get(WebhookSubscriptionRow, webhook_id)
        if row is None or row.deleted_at is not None:
            raise NotFound("webhook", webhook_id)
        return _subscription(row)


def delete_subscription(
    store: Store, webhook_id: str, *, actor: Actor, request_id: str | None = None
) -> None:
    """Delete a subscription and cancel its pending deliveries; :class:`NotFound` if gone."""
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        row = session.get(WebhookSubscriptionRow, webhook_id, with_for_update=True)
        if row is None or row.deleted_at is not None:
            raise NotFound("webhook", webhook_id)
        row.deleted_at = now
        session.execute(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.subscription_id == webhook_id,
                WebhookDeliveryRow.status == "pending",
            )
            .values(status="cancelled", next_attempt_at=None, finished_at=now)
        )
        chain.append(
            session,
            head,
            at=now,
            actor=actor,
            action="webhook.deleted",
            subject=webhook_id,
            request_id=request_id,
            payload={"webhook_id": webhook_id, "url": row.url},
        )


def list_deliveries(
    store: Store,
    webhook_id: str,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Delivery]:
    """A subscription's delivery log, newest first, each delivery with all its attempts."""
    limit = clamp_limit(limit)
    query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.subscription_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDeliveryRow.status == status)
    if cursor is not None:
        (before,) = decode_cursor(cursor, ["id"])
        if not isinstance(before, int):
            raise invalid_cursor()
        query = query.where(WebhookDeliveryRow.id < before)
    query = query.order_by(WebhookDeliveryRow.id.desc()).limit(limit + 1)
    with store.db.read() as session:
        subscription = session.get(WebhookSubscriptionRow, webhook_id)
        if subscription is None or subscription.deleted_at is not None:
            raise NotFound("webhook", webhook_id)
        rows = list(session.execute(query).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        attempts: dict[int, list[Attempt]] = {row.id: [] for row in rows}
        if rows:
            found = session.execute(
                select(WebhookAttemptRow)
                .where(WebhookAttemptRow.delivery_id.in_(list(attempts)))
                .order_by(WebhookAttemptRow.delivery_id, WebhookAttemptRow.number)
            ).scalars()
            for a in found:
                attempts[a.delivery_id].append(
                    Attempt(a.number, a.at, a.status_code, a.error, a.duration_ms, a.next_retry_at)
                )
    items = [
        Delivery(
            row.id,
            row.event_id,
            row.event_type,
            row.status,
            row.created_at,
            row.next_attempt_at,
            row.expires_at,
            row.finished_at,
            attempts[row.id],
        )
        for row in rows
    ]
    next_cursor = encode_cursor({"id": rows[-1].id}) if more else None
    return Page(items, next_cursor)
