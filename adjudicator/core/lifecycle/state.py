"""A claim's state: its status (and the stage and party that follow from it) and its data.

The status names the row of lifecycle.md's table; the stage and who the claim
waits on follow from it (:func:`stage_of`, :func:`waiting_on`). The rest of
:class:`ClaimState` is what the guards and the next steps need: the current
recommendation, the supplier's offer, a staff proposal waiting for a second
pair of eyes, an evidence request, the determination and the refund.

Everything is JSON-ready (times as RFC 3339 text, money as decimal strings),
so the store keeps the state as one JSON document beside its indexed columns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

# Statuses, grouped by stage. The refund stage's "pending"/"initiated" are
# prefixed here so that every status is one unique name.
NEGOTIATION = ("awaiting_supplier", "awaiting_buyer")
PLATFORM_REVIEW = ("awaiting_staff", "awaiting_evidence", "pending_approval")
REFUND = ("refund_pending", "refund_initiated")
CLOSED = ("settled", "determined", "refunded", "withdrawn", "cancelled")
STATUSES = NEGOTIATION + PLATFORM_REVIEW + REFUND + CLOSED
OPEN = NEGOTIATION + PLATFORM_REVIEW  # before a determination or an agreement
STAGES = ("negotiation", "platform_review", "refund", "closed")
PARTIES = ("buyer", "supplier", "staff", "system", "timer")
WAITING_ON = ("buyer", "supplier", "staff", "system", "none")

_STAGE = {
    **dict.fromkeys(NEGOTIATION, "negotiation"),
    **dict.fromkeys(PLATFORM_REVIEW, "platform_review"),
    **dict.fromkeys(REFUND, "refund"),
    **dict.fromkeys(CLOSED, "closed"),
}
_WIRE_STATUS = {"refund_pending": "pending", "refund_initiated": "initiated"}
_FROM_WIRE = {("refund", wire): status for status, wire in _WIRE_STATUS.items()}


def stage_of(status: str) -> str:
    """The stage a status belongs to."""
    return _STAGE[status]


def wire_status(status: str) -> str:
    """The status as lifecycle.md writes it (``pending`` in the refund stage...)."""
    return _WIRE_STATUS.get(status, status)


def statuses_for(stage: str | None, wire: str | None) -> list[str]:
    """The internal statuses a list filter on ``stage`` and/or wire ``status`` selects."""
    found = [
        s
        for s in STATUSES
        if (stage is None or stage_of(s) == stage) and (wire is None or wire_status(s) == wire)
    ]
    return found


@dataclass(frozen=True)
class ClaimState:
    """The state of one claim (see the module docstring); ``replace`` to change it."""

    status: str
    filed_at: str
    currency: str
    recommendation: dict[str, Any]
    revision: int = 1
    offer: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    evidence_request: dict[str, Any] | None = None
    assignee: str | None = None
    determination: dict[str, Any] | None = None
    refund: dict[str, Any] | None = None
    escalated_at: str | None = None
    agreement: dict[str, Any] | None = None

    @property
    def stage(self) -> str:
        """The stage of the current status."""
        return stage_of(self.status)

    @property
    def closed(self) -> bool:
        """True once the claim accepts nothing but notes."""
        return self.status in CLOSED

    def waiting_on(self) -> str:
        """Who must act next: a party, staff, the system, or nobody."""
        if self.status == "awaiting_supplier":
            return "supplier"
        if self.status == "awaiting_buyer":
            return "buyer"
        if self.status == "awaiting_evidence" and self.evidence_request is not None:
            return str(self.evidence_request["party"])
        if self.status in ("awaiting_staff", "pending_approval", "refund_pending"):
            return "staff"
        if self.status == "refund_initiated":
            return "system"
        return "none"

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClaimState:
        """The state stored by :meth:`to_json`."""
        return cls(**data)

    def moved(self, status: str, **changes: Any) -> ClaimState:
        """A copy in ``status`` with ``changes``."""
        return replace(self, status=status, **changes)


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp (``Z`` or an offset) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
