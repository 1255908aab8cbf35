"""Job ``prune_webhook_log``: the delivery log and the outbox do not grow for ever.

A delivery that finished (delivered, failed after its 24 h of retries, or
cancelled with its subscription) more than ``ADJUDICATOR_WEBHOOK_RETENTION_DAYS``
ago (default 30) is deleted with its attempts; then every outbox row
dispatched before the same cutoff that no delivery refers to any more. A
pending delivery and an undispatched event are never touched, whatever
their age. The claim's own events (``claim_events``) and the audit chain are
the record; the outbox and the delivery log are transport.

It runs at most once an hour per process and deletes at most ``BATCH``
deliveries (or outbox rows) per transaction, so a large backlog goes in
short steps.
"""

from __future__ import annotations

import weakref
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select

from adjudicator.db.database import Database
from adjudicator.db.store import Store
from adjudicator.webhooks.models import OutboxRow, WebhookAttemptRow, WebhookDeliveryRow

BATCH = 1000
EVERY = timedelta(hours=1)
FINISHED = ("delivered", "failed", "cancelled")

_last_run: weakref.WeakKeyDictionary[Database, datetime] = weakref.WeakKeyDictionary()


def prune_webhook_log(store: Store, retention_days: int = 30) -> int:
    """Delete what the retention lets go; return how many deliveries and outbox rows.

    ``retention_days`` is the worker's ``ADJUDICATOR_WEBHOOK_RETENTION_DAYS``
    (validated when the worker starts). A call within an hour of the last one in this
    process does nothing.
    """
    now = store.clock()
    last = _last_run.get(store.db)
    if last is not None and now - last < EVERY:
        return 0
    _last_run[store.db] = now
    cutoff = now - timedelta(days=retention_days)
    removed = 0
    done = select(WebhookDeliveryRow.id).where(
        WebhookDeliveryRow.status.in_(FINISHED), WebhookDeliveryRow.finished_at < cutoff
    )
    while True:
        with store.db.write() as session:
            ids = session.execute(done.limit(BATCH)).scalars().all()
            if ids:
                session.execute(
                    delete(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id.in_(ids))
                )
                session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.id.in_(ids)))
        removed += len(ids)
        if len(ids) < BATCH:
            break
    owed = exists().where(WebhookDeliveryRow.outbox_id == OutboxRow.id)
    spent = select(OutboxRow.id).where(OutboxRow.dispatched_at < cutoff, ~owed)
    while True:
        with store.db.write() as session:
            ids = session.execute(spent.limit(BATCH)).scalars().all()
            if ids:
                session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids)))
        removed += len(ids)
        if len(ids) < BATCH:
            return removed
