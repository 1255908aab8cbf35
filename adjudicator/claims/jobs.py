"""The claim timers the worker runs: auto-escalation and lapsed evidence requests.

Each job takes what is due now, one claim per transaction: the claim row is
locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL), so several
workers on one database share the due claims and each is acted on exactly
once; the lifecycle table checks the move again under the lock, and the event
is stored like any other (audit entry with actor ``timer``, outbox row).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from adjudicator.claims.models import ClaimRow
from adjudicator.claims.writes import Event, record_event
from adjudicator.core.lifecycle import NEGOTIATION, Acting, ClaimState, LifecycleError, advance
from adjudicator.core.lifecycle.clocks import timer_due
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store

TIMER = Actor(key_id=None, name="timer", role="system")
log = logging.getLogger("adjudicator.worker")


def _run_due(store: Store, action: str, statuses: tuple[str, ...], limit: int | None) -> int:
    done = 0
    while limit is None or done < limit:
        now = store.clock()
        with store.db.write() as session:
            query = (
                select(ClaimRow)
                .where(ClaimRow.status.in_(statuses), ClaimRow.timer_due <= now)
                .order_by(ClaimRow.timer_due, ClaimRow.ref)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = session.execute(query).scalar_one_or_none()
            if row is None:
                return done
            state = ClaimState.from_json(row.state)
            try:
                transition, following = advance(state, action, Acting("timer", None, now), {})
            except LifecycleError:  # not due after all (a stale timer column): fix it, go on
                log.warning("claim %s: %s is not due; timer reset", row.ref, action)
                fresh = timer_due(state)
                row.timer_due = fresh if fresh is not None and fresh > now else None
                continue
            event = Event(transition.event, action, "timer", state.status, following, {})
            record_event(session, row, event, now=now, actor=TIMER, request_id=None)
        done += 1
    return done


def auto_escalate(store: Store, limit: int | None = None) -> int:
    """Escalate every claim still in negotiation at its auto_escalation_at; return how many."""
    return _run_due(store, "auto_escalate", NEGOTIATION, limit)


def lapse_evidence(store: Store, limit: int | None = None) -> int:
    """Act on every evidence request past its due time; return how many."""
    return _run_due(store, "lapse_evidence", ("awaiting_evidence",), limit)
