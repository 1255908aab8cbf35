"""The claim service: open a claim, act on it. The API and the staff console both call these.

- :func:`open_claim` decides the filed case (``as_of`` = now, ``prior_claims``
  filled from the claims the service holds on the order) and stores the claim,
  revision 1, its decision, the ``claim.opened`` event, their audit entries
  and the outbox row in one transaction.
- :func:`act` takes one action (``respond``, ``escalate``, ``propose``...) for
  an actor: locks the claim (``SELECT ... FOR UPDATE`` on PostgreSQL), asks
  the lifecycle table, runs what the action needs (the engine on a new
  revision, an override's checks, the approved decision), and stores the
  event through :func:`.claims_writes.record_event`.

Both are idempotent under an ``Idempotency-Key``: the same key and request
return the claim as it is now (``created`` false), another request with the
key raises :class:`ClaimIdempotencyConflict`. Reading is in :mod:`.claims_read`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adjudicator.claims.grants import (
    confirm_decision,
    ledger_extra,
    move_ledger,
    new_proposal_id,
)
from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow, ClaimRow
from adjudicator.claims.read import ClaimFilter, claim_events, get_claim, list_claims
from adjudicator.claims.records import (
    ClaimEvent,
    ClaimExists,
    ClaimIdempotencyConflict,
    ClaimRecord,
    Viewer,
    parties_for,
)
from adjudicator.claims.writes import (
    Event,
    LedgerAppend,
    NewDecision,
    claimed_amount,
    digest,
    jsonable,
    open_key,
    prior_claims,
    recommendation,
    record_event,
    record_for,
    summary,
)
from adjudicator.core.dates import rfc3339
from adjudicator.core.errors import InvalidCase
from adjudicator.core.lifecycle import (
    API_ACTIONS,
    Acting,
    ActionForbidden,
    ClaimState,
    EventRecord,
    InvalidAction,
    advance,
    check,
    merge_evidence,
)
from adjudicator.core.lifecycle.state import parse_time
from adjudicator.db.actor import Actor, person
from adjudicator.db.errors import InvalidRequest, NotFound, StoreError
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.overrides import Determination
from adjudicator.decisions.records import (
    IDEMPOTENCY_KEY_MAX,
    IDENTIFIER_MAX,
    check_text,
    is_decision_id,
)
from adjudicator.decisions.service import Decider
from adjudicator.ledger.accounts import set_cap

_EVIDENCE = ("payments", "shipments", "inspections", "amendments")


def _check_key(key: str | None) -> None:
    if key is None:
        return
    errors: dict[str, list[str]] = {}
    check_text(errors, "Idempotency-Key", key, IDEMPOTENCY_KEY_MAX)
    if errors:
        raise InvalidRequest("invalid Idempotency-Key", errors)


def acting_party(role: str, named: str | None) -> str:
    """The party an actor of ``role`` acts as; ``named`` is the ``as`` of an upstream system."""
    if named is not None:
        if named not in ("buyer", "supplier"):
            raise InvalidAction("invalid party", {"as": ["Must be one of: buyer, supplier."]})
        if named not in parties_for(role):
            raise ActionForbidden("as", f"A {role} acts as itself; only a system names a party.")
        return named
    parties = parties_for(role)
    if not parties:
        raise ActionForbidden("act", f"A key with the role {role!r} may not act on claims.")
    return parties[0] if role != "system" else "system"


def _visible(row: ClaimRow | None, viewer: Viewer, ref: str) -> ClaimRow:
    if row is None or (not viewer.sees_all and row.opened_by != viewer.key_id):
        raise NotFound("claim", ref[:40])
    return row


def _lock(session: Session, ref: str) -> ClaimRow | None:
    """The claim row, locked until the transaction ends (PostgreSQL; SQLite's lock is global)."""
    query = select(ClaimRow).where(ClaimRow.ref == ref).with_for_update()
    return session.execute(query).scalar_one_or_none()


def _replay_open(store: Store, key: str, request: str, viewer: Viewer) -> ClaimRecord | None:
    with store.db.read() as session:
        row = session.execute(
            select(ClaimRow).where(ClaimRow.idempotency_key == key)
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.request_digest != request:
            raise ClaimIdempotencyConflict(key, row.ref)
        return record_for(row, store.clock(), viewer)


def open_claim(
    store: Store,
    decider: Decider,
    case: Mapping[str, Any],
    actor: Actor,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[ClaimRecord, bool]:
    """File a claim on ``case``; return it and whether it is new (false: an idempotent replay).

    Raises ``InvalidCase`` (nothing stored), :class:`ClaimExists` when the
    order already has an open claim with that ``claim_id``, and
    :class:`ClaimIdempotencyConflict`.
    """
    _check_key(idempotency_key)
    viewer = Viewer.of(actor)
    request = digest({"case": jsonable(case)})
    if idempotency_key is not None:
        replayed = _replay_open(store, idempotency_key, request, viewer)
        if replayed is not None:
            return replayed, False
    now = store.clock()
    body = dict(case)
    if body.get("case_id") is None:
        body["case_id"] = str(uuid.uuid4())
    body["as_of"] = rfc3339(now)  # a claim's decisions are made at the event's time
    party = "staff" if actor.role in ("staff", "admin") else "system"
    sent = body.get("prior_claims")
    with store.db.read() as session:  # decide before the write lock: the engine is the slow part
        _with_priors(session, body, sent)
    document = _decide(decider, body, now)
    order_id, claim_id = str(body["order"]["order_id"]), str(body["claim"]["claim_id"])
    errors: dict[str, list[str]] = {}
    check_text(errors, "case_id", str(body["case_id"]), IDENTIFIER_MAX)
    check_text(errors, "order.order_id", order_id, IDENTIFIER_MAX)
    check_text(errors, "claim.claim_id", claim_id, IDENTIFIER_MAX)
    if errors:
        raise InvalidCase(errors)
    try:
        with store.db.write() as session:
            before = body.get("prior_claims")
            _with_priors(session, body, sent)
            if body.get("prior_claims") != before:  # a claim on the order closed meanwhile
                document = _decide(decider, body, now)
            decision_id = str(document["decision_id"])
            key = open_key(order_id, claim_id)
            existing = session.execute(
                select(ClaimRow.ref).where(ClaimRow.open_key == key)
            ).scalar_one_or_none()
            if existing is not None:
                raise ClaimExists(existing)
            state = ClaimState(
                status="awaiting_supplier",
                filed_at=str(body["claim"]["filed_at"]),
                currency=str(body["order"]["currency"]),
                recommendation=recommendation(document),
            )
            opened = [EventRecord("open", now, party, "new", state.status, {})]
            row = ClaimRow(
                ref=str(uuid.uuid4()),
                order_id=order_id,
                claim_id=claim_id,
                ground=str(body["claim"]["ground"]),
                amount_claimed=claimed_amount(body),
                event_count=0,
                open_key=key,
                filed_at=parse_time(state.filed_at),
                opened_at=now,
                opened_by=actor.key_id,
                idempotency_key=idempotency_key,
                request_digest=request if idempotency_key is not None else None,
                **summary(state, opened, now),
            )
            session.add(row)
            session.flush()
            cap = set_cap(session, order_id, document, now)
            event = Event(
                "claim.opened",
                "open",
                party,
                "new",
                state,
                {"decision_id": decision_id, "case_id": body["case_id"]},
            )
            record_event(
                session,
                row,
                event,
                now=now,
                actor=actor,
                request_id=request_id,
                decisions=[NewDecision(document, body)],
                case=body,
                ledger=[] if cap is None else [cap],
            )
            created = record_for(row, now, viewer)
    except IntegrityError as exc:  # a concurrent twin: the same key, or the same open claim
        if idempotency_key is not None:
            replayed = _replay_open(store, idempotency_key, request, viewer)
            if replayed is not None:
                return replayed, False
        with store.db.read() as session:
            key = open_key(str(body["order"]["order_id"]), str(body["claim"]["claim_id"]))
            found = session.execute(
                select(ClaimRow.ref).where(ClaimRow.open_key == key)
            ).scalar_one_or_none()
        if found is not None:
            raise ClaimExists(found) from exc
        raise StoreError("the claim could not be stored") from exc
    return created, True


def _with_priors(session: Session, body: dict[str, Any], sent: Any) -> None:
    order = body.get("order")
    order_id = order.get("order_id") if isinstance(order, Mapping) else None
    if isinstance(order_id, str):
        priors = prior_claims(session, order_id, sent)
        if priors is not None:
            body["prior_claims"] = priors


Early = tuple[int, dict[str, Any], dict[str, Any]]  # (base revision, revised case, decision)


def _decide(decider: Decider, case: dict[str, Any], now: datetime) -> dict[str, Any]:
    decision = decider.decide(case, None, decision_id=str(uuid.uuid4()), decided_at=now)
    return decision.to_dict()


def _revised_case(
    session: Session, row: ClaimRow, revision: int, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The latest case with the evidence merged in, decided as of ``now``, priors refreshed."""
    latest = session.get(ClaimRevisionRow, (row.ref, revision))
    assert latest is not None
    case = merge_evidence(latest.case_document, {k: body.get(k) for k in _EVIDENCE})
    case["as_of"] = rfc3339(now)
    priors = prior_claims(session, row.order_id, case.get("prior_claims"))
    if priors is not None:
        case["prior_claims"] = priors
    return case


def _early_evidence(
    store: Store,
    decider: Decider,
    ref: str,
    body: Mapping[str, Any],
    acting: Acting,
    parties: tuple[str, ...],
    viewer: Viewer,
    key: str | None,
) -> Early | None:
    """Decide a new revision before taking the claim's lock (the engine is the slow part).

    Under the lock :func:`_prepare` uses it only if the revision it was made on
    is still the latest; a retried key skips it (the replay answers).
    """
    with store.db.read() as session:
        row = _visible(session.get(ClaimRow, ref) if is_decision_id(ref) else None, viewer, ref)
        if (
            key is not None
            and session.execute(
                select(ClaimEventRow.seq).where(
                    ClaimEventRow.claim_ref == row.ref, ClaimEventRow.idempotency_key == key
                )
            ).first()
        ):
            return None
        state = ClaimState.from_json(row.state)
        check(state, "submit_evidence", acting, parties)
        case = _revised_case(session, row, state.revision, body, acting.now)
    return state.revision, case, _decide(decider, case, acting.now)


@dataclass(slots=True)
class Prepared:
    """What only the service can add to a move: the step's extra, decisions, case, ledger."""

    extra: dict[str, Any] = field(default_factory=dict)
    decisions: list[NewDecision] = field(default_factory=list)
    case: dict[str, Any] | None = None
    ledger: list[LedgerAppend] = field(default_factory=list)


_PROPOSING = ("settle", "propose")


def _prepare(
    session: Session,
    decider: Decider,
    row: ClaimRow,
    state: ClaimState,
    action: str,
    body: Mapping[str, Any],
    acting: Acting,
    parties: tuple[str, ...],
    early: Early | None = None,
) -> Prepared:
    """Check the move first (refused moves never reach the engine), then add what it needs."""
    check(state, action, acting, parties)
    if action == "submit_evidence":
        case = _revised_case(session, row, state.revision, body, acting.now)
        if early is not None and early[0] == state.revision and early[1] == case:
            document = early[2]  # decided before the lock, on what is still the latest revision
        else:
            document = _decide(decider, case, acting.now)
        extra = {"revision": state.revision + 1, "recommendation": recommendation(document)}
        ledger = _cap(session, row, document, acting.now)
        return Prepared(extra, [NewDecision(document, case)], case, ledger)
    kind = "settle" if action == "settle" else body.get("kind")
    if action == "propose" and kind == "confirm":
        extra, decisions = confirm_decision(session, decider, row, state, acting.now)
        ledger = [c for d in decisions for c in _cap(session, row, d.document, acting.now)]
        return Prepared({**extra, **ledger_extra(session, row, state)}, decisions, None, ledger)
    if action in _PROPOSING and kind == "override":
        original = session.get(DecisionRow, str(state.recommendation["decision_id"]))
        assert original is not None
        refund = body.get("refund") or {}
        fee = body.get("fee_reimbursement")
        conditions = body.get("conditions")
        determination = Determination(
            outcome=str(body.get("outcome")),
            refund=str(refund.get("amount", "")),
            currency=refund.get("currency"),
            fee_reimbursement=None if fee is None else str(fee.get("amount", "")),
            conditions=None if conditions is None else tuple(conditions),
            justification=str(body.get("justification") or ""),
        )
        document = determination.document(
            original.document, original.case_document, str(uuid.uuid4()), rfc3339(acting.now)
        )
        extra = {"override": document, **new_proposal_id(), **ledger_extra(session, row, state)}
        return Prepared(extra)
    if action in _PROPOSING or action == "respond":
        return Prepared({**new_proposal_id(), **ledger_extra(session, row, state)})
    if action == "approve" and state.proposal is not None and state.proposal["kind"] == "override":
        document = dict(state.proposal["document"])
        document["decided_at"] = rfc3339(acting.now)
        original = session.get(DecisionRow, str(state.recommendation["decision_id"]))
        assert original is not None
        decision = NewDecision(document, original.case_document, overrides=original.id)
        return Prepared({"decision_id": document["decision_id"]}, [decision])
    return Prepared()


def _cap(
    session: Session, row: ClaimRow, document: Mapping[str, Any], now: datetime
) -> list[LedgerAppend]:
    change = set_cap(session, row.order_id, document, now)
    return [] if change is None else [change]


def _event_data(action: str, body: Mapping[str, Any], state: ClaimState) -> dict[str, Any]:
    data: dict[str, Any] = jsonable({k: v for k, v in body.items() if k != "text"})
    if action == "submit_evidence":
        data["decision_id"] = state.recommendation["decision_id"]
    if action in ("propose", "approve") and state.determination is not None:
        data["decision_id"] = state.determination["decision_id"]
    if action in _PROPOSING and state.proposal is not None:
        data["proposal_id"] = state.proposal["proposal_id"]
    return data


def _event_type(action: str, row_event: str, following: ClaimState) -> str:
    """The row's event, but a confirm is a determination and an approved agreement a settlement."""
    if action == "propose" and following.determination is not None:
        return "claim.determined"
    agreement = following.agreement or {}
    if action == "approve" and agreement.get("kind") == "settlement":
        return "claim.settled"
    return row_event


def act(
    store: Store,
    decider: Decider,
    claim_ref: str,
    action: str,
    body: Mapping[str, Any],
    actor: Actor,
    *,
    party: str | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[ClaimRecord, bool]:
    """Take ``action`` on the claim as ``actor`` (a system names the ``party`` it acts for).

    Returns the claim as the actor now sees it and whether the action was new.
    Raises ``NotFound``, the lifecycle's refusals (``InvalidTransition`` 409,
    ``ActionForbidden`` 403, ``StaleProposal`` 409, ``InvalidAction`` 422),
    ``InvalidCase``/``InvalidRequest`` (422, nothing stored) and
    :class:`ClaimIdempotencyConflict`.
    """
    if action not in API_ACTIONS:
        raise NotFound("action", action[:40])
    _check_key(idempotency_key)
    viewer = Viewer.of(actor)
    parties = parties_for(actor.role)
    acting_as = acting_party(actor.role, party)
    request = digest({"action": action, "as": party, "body": jsonable(body)})
    now = store.clock()
    early = None
    if action == "submit_evidence":
        acting = Acting(acting_as, actor.key_id, now, person(actor))
        early = _early_evidence(
            store, decider, claim_ref, body, acting, parties, viewer, idempotency_key
        )
    try:
        with store.db.write() as session:
            row = _visible(_lock(session, claim_ref), viewer, claim_ref)
            if idempotency_key is not None:
                seen = session.execute(
                    select(ClaimEventRow.request_digest).where(
                        ClaimEventRow.claim_ref == row.ref,
                        ClaimEventRow.idempotency_key == idempotency_key,
                    )
                ).first()
                if seen is not None:
                    if seen[0] != request:
                        raise ClaimIdempotencyConflict(idempotency_key, row.ref)
                    return record_for(row, now, viewer), False
            state = ClaimState.from_json(row.state)
            acting = Acting(acting_as, actor.key_id, now, person(actor))
            prepared = _prepare(session, decider, row, state, action, body, acting, parties, early)
            transition, following = advance(state, action, acting, body, prepared.extra, parties)
            data = _event_data(action, body, following)
            change, data = move_ledger(session, row, state, following, now, data)
            if change is not None:
                prepared.ledger.append(change)
            event = Event(
                _event_type(action, transition.event, following),
                action,
                acting_as,
                state.status,
                following,
                data,
                str(body.get("text")) if action == "note" else None,
                idempotency_key,
                request if idempotency_key is not None else None,
            )
            record_event(
                session,
                row,
                event,
                now=now,
                actor=actor,
                request_id=request_id,
                decisions=prepared.decisions,
                case=prepared.case,
                ledger=prepared.ledger,
            )
            return record_for(row, now, viewer), True
    except IntegrityError as exc:  # only a concurrent twin with the same key gets here
        raise StoreError("the action could not be stored") from exc


__all__ = [
    "ClaimEvent",
    "ClaimExists",
    "ClaimFilter",
    "ClaimIdempotencyConflict",
    "ClaimRecord",
    "Viewer",
    "act",
    "acting_party",
    "claim_events",
    "get_claim",
    "list_claims",
    "open_claim",
]
