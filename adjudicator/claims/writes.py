"""The rows one claim event writes, in its transaction: decisions, revision, event, audit, outbox.

Called by :mod:`.claims` (actions of people and systems) and
:mod:`.claims_jobs` (the timers) after the lifecycle table allowed a move;
this is the one place where a move's side effects happen. The caller holds
the claim's row lock; :func:`lock_chain` takes the audit head after that, so
the head is held only while the rows are written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from adjudicator.audit import chain
from adjudicator.audit.crosscheck import document_digest
from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow, ClaimRow
from adjudicator.claims.records import ClaimRecord, Viewer, claim_record, parties_for
from adjudicator.core.canonical import canonical_json, case_digest
from adjudicator.core.dates import rfc3339
from adjudicator.core.lifecycle import (
    CLOSED,
    REFUND,
    Acting,
    ClaimState,
    EventRecord,
    available_actions,
    compute_clocks,
    next_due,
    snapshot,
    timer_due,
)
from adjudicator.db.actor import Actor
from adjudicator.decisions.models import DecisionRow
from adjudicator.webhooks import outbox

NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)  # the sort key of a claim with no duty pending
_PRIOR_STATUS = {
    "withdrawn": "withdrawn",
    "cancelled": "closed_no_response",
    "settled": "settled",
    "determined": "decided",
}


def digest(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as RFC 3339 text (bodies are stored and hashed as JSON)."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def open_key(order_id: str, claim_id: str) -> str:
    """The unique key of an open claim on ``(order_id, claim_id)``."""
    return hashlib.sha256(canonical_json([order_id, claim_id])).hexdigest()


def recommendation(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a claim keeps of the engine's decision on its latest revision."""
    return {
        "decision_id": document["decision_id"],
        "outcome": document["outcome"],
        "refund": dict(document["refund"]),
        "fee_reimbursement": dict(document["fee_reimbursement"]),
        "cap": document["money"]["cap"],
    }


def claimed_amount(case: Mapping[str, Any]) -> str | None:
    """The case's ``claim.amount_claimed`` as its decimal string (none when it names none).

    The claim row keeps it beside the recommendation so the queue shows it
    without reading the case revision.
    """
    claim = case.get("claim")
    amount = claim.get("amount_claimed") if isinstance(claim, Mapping) else None
    return amount if isinstance(amount, str) else None


def prior_claims(session: Session, order_id: str, sent: Any) -> Any:
    """``sent`` with every claim the service closed (or granted a refund) on the order.

    A client's entry with the same ``claim_id`` is replaced by the service's record.
    """
    rows = session.execute(
        select(ClaimRow).where(ClaimRow.order_id == order_id, ClaimRow.status.in_(CLOSED + REFUND))
    ).scalars()
    ours: list[dict[str, Any]] = []
    for row in rows:
        state = ClaimState.from_json(row.state)
        status = _PRIOR_STATUS.get(state.status)
        if status is None:  # refunded, or a refund under way
            status = "decided" if state.determination is not None else "settled"
        granted = Decimal(str((state.refund or {}).get("amount") or "0"))
        ours.append(
            {
                "claim_id": row.claim_id,
                "ground": row.ground,
                "status": status,
                "filed_at": state.filed_at,
                "refund_granted": str(granted),
            }
        )
    if not ours:
        return sent
    if sent is None:
        return ours
    if not isinstance(sent, list):
        return sent  # not a list: the case validator names it
    mine = {entry["claim_id"] for entry in ours}
    kept = [e for e in sent if not (isinstance(e, Mapping) and e.get("claim_id") in mine)]
    return kept + ours


class LedgerAppend(Protocol):
    """A ledger change whose audit entry follows the event's (:mod:`.ledger`)."""

    def append(
        self, session: Session, head: chain.Head, now: datetime, actor: Actor, rid: str | None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class NewDecision:
    """A decision made inside a claim event, to be stored and recorded with it."""

    document: dict[str, Any]
    case: dict[str, Any]
    overrides: str | None = None

    def values(self, now: datetime, actor: Actor) -> dict[str, Any]:
        """The decisions row."""
        doc, case = self.document, self.case
        justification = doc["reasons"][0]["message"] if self.overrides else None
        return {
            "id": doc["decision_id"],
            "case_id": str(case["case_id"]),
            "order_id": str(case["order"]["order_id"]),
            "claim_id": str(case["claim"]["claim_id"]),
            "outcome": doc["outcome"],
            "ruleset_version": doc["ruleset"]["version"],
            "ruleset_digest": doc["ruleset"]["digest"],
            "case_digest": case_digest(case),
            "idempotency_key": None,
            "request_digest": None,
            "document": doc,
            "case_document": case,
            "overrides_id": self.overrides,
            "justification": justification,
            "created_at": now,
            "actor_key_id": actor.key_id,
            "actor_name": actor.name,
        }

    def insert(self, session: Session, now: datetime, actor: Actor) -> None:
        """Insert the decisions row (its audit entry follows, under the chain's lock)."""
        session.execute(insert(DecisionRow), self.values(now, actor))

    def append(
        self,
        session: Session,
        head: chain.Head,
        now: datetime,
        actor: Actor,
        request_id: str | None,
    ) -> None:
        """Append its ``decision.created``/``decision.overridden`` audit entry."""
        values = self.values(now, actor)
        payload = {
            "decision_id": values["id"],
            "case_id": values["case_id"],
            "order_id": values["order_id"],
            "claim_id": values["claim_id"],
            "outcome": values["outcome"],
            "refund": self.document["refund"],
            "ruleset": {"version": values["ruleset_version"], "digest": values["ruleset_digest"]},
            "case_digest": values["case_digest"],
            "document_digest": document_digest(self.document),
        }
        action = "decision.created"
        if self.overrides is not None:
            action = "decision.overridden"
            payload["overrides"] = self.overrides
            payload["justification"] = values["justification"]
        chain.append(
            session,
            head,
            at=now,
            actor=actor,
            action=action,
            subject=values["id"],
            request_id=request_id,
            payload=payload,
        )


def event_records(session: Session, ref: str) -> list[EventRecord]:
    """What the clocks read of a claim's stored events, in order."""
    rows = session.execute(
        select(ClaimEventRow).where(ClaimEventRow.claim_ref == ref).order_by(ClaimEventRow.seq)
    ).scalars()
    return [EventRecord(r.action, r.at, r.party, r.from_status, r.to_status, r.data) for r in rows]


def summary(state: ClaimState, events: Sequence[EventRecord], now: datetime) -> dict[str, Any]:
    """The claim row's computed columns after an event."""
    clocks = compute_clocks(state, events, now)
    due = next_due(clocks)
    return {
        "stage": state.stage,
        "status": state.status,
        "waiting_on": state.waiting_on(),
        "assignee": state.assignee,
        "currency": state.currency,
        "recommended_outcome": str(state.recommendation["outcome"]),
        "revision": state.revision,
        "state": state.to_json(),
        "clocks": {"clocks": snapshot(clocks)},
        "next_due": due,
        "due_sort": due or NO_DUE,
        "timer_due": timer_due(state),
        "updated_at": now,
    }


@dataclass(frozen=True, slots=True)
class Event:
    """One accepted action, as it is to be stored."""

    type: str
    action: str
    party: str
    from_status: str
    state: ClaimState
    data: dict[str, Any]
    note: str | None = None
    idempotency_key: str | None = None
    request_digest: str | None = None


def record_event(
    session: Session,
    row: ClaimRow,
    event: Event,
    *,
    now: datetime,
    actor: Actor,
    request_id: str | None,
    decisions: Sequence[NewDecision] = (),
    case: dict[str, Any] | None = None,
    ledger: Sequence[LedgerAppend] = (),
) -> None:
    """Store the event with everything it implies, in the caller's transaction.

    The claim row (locked, or just inserted) gets its new state; new decisions,
    the new case revision (``case``), the event and its outbox row are
    written; then the audit head is locked and the audit entries appended
    (the decisions', the event's, then the ledger's: ``ledger`` are the cap
    changes and movements already written to the order's account), so the
    chain's lock is held for those few statements only.
    """
    seq = row.event_count + 1
    state = event.state
    for decision in decisions:
        decision.insert(session, now, actor)
    if case is not None:
        row.amount_claimed = claimed_amount(case)  # the latest revision's claim
        decision_id = str(state.recommendation["decision_id"])
        session.add(
            ClaimRevisionRow(
                claim_ref=row.ref,
                revision=state.revision,
                case_document=case,
                decision_id=decision_id,
                event_seq=seq,
                created_at=now,
            )
        )
    stored = ClaimEventRow(
        claim_ref=row.ref,
        seq=seq,
        type=event.type,
        action=event.action,
        at=now,
        party=event.party,
        actor_key_id=actor.key_id,
        actor_name=actor.name,
        from_status=event.from_status,
        to_status=state.status,
        revision=state.revision,
        audit_seq=0,
        data=event.data,
        note=event.note,
        idempotency_key=event.idempotency_key,
        request_digest=event.request_digest,
    )
    session.add(stored)
    session.flush()
    events = event_records(session, row.ref)
    for name, value in summary(state, events, now).items():
        setattr(row, name, value)
    row.event_count = seq
    if state.closed:
        row.open_key = None
    session.flush()
    announced = record_for(row, now, Viewer(None, "system"))
    outbox.enqueue(session, type=event.type, claim_ref=row.ref, at=now, claim=announced.to_dict())

    # Last, and held only until the commit: the audit chain (one writer at a time).
    payload = {
        "claim_ref": row.ref,
        "order_id": row.order_id,
        "claim_id": row.claim_id,
        "event_seq": seq,
        "action": event.action,
        "as": event.party,
        "from_status": event.from_status,
        "to_status": state.status,
        "revision": state.revision,
        "data_digest": digest({"data": event.data, "note": event.note}),
        "state_digest": digest(state.to_json()),
    }
    head = chain.lock_head(session)
    for decision in decisions:
        decision.append(session, head, now, actor, request_id)
    chain.append(
        session,
        head,
        at=now,
        actor=actor,
        action=event.type,
        subject=row.ref,
        request_id=request_id,
        payload=payload,
    )
    stored.audit_seq = head.seq
    for change in ledger:
        change.append(session, head, now, actor, request_id)
    session.flush()


def record_for(row: ClaimRow, now: datetime, viewer: Viewer) -> ClaimRecord:
    """The record of ``row`` with the actions ``viewer`` may take on it now."""
    parties = parties_for(viewer.role)
    state = ClaimState.from_json(row.state)
    acting = Acting(parties[0] if parties else "none", viewer.key_id, now, viewer.person)
    return claim_record(row, now, available_actions(state, parties, acting))
