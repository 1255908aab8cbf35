"""What the claim service hands out: claims and events as typed records, and who is looking.

A :class:`Viewer` is the caller (an API key or a console user): its role
decides which parties it may act as (:func:`parties_for`), whether it sees
internal notes, and, for an upstream system, that it sees only the claims it
opened. Records turn into the API's JSON with ``to_dict()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adjudicator.claims.models import ClaimRow
from adjudicator.core.dates import rfc3339
from adjudicator.core.lifecycle import Available, ClaimState, at_risk, overdue, wire_status
from adjudicator.core.lifecycle.clocks import as_of
from adjudicator.db.actor import Actor, person
from adjudicator.db.errors import IdempotencyConflict, StoreError

PARTY_ROLES: dict[str, tuple[str, ...]] = {
    "system": ("buyer", "supplier", "system"),
    "staff": ("staff",),
    "admin": ("staff", "buyer", "supplier", "system"),
    "auditor": (),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads or acts: the identity (``Actor.key_id``, ``user:<id>`` in the console) and role."""

    key_id: str | None
    role: str
    person: str | None = None  # the console user behind it: who may approve what

    @classmethod
    def of(cls, actor: Actor) -> Viewer:
        """The viewer an actor is."""
        return cls(actor.key_id, actor.role, person(actor))

    @property
    def sees_all(self) -> bool:
        """Staff, auditors and admins see every claim; a system sees the claims it opened."""
        return self.role != "system"

    @property
    def sees_notes(self) -> bool:
        """Internal notes are never shown to the parties' systems."""
        return self.role != "system"


def parties_for(role: str) -> tuple[str, ...]:
    """The parties a role may act as (an upstream system names buyer or supplier with ``as``)."""
    return PARTY_ROLES.get(role, ())


class ClaimExists(StoreError):
    """An open claim with the same ``(order_id, claim_id)`` exists already."""

    def __init__(self, claim_ref: str) -> None:
        self.claim_ref = claim_ref
        super().__init__("an open claim with this order_id and claim_id exists")


class ClaimIdempotencyConflict(IdempotencyConflict):
    """The Idempotency-Key was used for another request on this claim."""

    def __init__(self, key: str, claim_ref: str) -> None:
        super().__init__(key, claim_ref)
        self.claim_ref = claim_ref


@dataclass(frozen=True, slots=True)
class ClaimEvent:
    """One event of a claim's timeline."""

    seq: int
    type: str
    action: str
    at: datetime
    party: str
    actor_key_id: str | None
    actor_name: str
    from_status: str
    to_status: str
    revision: int
    audit_seq: int
    data: dict[str, Any]
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        """The wire form of the event."""
        out = {
            "seq": self.seq,
            "type": self.type,
            "action": self.action,
            "at": rfc3339(self.at),
            "as": self.party,
            "actor": {"key_id": self.actor_key_id, "name": self.actor_name},
            "from_status": wire_status(self.from_status),
            "to_status": wire_status(self.to_status),
            "revision": self.revision,
            "audit_seq": self.audit_seq,
            "data": self.data,
        }
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Revision:
    """One case revision and the decision made on it."""

    revision: int
    decision_id: str
    event_seq: int
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"revision": self.revision, "decision_id": self.decision_id,
                "event_seq": self.event_seq, "created_at": rfc3339(self.created_at)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A claim as one viewer sees it at one moment (``now``)."""

    ref: str
    order_id: str
    claim_id: str
    ground: str
    state: ClaimState
    clocks: list[dict[str, Any]]
    next_due: datetime | None
    opened_at: datetime
    updated_at: datetime
    opened_by: str | None
    now: datetime
    available: list[Available]
    case: dict[str, Any] | None = None
    revisions: list[Revision] | None = None
    amount_claimed: str | None = None  # the latest revision's, in the claim's currency

    @property
    def status(self) -> str:
        """The status as lifecycle.md writes it."""
        return wire_status(self.state.status)

    def to_dict(self) -> dict[str, Any]:
        """The claim resource of lifecycle.md."""
        state = self.state
        proposal = None
        if state.proposal is not None:
            proposal = {k: v for k, v in state.proposal.items() if k != "document"}
        out: dict[str, Any] = {
            "claim_ref": self.ref,
            "order_id": self.order_id,
            "claim_id": self.claim_id,
            "ground": self.ground,
            "stage": state.stage,
            "status": self.status,
            "waiting_on": state.waiting_on(),
            "assignee": state.assignee,
            "revision": state.revision,
            "filed_at": state.filed_at,
            "opened_at": rfc3339(self.opened_at),
            "updated_at": rfc3339(self.updated_at),
            "recommendation": state.recommendation,
            "offer": state.offer,
            "proposal": proposal,
            "evidence_request": state.evidence_request,
            "determination": state.determination,
            "agreement": state.agreement,
            "refund": state.refund,
            "clocks": as_of(self.clocks, self.now),
            "next_due": None if self.next_due is None else rfc3339(self.next_due),
            "overdue": overdue(self.next_due, self.now),
            "at_risk": at_risk(self.next_due, self.now),
            "available_actions": [a.to_dict() for a in self.available],
        }
        if self.revisions is not None:
            out["revisions"] = [r.to_dict() for r in self.revisions]
        if self.case is not None:
            out["case"] = self.case
        return out


def claim_record(
    row: ClaimRow,
    now: datetime,
    available: list[Available],
    *,
    case: dict[str, Any] | None = None,
    revisions: list[Revision] | None = None,
) -> ClaimRecord:
    """The record of a stored claim."""
    return ClaimRecord(
        ref=row.ref,
        order_id=row.order_id,
        claim_id=row.claim_id,
        ground=row.ground,
        state=ClaimState.from_json(row.state),
        clocks=list(row.clocks["clocks"]),
        next_due=row.next_due,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        opened_by=row.opened_by,
        now=now,
        available=available,
        case=case,
        revisions=revisions,
        amount_claimed=row.amount_claimed,
    )
