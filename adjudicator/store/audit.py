"""Reading the audit log: listing it, and verifying its hash chain.

Entries are written only by :mod:`adjudicator.store.chain`, in the same
transaction as what they record. :func:`verify_audit` recomputes every hash
and names the first entry that was changed, deleted or reordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from adjudicator.store.chain import HEAD_ID, entry_hash, format_time
from adjudicator.store.crosscheck import first_unrecorded_change
from adjudicator.store.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow
from adjudicator.store.pagination import (
    Page,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from adjudicator.store.store import Store
from adjudicator.store.users_crosscheck import first_user_mismatch

_VERIFY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit entry as read back from the log."""

    seq: int
    at: datetime
    actor_key_id: str | None
    actor_name: str
    action: str
    subject: str
    request_id: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready values (the API's audit entry)."""
        return {
            "seq": self.seq,
            "at": format_time(self.at),
            "actor": {"key_id": self.actor_key_id, "name": self.actor_name},
            "action": self.action,
            "subject": self.subject,
            "request_id": self.request_id,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


Problem = Literal["changed", "deleted", "reordered", "unrecorded"]


@dataclass(frozen=True, slots=True)
class Broken:
    """The first entry at which the chain does not hold, and how."""

    seq: int
    problem: Problem
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of walking the chain: how many entries checked, the head, the break."""

    entries: int
    head_seq: int
    head_hash: str
    broken: Broken | None

    @property
    def ok(self) -> bool:
        """True when every entry and the head agree."""
        return self.broken is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (the API's and the CLI's verification report)."""
        first = self.broken
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "first_bad": None
            if first is None
            else {"seq": first.seq, "problem": first.problem, "detail": first.detail},
        }


def _row_hash(row: Row[Any]) -> str:
    return entry_hash(
        row.prev_hash,
        seq=row.seq,
        at=row.at,
        actor_key_id=row.actor_key_id,
        actor_name=row.actor_name,
        action=row.action,
        subject=row.subject,
        request_id=row.request_id,
        payload=row.payload,
    )


def _entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor_key_id=row.actor_key_id,
        actor_name=row.actor_name,
        action=row.action,
        subject=row.subject,
        request_id=row.request_id,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def list_audit(
    store: Store,
    *,
    cursor: str | None = None,
    limit: int = 50,
    action: str | None = None,
    subject: str | None = None,
) -> Page[AuditEntry]:
    """Entries in chain order (oldest first), ``limit`` at a time after ``cursor``."""
    limit = clamp_limit(limit)
    after = _seq_after(cursor) if cursor else 0
    query = select(AuditEntryRow).where(AuditEntryRow.seq > after)
    if action is not None:
        query = query.where(AuditEntryRow.action == action)
    if subject is not None:
        query = query.where(AuditEntryRow.subject == subject)
    query = query.order_by(AuditEntryRow.seq).limit(limit + 1)
    with store.db.autocommit() as session:
        rows = session.execute(query).scalars().all()
    items = [_entry(row) for row in rows[:limit]]
    following = encode_cursor({"s": items[-1].seq}) if len(rows) > limit else None
    return Page(items=items, next_cursor=following)


def _seq_after(cursor: str) -> int:
    (seq,) = decode_cursor(cursor, ("s",))
    if not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise invalid_cursor()
    return seq


def chain_length(store: Store) -> int:
    """How many entries the chain holds: the head's seq (one indexed row, cheap to scrape)."""
    with store.db.autocommit() as session:
        seq = session.execute(select(AuditHeadRow.seq).where(AuditHeadRow.id == HEAD_ID)).scalar()
    return int(seq or 0)


def verify_audit(store: Store) -> VerifyReport:
    """Walk the chain up to the head; report the first changed, deleted or reordered entry.

    When the chain holds, every stored decision is then checked against the
    entry that recorded it (:mod:`adjudicator.store.crosscheck`), so a changed
    or deleted decision row, or one no entry recorded, is named too.

    The head is read first, then the entries up to its seq: entries appended
    meanwhile are outside this check, not errors.
    """
    with store.db.read() as session:
        head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)).scalar_one()
        head_seq, head_hash = head.seq, head.hash
        checked, last_hash, broken = _walk(session, head_seq)
        if broken is None and checked == head_seq and last_hash == head_hash:
            mismatch = first_unrecorded_change(session, head_seq)
            mismatch = mismatch or first_user_mismatch(session, head_seq)
            if mismatch is not None:
                broken = Broken(*mismatch)
    if broken is None and checked < head_seq:
        detail = f"the head says {head_seq} entries but the log ends at {checked}"
        broken = Broken(checked + 1, "deleted", detail)
    if broken is None and last_hash != head_hash:
        broken = Broken(head_seq, "changed", "the last entry's hash differs from the chain head")
    return VerifyReport(checked, head_seq, head_hash, broken)


def _walk(session: Session, head_seq: int) -> tuple[int, str, Broken | None]:
    """Check entries 1..head_seq in order: (entries that hold, last good hash, first break)."""
    expected_seq, prev = 1, GENESIS_HASH
    query = (
        select(*(column for column in AuditEntryRow.__table__.c))
        .where(AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_VERIFY_BATCH)
    )
    result = session.execute(query)
    try:
        for row in result:
            broken = _check(session, row, expected_seq, prev)
            if broken is not None:
                return expected_seq - 1, prev, broken
            expected_seq, prev = row.seq + 1, row.hash
    finally:
        result.close()
    return expected_seq - 1, prev, None


def _check(session: Session, row: Row[Any], seq: int, prev: str) -> Broken | None:
    if row.seq != seq:
        return Broken(seq, "deleted", f"entry {seq} is missing; the next entry is {row.seq}")
    if row.prev_hash != prev:
        elsewhere = session.execute(
            select(AuditEntryRow.seq).where(AuditEntryRow.prev_hash == prev)
        ).scalar_one_or_none()
        if elsewhere is not None:
            detail = f"the entry that follows entry {seq - 1} is stored as entry {elsewhere}"
            return Broken(seq, "reordered", detail)
        return Broken(seq, "changed", f"entry {seq} does not link to entry {seq - 1}")
    if _row_hash(row) != row.hash:
        return Broken(seq, "changed", f"entry {seq} does not match its hash")
    return None
