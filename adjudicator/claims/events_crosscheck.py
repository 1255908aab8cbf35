"""Claim events and case revisions against the audit entries that recorded them.

- Each ``claim_events`` row names the entry that recorded it (``audit_seq``).
  That entry's action is the event's type, its subject the claim, and its
  payload carries the event's number, action, party, statuses, revision and
  ``data_digest`` = digest of ``{"data", "note"}``; the entry's actor and time
  are the event's. An event row that differs, an event no entry recorded, and
  a ``claim.*`` entry whose event row is gone are named.
- Each ``claim_revisions`` row holds a case document the engine decided: the
  ``decision.created`` entry of its ``decision_id`` carries the case's digest
  (:func:`adjudicator.core.canonical.case_digest`), and the event that made the
  revision names the same decision. A revision whose case document was edited,
  which names another decision, or which an event needs and is gone, is named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from adjudicator.audit.chain import format_time
from adjudicator.audit.crosscheck import earlier, first_entry_without_row
from adjudicator.audit.models import AuditEntryRow
from adjudicator.claims.crosscheck import CLAIM_EVENT_ACTIONS, state_digest
from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow
from adjudicator.core.canonical import case_digest

if TYPE_CHECKING:
    from adjudicator.audit.crosscheck import Mismatch

_BATCH = 500


def data_digest(data: Any, note: str | None) -> str:
    """The digest a claim-event entry records of the event's data and note."""
    return state_digest({"data": data, "note": note})


def _event_name(row: Any) -> str:
    return f"claim {row.claim_ref} event {row.seq} ({row.type})"


def _event_differences(row: Any) -> list[str]:
    # a row of first_event_mismatch's query: the event's columns and its entry's
    """What of the event row differs from its entry, each named."""
    payload = row.payload
    found = []
    for name, column, wanted in (
        ("type", row.type, row.entry_action),
        ("claim", row.claim_ref, row.subject),
        ("number", row.seq, payload.get("event_seq")),
        ("action", row.action, payload.get("action")),
        ("party", row.party, payload.get("as")),
        ("from_status", row.from_status, payload.get("from_status")),
        ("to_status", row.to_status, payload.get("to_status")),
        ("revision", row.revision, payload.get("revision")),
        ("actor key", row.actor_key_id, row.entry_key_id),
        ("actor name", row.actor_name, row.entry_name),
    ):
        if column != wanted:
            found.append(f"{name} {column!r} in the database, {wanted!r} in the log")
    if format_time(row.at) != format_time(row.entry_at):
        found.append(f"time {format_time(row.at)} in the database, {format_time(row.entry_at)}")
    if data_digest(row.data, row.note) != payload.get("data_digest"):
        found.append("its data or note no longer match the entry's data_digest")
    return found


def first_event_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The claim event that disagrees with the log at the earliest entry (or None)."""
    entry = aliased(AuditEntryRow)
    rows = (
        select(
            ClaimEventRow.claim_ref, ClaimEventRow.seq, ClaimEventRow.type, ClaimEventRow.action,
            ClaimEventRow.at, ClaimEventRow.party, ClaimEventRow.actor_key_id,
            ClaimEventRow.actor_name, ClaimEventRow.from_status, ClaimEventRow.to_status,
            ClaimEventRow.revision, ClaimEventRow.audit_seq, ClaimEventRow.data,
            ClaimEventRow.note, entry.seq.label("entry_seq"), entry.action.label("entry_action"),
            entry.subject, entry.at.label("entry_at"), entry.actor_key_id.label("entry_key_id"),
            entry.actor_name.label("entry_name"), entry.payload,
        )
        .outerjoin(entry, and_(entry.seq == ClaimEventRow.audit_seq, entry.seq <= head_seq))
        .order_by(ClaimEventRow.id)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip
    best: Mismatch | None = None
    result = session.execute(rows)
    try:
        for row in result:
            if row.entry_seq is None:
                detail = f"{_event_name(row)} has no audit entry (entry {row.audit_seq})"
                best = earlier(best, (head_seq, "unrecorded", detail))
                continue
            changed = _event_differences(row)
            if changed:
                detail = (
                    f"{_event_name(row)} was changed in the database after entry "
                    f"{row.entry_seq} recorded it: " + "; ".join(changed)
                )
                best = earlier(best, (row.entry_seq, "changed", detail))
    finally:
        result.close()
    gone = first_entry_without_row(
        session,
        head_seq,
        AuditEntryRow.action.like(CLAIM_EVENT_ACTIONS),
        ClaimEventRow.id,
        ClaimEventRow.audit_seq == AuditEntryRow.seq,
    )
    if gone is not None:
        detail = (
            f"claim {gone.subject} event {gone.payload.get('event_seq')} ({gone.action}), "
            f"recorded by entry {gone.seq}, is missing"
        )
        best = earlier(best, (gone.seq, "deleted", detail))
    return best


def _revision_mismatch(row: Any, head_seq: int) -> Mismatch | None:
    name = f"claim {row.claim_ref} revision {row.revision}"
    if row.event_audit_seq is None:
        return head_seq, "unrecorded", f"{name} names event {row.event_seq}, which is missing"
    decided = row.event_data.get("decision_id") if isinstance(row.event_data, dict) else None
    if decided != row.decision_id or row.event_revision != row.revision:
        detail = (
            f"{name} was changed in the database: it names decision {row.decision_id}, "
            f"its event {row.event_seq} (entry {row.event_audit_seq}) decision {decided} "
            f"on revision {row.event_revision}"
        )
        return row.event_audit_seq, "changed", detail
    if row.entry_seq is None:
        detail = f"{name}: its decision {row.decision_id} has no decision.created entry"
        return head_seq, "unrecorded", detail
    if case_digest(row.case_document) != row.payload.get("case_digest"):
        detail = (
            f"{name}: its case document was changed in the database after entry "
            f"{row.entry_seq} recorded its digest (decision {row.decision_id})"
        )
        return row.entry_seq, "changed", detail
    return None


def first_revision_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The case revision that disagrees with the log at the earliest entry."""
    entry, event = aliased(AuditEntryRow), aliased(ClaimEventRow)
    rows = (
        select(
            ClaimRevisionRow.claim_ref, ClaimRevisionRow.revision, ClaimRevisionRow.case_document,
            ClaimRevisionRow.decision_id, ClaimRevisionRow.event_seq,
            entry.seq.label("entry_seq"), entry.payload,
            event.audit_seq.label("event_audit_seq"), event.data.label("event_data"),
            event.revision.label("event_revision"),
        )
        .outerjoin(
            entry,
            and_(
                entry.subject == ClaimRevisionRow.decision_id,
                entry.action == "decision.created",
                entry.seq <= head_seq,
            ),
        )
        .outerjoin(
            event,
            and_(
                event.claim_ref == ClaimRevisionRow.claim_ref,
                event.seq == ClaimRevisionRow.event_seq,
            ),
        )
        .order_by(ClaimRevisionRow.claim_ref, ClaimRevisionRow.revision)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip
    best: Mismatch | None = None
    result = session.execute(rows)
    try:
        for row in result:
            best = earlier(best, _revision_mismatch(row, head_seq))
    finally:
        result.close()
    revision = aliased(ClaimRevisionRow)
    gone = session.execute(
        select(ClaimEventRow.claim_ref, ClaimEventRow.revision, ClaimEventRow.audit_seq)
        .outerjoin(
            revision,
            and_(
                revision.claim_ref == ClaimEventRow.claim_ref,
                revision.revision == ClaimEventRow.revision,
            ),
        )
        .where(revision.claim_ref.is_(None))
        .order_by(ClaimEventRow.audit_seq)
        .limit(1)
    ).first()
    if gone is not None:
        detail = (
            f"claim {gone.claim_ref} revision {gone.revision}, recorded with entry "
            f"{gone.audit_seq}, is missing"
        )
        best = earlier(best, (gone.audit_seq, "deleted", detail))
    return best
