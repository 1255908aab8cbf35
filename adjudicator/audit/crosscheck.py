"""Holding the tables to the audit entries that recorded them: the shared parts.

The hash chain proves the audit log was not altered; the row checks prove the
tables it speaks for were not either. Each capability owns the check of its
own tables (``decisions.crosscheck``, ``identity.crosscheck``,
``governance.crosscheck``, ``claims.crosscheck``, ``claims.events_crosscheck``,
``ledger.crosscheck``), each a function ``(session, head_seq) -> Mismatch |
None``; :mod:`adjudicator.verification` lists them in the order they run.
This module holds what they share: the mismatch, the replay of a subject's
entries, the digest of a decision document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from adjudicator.audit.models import AuditEntryRow
from adjudicator.core.canonical import canonical_json, sha256_hex

_BATCH = 500


def document_digest(document: dict[str, Any]) -> str:
    """``sha256:<hex>`` of a stored decision document's canonical JSON."""
    return "sha256:" + sha256_hex(canonical_json(document))


Mismatch = tuple[int, Literal["changed", "deleted", "unrecorded"], str]
RowCheck = Callable[[Session, int], "Mismatch | None"]


def earlier(best: Mismatch | None, found: Mismatch | None) -> Mismatch | None:
    """The one of two mismatches at the earlier entry (the first found on a tie)."""
    if found is None or (best is not None and best[0] <= found[0]):
        return best
    return found


@dataclass(slots=True)
class Recorded:
    """What the chain says about one subject: the fields its entries set, and the last entry."""

    seq: int
    fields: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)  # action -> last entry seq


def replay(session: Session, head_seq: int, actions: tuple[str, ...]) -> dict[str, Recorded]:
    """Each subject of ``actions`` entries with the payload fields they set, in chain order."""
    query = (
        select(
            AuditEntryRow.seq, AuditEntryRow.action, AuditEntryRow.subject, AuditEntryRow.payload
        )
        .where(AuditEntryRow.action.in_(actions), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    subjects: dict[str, Recorded] = {}
    result = session.execute(query)
    try:
        for seq, action, subject, payload in result:
            recorded = subjects.setdefault(subject, Recorded(seq))
            recorded.seq = seq
            recorded.fields.update(payload)
            recorded.actions[action] = seq
    finally:
        result.close()
    return subjects


def first_entry_without_row(
    session: Session,
    head_seq: int,
    recorded: ColumnElement[bool],
    row_key: InstrumentedAttribute[Any],
    joins: ColumnElement[bool],
) -> Row[Any] | None:
    """The first entry (up to ``head_seq``) matching ``recorded`` whose row is gone.

    ``joins`` says which row an entry recorded; an entry no row joins
    (``row_key`` is null in the outer join) names a row deleted behind the
    chain's back. The row carries the entry's seq, action, subject and payload.
    """
    entry = AuditEntryRow
    query = (
        select(entry.seq, entry.action, entry.subject, entry.payload)
        .outerjoin(row_key.class_, joins)
        .where(recorded, entry.seq <= head_seq, row_key.is_(None))
        .order_by(entry.seq)
        .limit(1)
    )
    return session.execute(query).first()


def first_row_mismatch(
    session: Session, head_seq: int, checks: Sequence[RowCheck]
) -> Mismatch | None:
    """The first mismatch any of ``checks`` finds, in their order."""
    for check in checks:
        mismatch = check(session, head_seq)
        if mismatch is not None:
            return mismatch
    return None
