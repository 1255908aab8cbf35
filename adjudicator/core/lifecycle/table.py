"""The claim lifecycle as one table: (state, action) -> next states, who may act, guards.

Every row says: from these statuses, these parties may take this action,
when these guards agree, and the claim moves to one of these statuses (which
one follows from the action's body: an accepted refund offer opens the refund
stage, an accepted replacement closes the claim). The same rows answer
"may this party do this now?" (:mod:`.machine`), the ``available_actions`` a
claim shows, and the test that walks every (status, action) pair.

Guards are small named predicates over the state and the moment of acting;
each returns ``None`` when it agrees, else a :class:`Refusal` saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from adjudicator.core.dates import rfc3339
from adjudicator.core.lifecycle.state import (
    NEGOTIATION,
    OPEN,
    REFUND,
    STATUSES,
    ClaimState,
    parse_time,
)

SUPPLIER_RESPONSE_HOURS = 72  # TIME-01: supplier_response_due, escalation_allowed_from
AUTO_ESCALATION_HOURS = 168  # TIME-01: auto_escalation_at


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts and when: the party, the acting identity (an API key id or ``user:<id>``).

    ``person`` is the console user behind the identity (``user:<id>``; ``None``
    for an API key bound to nobody): four eyes on money compares persons.
    """

    party: str
    actor_id: str | None
    now: datetime
    person: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a guard says no: ``not-yet``/``not-now``/``stale`` (409) or ``forbidden`` (403)."""

    kind: Literal["not-yet", "not-now", "forbidden", "stale"]
    reason: str


Guard = Callable[[ClaimState, Acting], Refusal | None]


def escalation_open(state: ClaimState, acting: Acting) -> Refusal | None:
    """The buyer may escalate from escalation_allowed_from, or at once after a refusal."""
    if state.offer is not None and state.offer.get("kind") == "reject":
        return None
    opens = escalation_allowed_from(state)
    if acting.now >= opens:
        return None
    return Refusal("not-yet", f"Escalation is allowed from {rfc3339(opens)}.")


def auto_escalation_due(state: ClaimState, acting: Acting) -> Refusal | None:
    """The auto-escalation timer fires at auto_escalation_at."""
    due = auto_escalation_at(state)
    if acting.now >= due:
        return None
    return Refusal("not-yet", f"Auto-escalation is due at {rfc3339(due)}.")


def evidence_overdue(state: ClaimState, acting: Acting) -> Refusal | None:
    """Requested evidence lapses at its due time."""
    request = state.evidence_request
    if request is None:
        return Refusal("not-now", "No evidence is requested.")
    due = parse_time(str(request["due"]))
    if acting.now >= due:
        return None
    return Refusal("not-yet", f"The evidence is due at {rfc3339(due)}.")


BIND_KEY = (
    "Money acts need a person: this API key is bound to no console user. Create a bound key "
    "(adjudicator keys create --role staff --name NAME --user USERNAME) and revoke this one."
)


def a_person(state: ClaimState, acting: Acting) -> Refusal | None:
    """Proposals and approvals are made by a person (a console user, or a key bound to one)."""
    if acting.person is not None:
        return None
    return Refusal("forbidden", BIND_KEY)


def not_the_proposer(state: ClaimState, acting: Acting) -> Refusal | None:
    """Four eyes: a proposal is approved or declined by another person (not another key)."""
    proposal = state.proposal
    if proposal is not None and acting.person is not None and proposal["by"] != acting.person:
        return None
    return Refusal("forbidden", "The proposer may not approve or decline their own proposal.")


def proposal_current(state: ClaimState, acting: Acting) -> Refusal | None:
    """A proposal is approved only on the case revision it was made on."""
    proposal = state.proposal
    if proposal is not None and proposal["revision"] == state.revision:
        return None
    made_on = proposal["revision"] if proposal is not None else "?"
    reason = f"The proposal was made on revision {made_on}; the case is at {state.revision}."
    return Refusal("stale", reason)


def escalation_allowed_from(state: ClaimState) -> datetime:
    """filed_at + 72 h (TIME-01)."""
    return parse_time(state.filed_at) + timedelta(hours=SUPPLIER_RESPONSE_HOURS)


def auto_escalation_at(state: ClaimState) -> datetime:
    """filed_at + 168 h (TIME-01)."""
    return parse_time(state.filed_at) + timedelta(hours=AUTO_ESCALATION_HOURS)


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: ``action`` by one of ``parties`` from one of ``sources`` to one of ``targets``."""

    action: str
    sources: tuple[str, ...]
    parties: tuple[str, ...]
    targets: tuple[str, ...]
    event: str
    guards: tuple[Guard, ...] = ()


PARTIES_ONLY = ("buyer", "supplier")
NOT_CLOSED = OPEN + REFUND

TABLE: tuple[Transition, ...] = (
    Transition("respond", ("awaiting_supplier",), ("supplier",), ("awaiting_buyer",),
               "claim.responded"),
    Transition("accept", ("awaiting_buyer",), ("buyer",), ("settled", "refund_pending"),
               "claim.accepted"),
    Transition("reject", ("awaiting_buyer",), ("buyer",), ("awaiting_supplier",),
               "claim.rejected"),
    Transition("escalate", NEGOTIATION, ("buyer",), ("awaiting_staff",), "claim.escalated",
               (escalation_open,)),
    Transition("auto_escalate", NEGOTIATION, ("timer",), ("awaiting_staff",),
               "claim.escalated", (auto_escalation_due,)),
    Transition("withdraw", OPEN, ("buyer",), ("withdrawn",), "claim.withdrawn"),
    Transition("submit_evidence", NEGOTIATION, PARTIES_ONLY, NEGOTIATION,
               "claim.evidence_submitted"),
    Transition("submit_evidence", ("awaiting_staff", "pending_approval"), PARTIES_ONLY,
               ("awaiting_staff",), "claim.evidence_submitted"),
    Transition("submit_evidence", ("awaiting_evidence",), PARTIES_ONLY,
               ("awaiting_staff", "awaiting_evidence"), "claim.evidence_submitted"),
    Transition("request_evidence", ("awaiting_staff", "awaiting_evidence"), ("staff",),
               ("awaiting_evidence",), "claim.evidence_requested"),
    Transition("lapse_evidence", ("awaiting_evidence",), ("timer",),
               ("cancelled", "awaiting_staff"), "claim.evidence_lapsed", (evidence_overdue,)),
    Transition("assign", NOT_CLOSED, ("staff",), NOT_CLOSED, "claim.assigned"),
    Transition("note", STATUSES, ("staff",), STATUSES, "claim.noted"),
    Transition("propose", ("awaiting_staff",), ("staff",),
               ("pending_approval", "refund_pending", "determined"), "claim.proposed",
               (a_person,)),
    Transition("settle", OPEN, ("staff",), ("pending_approval",), "claim.proposed",
               (a_person,)),
    Transition("approve", ("pending_approval",), ("staff",),
               ("refund_pending", "determined", "settled"), "claim.approved",
               (a_person, not_the_proposer, proposal_current)),
    Transition("decline", ("pending_approval",), ("staff",), ("awaiting_staff",),
               "claim.declined", (a_person, not_the_proposer)),
    Transition("refund_initiated", ("refund_pending",), ("staff", "system"),
               ("refund_initiated",), "claim.refund_initiated"),
    Transition("refund_completed", ("refund_initiated",), ("staff", "system"), ("refunded",),
               "claim.refund_completed"),
)  # fmt: skip

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(row.action for row in TABLE))
TIMER_ACTIONS = ("auto_escalate", "lapse_evidence")
API_ACTIONS = tuple(a for a in ACTIONS if a not in TIMER_ACTIONS)
EVENT_TYPES: tuple[str, ...] = ("claim.opened", "claim.determined", "claim.settled") + tuple(
    dict.fromkeys(row.event for row in TABLE)
)


def rows(status: str, action: str | None = None) -> list[Transition]:
    """The rows leaving ``status`` (for ``action`` when given)."""
    return [
        row for row in TABLE if status in row.sources and (action is None or row.action == action)
    ]
