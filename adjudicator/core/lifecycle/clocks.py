"""The clocks of a claim, computed from its events (never set by hand).

A clock is ``{"name", "due", "state"}`` with the state

- ``met``: the duty was done (or the gate opened) by its due time;
- ``missed``: the due time passed first (also when the duty was done late);
- ``cancelled``: the duty stopped applying before its due time (the claim
  moved on without it, e.g. it was escalated before the supplier answered);
- ``pending``: none of these yet.

A *duty* clock that is neither met nor cancelled is *outstanding*; the
earliest outstanding due time is the claim's ``next_due`` (what the list sorts
on): ``overdue`` when it has passed, ``at_risk`` when it falls within 24 h.
The timer the worker acts on (auto-escalation, evidence lapse) is
:func:`timer_due`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adjudicator.core.dates import rfc3339
from adjudicator.core.lifecycle.state import NEGOTIATION, PLATFORM_REVIEW, ClaimState, parse_time
from adjudicator.core.lifecycle.steps import REFUND_INITIATION_BUSINESS_DAYS, add_business_time
from adjudicator.core.lifecycle.table import auto_escalation_at, escalation_allowed_from

STAFF_BUSINESS_DAYS = 2
AT_RISK = timedelta(hours=24)
_CLOSED_OR_AFTER = ("refund_pending", "refund_initiated", "settled", "determined", "refunded",
                    "withdrawn", "cancelled")  # fmt: skip


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What the clocks read of one stored event."""

    action: str
    at: datetime
    party: str
    from_status: str
    to_status: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Clock:
    """One clock: its due time and state, and whether it is a duty still outstanding."""

    name: str
    due: datetime
    state: str
    duty: bool
    outstanding: bool

    def to_dict(self) -> dict[str, Any]:
        """The wire form ``{"name", "due", "state"}``."""
        return {"name": self.name, "due": rfc3339(self.due), "state": self.state}


def _clock(
    name: str, due: datetime, met: datetime | None, cancelled: datetime | None,
    now: datetime, *, duty: bool = True,
) -> Clock:  # fmt: skip
    if met is not None:
        state = "met" if met <= due else "missed"
    elif cancelled is not None:
        state = "cancelled" if cancelled <= due else "missed"
    else:
        state = "missed" if now > due else "pending"
    return Clock(name, due, state, duty, duty and met is None and cancelled is None)


def _first(events: Sequence[EventRecord], test: Any) -> datetime | None:
    return next((e.at for e in events if test(e)), None)


def _left_negotiation(e: EventRecord) -> bool:
    return e.from_status in NEGOTIATION and e.to_status not in NEGOTIATION


def _closes(e: EventRecord) -> bool:
    return e.to_status in _CLOSED_OR_AFTER and e.from_status not in _CLOSED_OR_AFTER


def _ends_request(e: EventRecord) -> bool:
    quiet = ("submit_evidence", "lapse_evidence", "note")
    return e.from_status == "awaiting_evidence" and e.action not in quiet


def compute_clocks(state: ClaimState, events: Sequence[EventRecord], now: datetime) -> list[Clock]:
    """Every clock that applies to the claim so far, in lifecycle.md's order."""
    clocks: list[Clock] = []
    opens = escalation_allowed_from(state)
    responded = _first(events, lambda e: e.action == "respond")
    left = _first(events, _left_negotiation)
    clocks.append(_clock("supplier_response_due", opens, responded, left, now))
    gate_met = opens if now >= opens and (left is None or left >= opens) else None
    clocks.append(_clock("escalation_allowed_from", opens, gate_met, left, now, duty=False))
    auto = _first(events, lambda e: e.action == "auto_escalate")
    if auto is not None:  # the timer fires at its time, or as soon as a worker runs after it
        auto = min(auto, auto_escalation_at(state))
    clocks.append(_clock("auto_escalation_at", auto_escalation_at(state), auto,
                         left if auto is None else None, now, duty=False))  # fmt: skip

    escalated = next((e for e in events if e.action in ("escalate", "auto_escalate")), None)
    if escalated is not None:
        after = list(events[events.index(escalated) + 1 :])
        staff = _first(after, lambda e: e.party == "staff")
        closed = _first(after, _closes)
        due = add_business_time(escalated.at, STAFF_BUSINESS_DAYS)
        clocks.append(_clock("staff_first_response_due", due, staff, closed, now))

    received = [
        e for e in events if e.action == "submit_evidence" and e.from_status in PLATFORM_REVIEW
    ]
    if received:
        last = received[-1]
        after = list(events[events.index(last) + 1 :])
        staff = _first(after, lambda e: e.party == "staff")
        closed = _first(after, _closes)
        due = add_business_time(last.at, STAFF_BUSINESS_DAYS)
        clocks.append(_clock("staff_review_due", due, staff, closed, now))

    requests = [e for e in events if e.action == "request_evidence"]
    if requests:
        last = requests[-1]
        party = last.data.get("party")
        after = list(events[events.index(last) + 1 :])
        met = _first(after, lambda e: e.action == "submit_evidence" and e.party == party)
        ended = _first(after, _ends_request)
        lapsed = _first(after, lambda e: e.action == "lapse_evidence")
        due = parse_time(str(last.data["due"]))
        clock = _clock("evidence_due", due, met, ended, now)
        if lapsed is not None and met is None and ended is None:
            clock = Clock(clock.name, due, "missed", True, False)  # the timer acted on it
        clocks.append(clock)

    refund = next((e for e in events if e.to_status == "refund_pending"), None)
    if refund is not None:
        initiated = _first(events, lambda e: e.action == "refund_initiated")
        due = add_business_time(refund.at, REFUND_INITIATION_BUSINESS_DAYS)
        clocks.append(_clock("refund_initiation_due", due, initiated, None, now))
    return clocks


def next_due(clocks: Sequence[Clock]) -> datetime | None:
    """The earliest due time of an outstanding duty, or ``None``."""
    dues = [c.due for c in clocks if c.outstanding]
    return min(dues) if dues else None


def overdue(due: datetime | None, now: datetime) -> bool:
    """A duty's due time has passed and it is still outstanding."""
    return due is not None and due < now


def at_risk(due: datetime | None, now: datetime) -> bool:
    """A duty falls due within the next 24 h."""
    return due is not None and now <= due < now + AT_RISK


def timer_due(state: ClaimState) -> datetime | None:
    """When the worker must next act on the claim: auto-escalation or an evidence lapse."""
    if state.status in NEGOTIATION:
        return auto_escalation_at(state)
    if state.status == "awaiting_evidence" and state.evidence_request is not None:
        return parse_time(str(state.evidence_request["due"]))
    return None


def snapshot(clocks: Sequence[Clock]) -> list[dict[str, Any]]:
    """The clocks as computed at an event, to be brought up to a later moment by :func:`as_of`."""
    return [{**c.to_dict(), "duty": c.duty, "outstanding": c.outstanding} for c in clocks]


def as_of(stored: Sequence[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The wire clocks of a :func:`snapshot` at ``now``: a pending clock whose time came is
    missed (a duty, a late timer) or met (the escalation gate). Nothing else changes
    between events."""
    found: list[dict[str, Any]] = []
    for clock in stored:
        state = clock["state"]
        if state == "pending" and now >= parse_time(str(clock["due"])):
            if clock["name"] == "escalation_allowed_from":
                state = "met"
            elif now > parse_time(str(clock["due"])):
                state = "missed"
        found.append({"name": clock["name"], "due": clock["due"], "state": state})
    return found
