"""Reading decisions back: one by id (with its case), or a filtered page of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, defer

from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.pagination import (
    Page,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.records import (
    IDENTIFIER_MAX,
    StoredDecision,
    check_text,
    is_decision_id,
    stored_decision,
)


def _overriders(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """For each of ``ids``, the decisions that override it, oldest first."""
    if not ids:
        return {}
    query = (
        select(DecisionRow.overrides_id, DecisionRow.id)
        .where(DecisionRow.overrides_id.in_(ids))
        .order_by(DecisionRow.created_at, DecisionRow.id)
    )
    found: dict[str, list[str]] = {}
    for original, overrider in session.execute(query):
        found.setdefault(str(original), []).append(overrider)
    return {original: tuple(ids) for original, ids in found.items()}


def with_overrides(session: Session, stored: StoredDecision) -> StoredDecision:
    """``stored`` with its ``overridden_by`` read from the database."""
    found = _overriders(session, [stored.decision_id]).get(stored.decision_id, ())
    return replace(stored, overridden_by=found)


def get_decision(store: Store, decision_id: str) -> StoredDecision:
    """The stored decision with that id, with its case document and ``overridden_by``."""
    if not is_decision_id(decision_id):
        raise NotFound("decision", decision_id[:40])
    with store.db.autocommit() as session:
        row = session.get(DecisionRow, decision_id)
        if row is None:
            raise NotFound("decision", decision_id)
        return with_overrides(session, stored_decision(row))


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
                check_text(errors, name, value, IDENTIFIER_MAX)
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
    limit = clamp_limit(limit)
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
        items = [stored_decision(row, with_case=False) for row in rows[:limit]]
        overriders = _overriders(session, [item.decision_id for item in items])
        items = [replace(i, overridden_by=overriders.get(i.decision_id, ())) for i in items]
    following = None
    if len(rows) > limit:
        last = items[-1]
        following = encode_cursor({"t": last.created_at.isoformat(), "i": last.decision_id})
    return Page(items=items, next_cursor=following)
