"""The claim event types, one list for both sides of the outbox.

The claim lifecycle writes an outbox row of one of these types for every
claim event; webhook subscriptions name the types they want, or ``*`` for all.
``claim.noted`` is an internal note of staff: it is recorded like any event but
never delivered, and no subscription may ask for it.

This module is pure data and small functions (no I/O), so the lifecycle can
import it freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CLAIM_EVENTS: tuple[str, ...] = (
    "claim.opened",
    "claim.responded",
    "claim.accepted",
    "claim.rejected",
    "claim.escalated",
    "claim.withdrawn",
    "claim.evidence_submitted",
    "claim.evidence_requested",
    "claim.assigned",
    "claim.noted",
    "claim.proposed",
    "claim.approved",
    "claim.declined",
    "claim.determined",
    "claim.settled",
    "claim.refund_initiated",
    "claim.refund_completed",
    "claim.evidence_lapsed",
)
INTERNAL_EVENTS: frozenset[str] = frozenset({"claim.noted"})
DELIVERABLE_EVENTS: tuple[str, ...] = tuple(e for e in CLAIM_EVENTS if e not in INTERNAL_EVENTS)
ALL = "*"


def selection_errors(events: Sequence[str]) -> list[str]:
    """What is wrong with a subscription's ``events`` (an empty list when nothing is)."""
    errors: list[str] = []
    if not events:
        errors.append(f"Name at least one event type, or {ALL!r} for all of them.")
    for name in dict.fromkeys(events):
        if name == ALL:
            continue
        if name in INTERNAL_EVENTS:
            errors.append(f"{name!r} is internal and never delivered.")
        elif name not in CLAIM_EVENTS:
            errors.append(f"Unknown event type {name!r}; known: {', '.join(DELIVERABLE_EVENTS)}.")
    return errors


def normalise_selection(events: Iterable[str]) -> list[str]:
    """A valid selection in its stored form: ``["*"]``, or the types without repeats."""
    chosen = list(dict.fromkeys(events))
    return [ALL] if ALL in chosen else chosen


def wanted(selection: Sequence[str], event_type: str) -> bool:
    """Whether a subscription with ``selection`` gets events of ``event_type``."""
    if event_type not in DELIVERABLE_EVENTS:
        return False
    return ALL in selection or event_type in selection
