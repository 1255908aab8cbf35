"""The audit log: an append-only chain of entries, each hashed over its predecessor.

``hash = sha256(prev_hash + canonical JSON of the entry's fields)`` where the
fields are seq, time, actor (key id and name), action, subject, request id and
payload, and the first entry's ``prev_hash`` is 64 zeros. Appends happen inside
the caller's write transaction, after :func:`lock_head` has serialised it
against every other writer; :func:`verify_audit` walks the chain and names the first
entry that was changed, deleted or reordered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.canonical import canonical_json
from adjudicator.store.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow
from adjudicator.store.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from adjudicator.store.store import Store

HEAD_ID = 1
_VERIFY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: an API key (id, name, role), or an operator at the command line."""

    key_id: str | None
    name: str
    role: str


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


Problem = Literal["changed", "deleted", "reordered"]


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


def format_time(at: datetime) -> str:
    """The fixed-width UTC form of an entry's time that goes into its hash."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor_key_id: str | None,
    actor_name: str,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> str:
    """sha256 hex of ``prev_hash`` followed by the canonical JSON of the entry's fields."""
    fields = {
        "seq": seq,
        "at": format_time(at),
        "actor": {"key_id": actor_key_id, "name": actor_name},
        "action": action,
        "subject": subject,
        "request_id": request_id,
        "payload": dict(payload),
    }
    return hashlib.sha256(prev_hash.encode() + canonical_json(fields)).hexdigest()


def _row_hash(row: AuditEntryRow) -> str:
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


def lock_head(session: Session) -> AuditHeadRow:
    """Lock the chain head for this transaction and return it.

    Call first in a write transaction: on PostgreSQL the row lock makes every
    other appender wait here until this transaction ends (on SQLite the
    transaction already holds the database's write lock).
    """
    return session.execute(
        select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()
    ).scalar_one()


def append(
    session: Session,
    head: AuditHeadRow,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> AuditEntryRow:
    """Add the next entry after ``head`` (locked by :func:`lock_head`) and move the head."""
    seq = head.seq + 1
    digest = entry_hash(
        head.hash,
        seq=seq,
        at=at,
        actor_key_id=actor.key_id,
        actor_name=actor.name,
        action=action,
        subject=subject,
        request_id=request_id,
        payload=payload,
    )
    row = AuditEntryRow(
        seq=seq,
        at=at,
        actor_key_id=actor.key_id,
        actor_name=actor.name,
        action=action,
        subject=subject,
        request_id=request_id,
        payload=dict(payload),
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(row)
    head.seq = seq
    head.hash = digest
    return row


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
    after = _seq_after(cursor) if cursor else 0
    query = select(AuditEntryRow).where(AuditEntryRow.seq > after)
    if action is not None:
        query = query.where(AuditEntryRow.action == action)
    if subject is not None:
        query = query.where(AuditEntryRow.subject == subject)
    query = query.order_by(AuditEntryRow.seq).limit(limit + 1)
    with store.db.read() as session:
        rows = session.execute(query).scalars().all()
    items = [_entry(row) for row in rows[:limit]]
    following = encode_cursor({"s": items[-1].seq}) if len(rows) > limit else None
    return Page(items=items, next_cursor=following)


def _seq_after(cursor: str) -> int:
    (seq,) = decode_cursor(cursor, ("s",))
    if not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise invalid_cursor()
    return seq


def verify_audit(store: Store) -> VerifyReport:
    """Walk the chain up to the head; report the first changed, deleted or reordered entry.

    The head is read first, then the entries up to its seq: entries appended
    meanwhile are outside this check, not errors.
    """
    with store.db.read() as session:
        head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)).scalar_one()
        head_seq, head_hash = head.seq, head.hash
        expected_seq, prev = 1, GENESIS_HASH
        checked = 0
        query = (
            select(AuditEntryRow)
            .where(AuditEntryRow.seq <= head_seq)
            .order_by(AuditEntryRow.seq)
            .execution_options(yield_per=_VERIFY_BATCH)
        )
        for row in session.execute(query).scalars():
            broken = _check(session, row, expected_seq, prev)
            if broken is not None:
                return VerifyReport(checked, head_seq, head_hash, broken)
            checked += 1
            expected_seq, prev = row.seq + 1, row.hash
            session.expunge(row)
        if expected_seq <= head_seq:
            detail = f"the head says {head_seq} entries but the log ends at {expected_seq - 1}"
            return VerifyReport(
                checked, head_seq, head_hash, Broken(expected_seq, "deleted", detail)
            )
        if prev != head_hash:
            detail = "the last entry's hash differs from the chain head"
            return VerifyReport(checked, head_seq, head_hash, Broken(head_seq, "changed", detail))
    return VerifyReport(checked, head_seq, head_hash, None)


def _check(session: Session, row: AuditEntryRow, seq: int, prev: str) -> Broken | None:
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
