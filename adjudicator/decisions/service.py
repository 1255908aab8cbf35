"""The decision service: decide and store a case; override a decision.

``create_decision`` fills what the caller may leave out (``case_id``,
``as_of``), asks the pure core to decide, and commits the decision, its case
document and its audit entry in one transaction. An ``Idempotency-Key`` makes
it safe to retry: the same key with the same request returns the stored
decision, with another request it raises :class:`IdempotencyConflict`; the
unique constraint on (API key, Idempotency-Key) settles a race between two
writers. The key is the client's: two API keys (two upstream systems) may use
the same string without meeting. "The same request" is the same body and the
same ruleset, where naming the active version is the same as naming none.

``override_decision`` stores a staff determination as a new decision linked
to the one it overrides; no stored decision is ever changed. It takes an
``Idempotency-Key`` too: a double-submitted override is stored once.

The server's request id goes into each audit entry's ``request_id``; a
client's ``X-Request-Id`` is the client's word, kept apart in the payload as
``client_request_id``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from adjudicator.audit import chain
from adjudicator.audit.crosscheck import document_digest
from adjudicator.core.canonical import canonical_json, case_digest
from adjudicator.core.dates import rfc3339
from adjudicator.core.errors import EngineError, InvalidCase, UnknownRuleset
from adjudicator.db.actor import Actor
from adjudicator.db.errors import IdempotencyConflict, InvalidRequest, NotFound, StoreError
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.overrides import Determination
from adjudicator.decisions.queries import with_overrides
from adjudicator.decisions.records import (
    IDEMPOTENCY_KEY_MAX,
    IDENTIFIER_MAX,
    StoredDecision,
    check_text,
    is_decision_id,
    stored_decision,
)

_DECISIONS = cast(Table, DecisionRow.__table__)


class DecisionLike(Protocol):
    """What the service needs of a decision: its wire document."""

    def to_dict(self) -> dict[str, Any]: ...


class Decider(Protocol):
    """The pure core's entry point (``adjudicator.Adjudicator``)."""

    def decide(
        self,
        case: Mapping[str, Any],
        ruleset: str | None = None,
        *,
        decision_id: str | None = None,
        decided_at: datetime | None = None,
    ) -> DecisionLike: ...


def _request_digest(body: Mapping[str, Any], ruleset: str | None) -> str:
    digest = hashlib.sha256(canonical_json({"case": dict(body), "ruleset": ruleset}))
    return "sha256:" + digest.hexdigest()


def _replay(
    store: Store, actor: Actor, key: str, request_digest: str | None
) -> StoredDecision | None:
    """The actor's stored decision for ``key`` if the request matches; ``None`` if it is new."""
    owner = (
        DecisionRow.actor_key_id.is_(None)
        if actor.key_id is None
        else DecisionRow.actor_key_id == actor.key_id
    )
    with store.db.autocommit() as session:
        query = select(DecisionRow).where(owner, DecisionRow.idempotency_key == key)
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            return None
        if row.request_digest != request_digest:
            raise IdempotencyConflict(key, row.id)
        return with_overrides(session, stored_decision(row))


def _check_key(idempotency_key: str) -> None:
    errors: dict[str, list[str]] = {}
    check_text(errors, "Idempotency-Key", idempotency_key, IDEMPOTENCY_KEY_MAX)
    if errors:
        raise InvalidRequest("invalid Idempotency-Key", errors)


def _with_client_id(payload: dict[str, Any], client_request_id: str | None) -> dict[str, Any]:
    if client_request_id is not None:
        payload["client_request_id"] = client_request_id
    return payload


def _complete(body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    case = dict(body)
    if case.get("case_id") is None:
        case["case_id"] = str(uuid.uuid4())
    if case.get("as_of") is None:
        case["as_of"] = rfc3339(now)
    return case


def create_decision(
    store: Store,
    decider: Decider,
    body: Mapping[str, Any],
    *,
    actor: Actor,
    ruleset: str | None = None,
    idempotency_key: str | None = None,
    request_id: str | None = None,
    client_request_id: str | None = None,
    active_ruleset: str | None = None,
) -> tuple[StoredDecision, bool]:
    """Decide ``body`` and store it; return the stored decision and whether it is new.

    Raises the core's ``InvalidCase``/``UnknownRuleset``/``EngineError`` unchanged,
    and :class:`IdempotencyConflict` for a key reused with another request. A
    repeated key is found when its insert fails on the unique constraint, so the
    first request pays no extra query for being retryable. ``ruleset`` equal to
    ``active_ruleset`` (the version used when none is named) counts as none.
    """
    if ruleset is not None and ruleset == active_ruleset:
        ruleset = None
    digest = None
    if idempotency_key is not None:
        _check_key(idempotency_key)
        digest = _request_digest(body, ruleset)

    now = store.clock()
    case = _complete(body, now)
    decision_id = str(uuid.uuid4())
    try:
        decision = decider.decide(case, ruleset, decision_id=decision_id, decided_at=now)
    except (InvalidCase, UnknownRuleset):
        # A stored key answers first: the stored decision, or a 409 for another request.
        stored = (
            _replay(store, actor, idempotency_key, digest) if idempotency_key is not None else None
        )
        if stored is None:
            raise
        return stored, False
    except EngineError as exc:
        exc.case_digest = case_digest(case)  # what the fault is logged with, never the case
        raise
    document = decision.to_dict()
    order_id, claim_id = str(case["order"]["order_id"]), str(case["claim"]["claim_id"])
    errors: dict[str, list[str]] = {}
    check_text(errors, "case_id", str(case["case_id"]), IDENTIFIER_MAX)
    check_text(errors, "order.order_id", order_id, IDENTIFIER_MAX)
    check_text(errors, "claim.claim_id", claim_id, IDENTIFIER_MAX)
    if errors:
        raise InvalidCase(errors)
    values: dict[str, Any] = {
        "id": decision_id,
        "case_id": str(case["case_id"]),
        "order_id": order_id,
        "claim_id": claim_id,
        "outcome": document["outcome"],
        "ruleset_version": document["ruleset"]["version"],
        "ruleset_digest": document["ruleset"]["digest"],
        "case_digest": case_digest(case),
        "idempotency_key": idempotency_key,
        "request_digest": digest,
        "document": document,
        "case_document": case,
        "overrides_id": None,
        "justification": None,
        "created_at": now,
        "actor_key_id": actor.key_id,
        "actor_name": actor.name,
    }
    payload = {
        "decision_id": decision_id,
        "case_id": values["case_id"],
        "order_id": order_id,
        "claim_id": claim_id,
        "outcome": values["outcome"],
        "refund": document["refund"],
        "ruleset": {"version": values["ruleset_version"], "digest": values["ruleset_digest"]},
        "case_digest": values["case_digest"],
        "document_digest": document_digest(document),
        "idempotency_key": idempotency_key,
    }
    _with_client_id(payload, client_request_id)
    try:
        chain.record(
            store.db,
            _DECISIONS,
            values,
            at=now,
            actor=actor,
            action="decision.created",
            subject=decision_id,
            request_id=request_id,
            payload=payload,
        )
    except IntegrityError as exc:
        # The Idempotency-Key is already stored (a retry, or a concurrent twin).
        stored = (
            _replay(store, actor, idempotency_key, digest) if idempotency_key is not None else None
        )
        if stored is None:
            raise StoreError("the decision could not be stored") from exc
        return stored, False
    return StoredDecision(decision_id, document, case, None, None, now), True


def _override_digest(decision_id: str, determination: Determination) -> str:
    fields = {
        "overrides": decision_id,
        "outcome": determination.outcome,
        "refund": determination.refund,
        "currency": determination.currency,
        "fee_reimbursement": determination.fee_reimbursement,
        "conditions": None if determination.conditions is None else list(determination.conditions),
        "justification": determination.justification,
    }
    return "sha256:" + hashlib.sha256(canonical_json(fields)).hexdigest()


def override_decision(
    store: Store,
    decision_id: str,
    determination: Determination,
    *,
    actor: Actor,
    request_id: str | None = None,
    client_request_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[StoredDecision, bool]:
    """Store a staff determination as a new decision that overrides ``decision_id``.

    Returns the stored override and whether it is new: with an ``Idempotency-Key``
    already used for the same override by the same API key, the stored one.
    """
    if not is_decision_id(decision_id):
        raise NotFound("decision", decision_id[:40])
    digest = None
    if idempotency_key is not None:
        _check_key(idempotency_key)
        digest = _override_digest(decision_id, determination)
        stored = _replay(store, actor, idempotency_key, digest)
        if stored is not None:
            return stored, False
    with store.db.autocommit() as session:  # a stored decision never changes: no lock needed
        original = session.get(DecisionRow, decision_id)
    if original is None:
        raise NotFound("decision", decision_id)
    now = store.clock()
    new_id = str(uuid.uuid4())
    document = determination.document(
        original.document, original.case_document, new_id, rfc3339(now)
    )
    justification = document["reasons"][0]["message"]
    values: dict[str, Any] = {
        "id": new_id,
        "case_id": original.case_id,
        "order_id": original.order_id,
        "claim_id": original.claim_id,
        "outcome": document["outcome"],
        "ruleset_version": original.ruleset_version,
        "ruleset_digest": original.ruleset_digest,
        "case_digest": original.case_digest,
        "idempotency_key": idempotency_key,
        "request_digest": digest,
        "document": document,
        "case_document": original.case_document,
        "overrides_id": original.id,
        "justification": justification,
        "created_at": now,
        "actor_key_id": actor.key_id,
        "actor_name": actor.name,
    }
    payload = {
        "decision_id": new_id,
        "overrides": original.id,
        "outcome": document["outcome"],
        "refund": document["refund"],
        "original_outcome": original.outcome,
        "original_refund": original.document["refund"],
        "justification": justification,
        "case_digest": original.case_digest,
        "document_digest": document_digest(document),
    }
    if idempotency_key is not None:
        payload["idempotency_key"] = idempotency_key
    try:
        chain.record(
            store.db,
            _DECISIONS,
            values,
            at=now,
            actor=actor,
            action="decision.overridden",
            subject=new_id,
            request_id=request_id,
            payload=_with_client_id(payload, client_request_id),
        )
    except IntegrityError as exc:
        # A concurrent twin with the same Idempotency-Key was stored first.
        stored = _replay(store, actor, idempotency_key, digest) if idempotency_key else None
        if stored is None:
            raise StoreError("the override could not be stored") from exc
        return stored, False
    stored = StoredDecision(
        new_id, document, original.case_document, original.id, justification, now
    )
    return stored, True
