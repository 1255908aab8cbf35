"""The decision service: decide and store, read back, list, and override.

``create_decision`` fills what the caller may leave out (``case_id``,
``as_of``), asks the pure core to decide, and commits the decision, its case
document and its audit entry in one transaction. An ``Idempotency-Key`` makes
it safe to retry: the same key with the same request returns the stored
decision, with another request it raises :class:`IdempotencyConflict`; the
unique constraint on the key settles a race between two writers.

``override_decision`` stores a staff determination as a new decision linked
to the one it overrides; no stored decision is ever changed.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from adjudicator.canonical import canonical_json, case_digest
from adjudicator.dates import rfc3339
from adjudicator.errors import InvalidCase, UnknownRuleset
from adjudicator.store import chain
from adjudicator.store.actor import Actor
from adjudicator.store.errors import IdempotencyConflict, InvalidRequest, NotFound, StoreError
from adjudicator.store.models import Base, DecisionRow
from adjudicator.store.overrides import Determination
from adjudicator.store.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from adjudicator.store.store import Store

IDENTIFIER_MAX = 200
IDEMPOTENCY_KEY_MAX = 255
_DECISIONS = Base.metadata.tables["decisions"]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A stored decision: its document, the case it decided, and what it overrides."""

    decision_id: str
    document: dict[str, Any]
    case: dict[str, Any] | None
    overrides: str | None
    justification: str | None
    created_at: datetime

    def to_dict(self, *, with_case: bool = False) -> dict[str, Any]:
        """The decision document plus ``overrides`` and ``justification`` (and ``case``)."""
        out = {**self.document, "overrides": self.overrides, "justification": self.justification}
        if with_case:
            out["case"] = self.case
        return out


def _stored(row: DecisionRow, *, with_case: bool = True) -> StoredDecision:
    return StoredDecision(
        decision_id=row.id,
        document=row.document,
        case=row.case_document if with_case else None,
        overrides=row.overrides_id,
        justification=row.justification,
        created_at=row.created_at,
    )


def _request_digest(body: Mapping[str, Any], ruleset: str | None) -> str:
    digest = hashlib.sha256(canonical_json({"case": dict(body), "ruleset": ruleset}))
    return "sha256:" + digest.hexdigest()


def _replay(store: Store, key: str, request_digest: str | None) -> StoredDecision | None:
    """The stored decision for ``key`` if the request matches it; ``None`` if the key is new."""
    with store.db.autocommit() as session:
        query = select(DecisionRow).where(DecisionRow.idempotency_key == key)
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            return None
        if row.request_digest != request_digest:
            raise IdempotencyConflict(key, row.id)
        return _stored(row)


def _check_text(errors: dict[str, list[str]], path: str, value: str, limit: int) -> None:
    if len(value) > limit or "\x00" in value:
        errors[path] = [f"Must be at most {limit} characters, without NUL."]


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
) -> tuple[StoredDecision, bool]:
    """Decide ``body`` and store it; return the stored decision and whether it is new.

    Raises the core's ``InvalidCase``/``UnknownRuleset``/``EngineError`` unchanged,
    and :class:`IdempotencyConflict` for a key reused with another request. A
    repeated key is found when its insert fails on the unique constraint, so the
    first request pays no extra query for being retryable.
    """
    digest = None
    if idempotency_key is not None:
        errors: dict[str, list[str]] = {}
        _check_text(errors, "Idempotency-Key", idempotency_key, IDEMPOTENCY_KEY_MAX)
        if errors:
            raise InvalidRequest("invalid Idempotency-Key", errors)
        digest = _request_digest(body, ruleset)

    now = store.clock()
    case = _complete(body, now)
    decision_id = str(uuid.uuid4())
    try:
        decision = decider.decide(case, ruleset, decision_id=decision_id, decided_at=now)
    except (InvalidCase, UnknownRuleset):
        # A stored key answers first: the stored decision, or a 409 for another request.
        stored = _replay(store, idempotency_key, digest) if idempotency_key is not None else None
        if stored is None:
            raise
        return stored, False
    document = decision.to_dict()
    order_id, claim_id = str(case["order"]["order_id"]), str(case["claim"]["claim_id"])
    errors = {}
    _check_text(errors, "case_id", str(case["case_id"]), IDENTIFIER_MAX)
    _check_text(errors, "order.order_id", order_id, IDENTIFIER_MAX)
    _check_text(errors, "claim.claim_id", claim_id, IDENTIFIER_MAX)
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
        "idempotency_key": idempotency_key,
    }
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
        stored = _replay(store, idempotency_key, digest) if idempotency_key is not None else None
        if stored is None:
            raise StoreError("the decision could not be stored") from exc
        return stored, False
    return StoredDecision(decision_id, document, case, None, None, now), True


def get_decision(store: Store, decision_id: str) -> StoredDecision:
    """The stored decision with that id, with its case document."""
    if _UUID.fullmatch(decision_id) is None:
        raise NotFound("decision", decision_id[:40])
    with store.db.autocommit() as session:
        row = session.get(DecisionRow, decision_id)
        if row is None:
            raise NotFound("decision", decision_id)
        return _stored(row)


@dataclass(frozen=True, slots=True)
class DecisionFilter:
    """Which decisions to list; ``since`` is inclusive, ``until`` exclusive."""

    order_id: str | None = None
    claim_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """``query`` narrowed to the decisions this filter selects."""
        errors: dict[str, list[str]] = {}
        for name in ("order_id", "claim_id", "outcome"):
            value = getattr(self, name)
            if value is not None:
                _check_text(errors, name, value, IDENTIFIER_MAX)
                query = query.where(getattr(DecisionRow, name) == value)
        if errors:
            raise InvalidRequest("invalid filter", errors)
        if self.since is not None:
            query = query.where(DecisionRow.created_at >= self.since)
        if self.until is not None:
            query = query.where(DecisionRow.created_at < self.until)
        return query


def _position(cursor: str) -> tuple[datetime, str]:
    at, ident = decode_cursor(cursor, ("t", "i"))
    if not isinstance(at, str) or not isinstance(ident, str) or len(ident) > 36:
        raise invalid_cursor()
    try:
        when = datetime.fromisoformat(at)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if when.tzinfo is None:
        raise invalid_cursor()
    return when, ident


def list_decisions(
    store: Store, where: DecisionFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[StoredDecision]:
    """Decisions newest first, ``limit`` at a time after ``cursor`` (without case documents)."""
    query = where.apply(select(DecisionRow).options(defer(DecisionRow.case_document)))
    if cursor:
        at, ident = _position(cursor)
        query = query.where(
            or_(
                DecisionRow.created_at < at,
                and_(DecisionRow.created_at == at, DecisionRow.id < ident),
            )
        )
    query = query.order_by(DecisionRow.created_at.desc(), DecisionRow.id.desc()).limit(limit + 1)
    with store.db.autocommit() as session:
        rows: Sequence[DecisionRow] = session.execute(query).scalars().all()
        items = [_stored(row, with_case=False) for row in rows[:limit]]
    following = None
    if len(rows) > limit:
        last = items[-1]
        following = encode_cursor({"t": last.created_at.isoformat(), "i": last.decision_id})
    return Page(items=items, next_cursor=following)


def override_decision(
    store: Store,
    decision_id: str,
    determination: Determination,
    *,
    actor: Actor,
    request_id: str | None = None,
) -> StoredDecision:
    """Store a staff determination as a new decision that overrides ``decision_id``."""
    if _UUID.fullmatch(decision_id) is None:
        raise NotFound("decision", decision_id[:40])
    with store.db.autocommit() as session:  # a stored decision never changes: no lock needed
        original = session.get(DecisionRow, decision_id)
    if original is None:
        raise NotFound("decision", decision_id)
    now = store.clock()
    new_id = str(uuid.uuid4())
    document = determination.document(original.document, new_id, rfc3339(now))
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
        "idempotency_key": None,
        "request_digest": None,
        "document": document,
        "case_document": original.case_document,
        "overrides_id": original.id,
        "justification": justification,
        "created_at": now,
        "actor_key_id": actor.key_id,
        "actor_name": actor.name,
    }
    chain.record(
        store.db,
        _DECISIONS,
        values,
        at=now,
        actor=actor,
        action="decision.overridden",
        subject=new_id,
        request_id=request_id,
        payload={
            "decision_id": new_id,
            "overrides": original.id,
            "outcome": document["outcome"],
            "refund": document["refund"],
            "original_outcome": original.outcome,
            "original_refund": original.document["refund"],
            "justification": justification,
            "case_digest": original.case_digest,
        },
    )
    return StoredDecision(new_id, document, original.case_document, original.id, justification, now)
