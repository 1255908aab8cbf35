"""Reading claims back: one claim (with its case and revisions), a filtered page, a timeline.

The list is sorted by the next duty's due time (claims with none last), then
by ``claim_ref``, and paged by an opaque keyset cursor; the filters map to
indexed columns (``status``+``due_sort``, ``order_id``, ``assignee``...).
``overdue`` and ``at_risk`` are comparisons of ``next_due`` with now.
An upstream system (role ``system``) sees only the claims it opened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select

from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow, ClaimRow
from adjudicator.claims.records import (
    ClaimEvent,
    ClaimRecord,
    Revision,
    Viewer,
    claim_record,
    parties_for,
)
from adjudicator.core.decision import OUTCOMES
from adjudicator.core.lifecycle import STAGES, ClaimState, available_actions, statuses_for
from adjudicator.core.lifecycle.clocks import AT_RISK
from adjudicator.core.lifecycle.table import Acting
from adjudicator.core.money import is_currency
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.pagination import (
    Page,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from adjudicator.db.store import Store
from adjudicator.decisions.records import IDENTIFIER_MAX, check_text, is_decision_id

_CURRENCY = re.compile(r"[A-Z]{3}")


def _record(row: ClaimRow, viewer: Viewer, now: datetime, **more: Any) -> ClaimRecord:
    parties = parties_for(viewer.role)
    acting = Acting(parties[0] if parties else "none", viewer.key_id, now, viewer.person)
    state = ClaimState.from_json(row.state)
    return claim_record(row, now, available_actions(state, parties, acting), **more)


def _find(session: Any, ref: str, viewer: Viewer) -> ClaimRow:
    row = session.get(ClaimRow, ref) if is_decision_id(ref) else None
    if row is None or (not viewer.sees_all and row.opened_by != viewer.key_id):
        raise NotFound("claim", ref[:40])
    found: ClaimRow = row
    return found


def get_claim(store: Store, ref: str, viewer: Viewer) -> ClaimRecord:
    """The claim with its latest case document, its revisions and the viewer's actions."""
    now = store.clock()
    with store.db.read() as session:
        row = _find(session, ref, viewer)
        revisions = session.execute(
            select(ClaimRevisionRow)
            .where(ClaimRevisionRow.claim_ref == row.ref)
            .order_by(ClaimRevisionRow.revision)
        ).scalars().all()  # fmt: skip
        listed = [Revision(r.revision, r.decision_id, r.event_seq, r.created_at)
                  for r in revisions]  # fmt: skip
        return _record(row, viewer, now, case=revisions[-1].case_document, revisions=listed)


def claim_events(store: Store, ref: str, viewer: Viewer) -> list[ClaimEvent]:
    """The claim's timeline in order, each event with its audit seq (no notes for a system)."""
    with store.db.read() as session:
        row = _find(session, ref, viewer)
        query = select(ClaimEventRow).where(ClaimEventRow.claim_ref == row.ref)
        if not viewer.sees_notes:
            query = query.where(ClaimEventRow.action != "note")
        rows: Sequence[ClaimEventRow] = session.execute(
            query.order_by(ClaimEventRow.seq)
        ).scalars().all()  # fmt: skip
        return [
            ClaimEvent(e.seq, e.type, e.action, e.at, e.party, e.actor_key_id, e.actor_name,
                       e.from_status, e.to_status, e.revision, e.audit_seq, e.data, e.note)
            for e in rows
        ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClaimFilter:
    """Which claims to list; every field optional (``status`` as lifecycle.md writes it).

    ``currency`` is an ISO 4217 code, ``recommendation`` an outcome of the
    contract (the engine's recommended outcome on the latest revision).
    """

    stage: str | None = None
    status: str | None = None
    waiting_on: str | None = None
    overdue: bool | None = None
    at_risk: bool | None = None
    ground: str | None = None
    order_id: str | None = None
    assignee: str | None = None
    currency: str | None = None
    recommendation: str | None = None

    def apply(self, query: Select[Any], now: datetime) -> Select[Any]:
        """``query`` narrowed to the claims this filter selects at ``now``."""
        errors: dict[str, list[str]] = {}
        for name in ("waiting_on", "ground", "order_id", "assignee"):
            value = getattr(self, name)
            if value is not None:
                check_text(errors, name, value, IDENTIFIER_MAX)
                query = query.where(getattr(ClaimRow, name) == value)
        if self.stage is not None and self.stage not in STAGES:
            errors["stage"] = [f"Must be one of: {', '.join(STAGES)}."]
        if self.currency is not None:
            if not (_CURRENCY.fullmatch(self.currency) and is_currency(self.currency)):
                errors["currency"] = ["Must be an upper-case ISO 4217 code, such as USD."]
            query = query.where(ClaimRow.currency == self.currency)
        if self.recommendation is not None:
            if self.recommendation not in OUTCOMES:
                errors["recommendation"] = [f"Must be one of: {', '.join(OUTCOMES)}."]
            query = query.where(ClaimRow.recommended_outcome == self.recommendation)
        if errors:
            raise InvalidRequest("invalid filter", errors)
        if self.stage is not None or self.status is not None:
            query = query.where(ClaimRow.status.in_(statuses_for(self.stage, self.status)))
        if self.overdue is True:
            query = query.where(ClaimRow.next_due < now)
        elif self.overdue is False:
            query = query.where(or_(ClaimRow.next_due.is_(None), ClaimRow.next_due >= now))
        if self.at_risk is True:
            query = query.where(ClaimRow.next_due >= now, ClaimRow.next_due < now + AT_RISK)
        elif self.at_risk is False:
            query = query.where(
                or_(ClaimRow.next_due.is_(None), ClaimRow.next_due < now,
                    ClaimRow.next_due >= now + AT_RISK)
            )  # fmt: skip
        return query


def _position(cursor: str) -> tuple[datetime, str]:
    due, ref = decode_cursor(cursor, ("d", "r"))
    if not isinstance(due, str) or not isinstance(ref, str) or len(ref) > 36:
        raise invalid_cursor()
    try:
        when = datetime.fromisoformat(due)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if when.tzinfo is None:
        raise invalid_cursor()
    return when, ref


def list_claims(
    store: Store,
    where: ClaimFilter,
    viewer: Viewer,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ClaimRecord]:
    """Claims by next due time (soonest first), ``limit`` at a time after ``cursor``."""
    limit = clamp_limit(limit)
    now = store.clock()
    query = where.apply(select(ClaimRow), now)
    if not viewer.sees_all:
        query = query.where(ClaimRow.opened_by == viewer.key_id)
    if cursor:
        due, ref = _position(cursor)
        query = query.where(
            or_(ClaimRow.due_sort > due, and_(ClaimRow.due_sort == due, ClaimRow.ref > ref))
        )
    query = query.order_by(ClaimRow.due_sort, ClaimRow.ref).limit(limit + 1)
    with store.db.read() as session:
        rows: Sequence[ClaimRow] = session.execute(query).scalars().all()
        items = [_record(row, viewer, now) for row in rows[:limit]]
        following = None
        if len(rows) > limit:
            last = rows[limit - 1]
            following = encode_cursor({"d": last.due_sort.isoformat(), "r": last.ref})
    return Page(items=items, next_cursor=following)
