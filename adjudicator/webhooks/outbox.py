"""The outbox: claim events to announce, written in the event's own transaction.

:func:`enqueue` is called by whoever records a claim event, inside the write
transaction that records it, so an event is announced if and only if it
happened. The webhook dispatcher (the worker) reads what is not yet dispatched.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from adjudicator.webhooks.models import OutboxRow


def enqueue(
    session: Session,
    *,
    type: str,
    claim_ref: str,
    at: datetime,
    claim: Mapping[str, Any],
    event_id: str | None = None,
) -> str:
    """Add one event (``claim.escalated``...) with the claim as it is now; return its id."""
    event_id = event_id or str(uuid.uuid4())
    session.execute(
        insert(OutboxRow),
        {
            "event_id": event_id,
            "type": type,
            "claim_ref": claim_ref,
            "created_at": at,
            "payload": dict(claim),
            "dispatched_at": None,
        },
    )
    return event_id
