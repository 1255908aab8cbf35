"""The dispatcher job: fan undispatched outbox rows out to per-subscription deliveries.

``dispatch_outbox(store)`` takes up to a batch of outbox rows in ``id``
order that are not dispatched yet, and in the same transaction writes one
pending delivery for every live subscription that wants the event's type
(never for ``claim.noted``), then marks the rows dispatched. A subscription
made while an event still waited in the outbox gets it too. On PostgreSQL the rows are taken with
``FOR UPDATE SKIP LOCKED``, so dispatchers running side by side share the
backlog and fan each row out once; on SQLite the write transaction
(``BEGIN IMMEDIATE``) already serialises them. The unique
``(subscription_id, event_id)`` makes a double fan-out impossible either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from adjudicator.db.store import Store
from adjudicator.webhooks.events import wanted
from adjudicator.webhooks.models import OutboxRow, WebhookDeliveryRow, WebhookSubscriptionRow
from adjudicator.webhooks.retry import MAX_AGE

DISPATCH_BATCH = 200


def dispatch_outbox(store: Store, *, batch: int = DISPATCH_BATCH) -> int:
    """Fan out one batch of the outbox; return how many outbox rows it dispatched."""
    now = store.clock()
    events = (
        select(OutboxRow.id, OutboxRow.event_id, OutboxRow.type, OutboxRow.created_at)
        .where(OutboxRow.dispatched_at.is_(None))
        .order_by(OutboxRow.id)
        .limit(batch)
    )
    # FOR SHARE on PostgreSQL: a subscription being deleted right now is waited for
    # (then skipped), and its deletion waits for this fan-out before cancelling what is pending.
    live = (
        select(WebhookSubscriptionRow.id, WebhookSubscriptionRow.events)
        .where(WebhookSubscriptionRow.deleted_at.is_(None))
        .with_for_update(read=True)
    )
    with store.db.read() as session:  # idle polls take no write lock (SQLite has one for all)
        if session.execute(events.limit(1)).first() is None:
            return 0
    with store.db.write() as session:
        rows = session.execute(events.with_for_update(skip_locked=True)).all()
        if not rows:
            return 0
        subscriptions = session.execute(live).all()
        deliveries: list[dict[str, Any]] = [
            {
                "subscription_id": sub.id,
                "outbox_id": row.id,
                "event_id": row.event_id,
                "event_type": row.type,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "expires_at": row.created_at + MAX_AGE,
                "created_at": now,
                "finished_at": None,
                "last_status_code": None,
                "last_error": None,
            }
            for row in rows
            for sub in subscriptions
            if wanted(sub.events, row.type)
        ]
        if deliveries:
            session.execute(insert(WebhookDeliveryRow), deliveries)
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([row.id for row in rows]))
            .values(dispatched_at=now)
        )
    return len(rows)
