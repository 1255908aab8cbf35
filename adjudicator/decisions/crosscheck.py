"""Decisions against the ``decision.created`` / ``decision.overridden`` entries that recorded them.

Each entry carries the digest of the decision document and of its case
document; a decision row whose documents no longer match, a recorded decision
that is gone, or a decision no entry recorded is named.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.audit.crosscheck import Mismatch, document_digest
from adjudicator.audit.models import AuditEntryRow
from adjudicator.core.canonical import case_digest
from adjudicator.decisions.models import DecisionRow

DECISION_ACTIONS = ("decision.created", "decision.overridden")
_BATCH = 500


def first_unrecorded_change(session: Session, head_seq: int) -> Mismatch | None:
    """The first decision that disagrees with the log: ``(entry seq, problem, detail)``."""
    recorded = (
        select(
            AuditEntryRow.seq,
            AuditEntryRow.subject,
            AuditEntryRow.payload,
            DecisionRow.id,
            DecisionRow.outcome,
            DecisionRow.document,
            DecisionRow.case_document,
        )
        .join(DecisionRow, DecisionRow.id == AuditEntryRow.subject, isouter=True)
        .where(AuditEntryRow.action.in_(DECISION_ACTIONS), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    result = session.execute(recorded)
    try:
        for seq, subject, payload, found, outcome, document, case in result:
            mismatch = _compare(seq, subject, payload, found, outcome, document, case)
            if mismatch is not None:
                return mismatch
    finally:
        result.close()  # a server-side cursor on PostgreSQL: release it when leaving early
    unrecorded = (
        select(DecisionRow.id)
        .where(
            ~select(AuditEntryRow.seq)
            .where(
                AuditEntryRow.subject == DecisionRow.id,
                AuditEntryRow.action.in_(DECISION_ACTIONS),
            )
            .exists()
        )
        .limit(1)
    )
    stray = session.execute(unrecorded).scalar_one_or_none()
    if stray is not None:
        return head_seq, "unrecorded", f"decision {stray} has no audit entry"
    return None


def _compare(
    seq: int,
    subject: str,
    payload: dict[str, Any],
    found: str | None,
    outcome: str | None,
    document: dict[str, Any] | None,
    case: dict[str, Any] | None,
) -> Mismatch | None:
    if found is None or document is None or case is None:
        return seq, "deleted", f"decision {subject}, recorded by entry {seq}, is missing"
    wanted = payload.get("document_digest")
    if (
        outcome != payload.get("outcome")
        or (wanted is not None and document_digest(document) != wanted)
        or case_digest(case) != payload.get("case_digest")
    ):
        detail = (
            f"decision {subject} was changed after entry {seq} recorded it: "
            "its stored documents no longer match the digests in the entry"
        )
        return seq, "changed", detail
    return None


def first_decision_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """:func:`first_unrecorded_change` under the name the other checks follow."""
    return first_unrecorded_change(session, head_seq)
