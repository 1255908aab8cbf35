"""Reading the audit log: listing it, and verifying its hash chain.

Entries are written only by :mod:`adjudicator.audit.chain`, in the same
transaction as what they record. :func:`verify_audit` recomputes every hash
and names the first entry that was changed, deleted or reordered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import rfc8785
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from adjudicator.audit.chain import HEAD_ID, entry_bytes, format_time
from adjudicator.audit.checkpoint_note import NoteError, Verifier, open_checkpoint
from adjudicator.audit.crosscheck import RowCheck, first_row_mismatch
from adjudicator.audit.merkle import Tree
from adjudicator.audit.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow, CheckpointRow
from adjudicator.db.errors import InvalidRequest
from adjudicator.db.pagination import (
    Page,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from adjudicator.db.store import Store

_VERIFY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit entry as read back from the log."""

    seq: int
    at: datetime
    actor_key_id: str | None
    actor_name: str
    actor_role: str | None
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
            "actor": {
                "key_id": self.actor_key_id,
                "name": self.actor_name,
                "role": self.actor_role,
            },
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


def _row_bytes(row: Row[Any]) -> bytes:
    return entry_bytes(
        seq=row.seq,
        at=row.at,
        actor_key_id=row.actor_key_id,
        actor_name=row.actor_name,
        actor_role=row.actor_role,
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
        actor_role=row.actor_role,
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


def get_entry(store: Store, seq: int) -> AuditEntry | None:
    """Entry ``seq``, or None."""
    with store.db.autocommit() as session:
        row = session.get(AuditEntryRow, seq)
        return None if row is None else _entry(row)


def seq_range(
    store: Store, *, since: datetime | None = None, until: datetime | None = None
) -> tuple[int, int]:
    """The seqs ``first..last`` of the entries written at or after ``since`` and before ``until``.

    An export by time is the contiguous run between them, so it can be verified
    link by link (entries of concurrent writers are not strictly in time order).
    ``(1, 0)`` when none.
    """
    query = select(func.min(AuditEntryRow.seq), func.max(AuditEntryRow.seq))
    if since is not None:
        query = query.where(AuditEntryRow.at >= since)
    if until is not None:
        query = query.where(AuditEntryRow.at < until)
    with store.db.autocommit() as session:
        first, last = session.execute(query).one()
    return (1, 0) if first is None else (int(first), int(last))


def iter_entries(store: Store, *, first: int = 1, last: int | None = None) -> Iterator[AuditEntry]:
    """Entries ``first..last`` (up to the head when ``last`` is None) in chain order, streamed."""
    query = select(AuditEntryRow).where(AuditEntryRow.seq >= first)
    if last is not None:
        query = query.where(AuditEntryRow.seq <= last)
    query = query.order_by(AuditEntryRow.seq).execution_options(yield_per=_VERIFY_BATCH)
    with store.db.read() as session:
        result = session.execute(query).scalars()
        try:
            for row in result:
                yield _entry(row)
        finally:
            result.close()


def _bound(value: str, name: str) -> int | datetime:
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        message = "Must be an entry's seq or an ISO 8601 time with a time zone."
        raise InvalidRequest(f"invalid {name}", {name: [message]})
    return parsed


def export_bounds(store: Store, since: str | None, until: str | None) -> tuple[int, int | None]:
    """The seqs an export ``--from``/``--to`` selects: each is a seq or an ISO 8601 time.

    A seq bound is inclusive; a time bound selects entries written at or after
    ``since`` and before ``until`` (:func:`seq_range`). ``last`` None: to the head.
    """
    lower = _bound(since, "from") if since else None
    upper = _bound(until, "to") if until else None
    first, last = 1, None
    if isinstance(lower, datetime) or isinstance(upper, datetime):
        first, last = seq_range(
            store,
            since=lower if isinstance(lower, datetime) else None,
            until=upper if isinstance(upper, datetime) else None,
        )
    if isinstance(lower, int):
        first = max(first, lower)
    if isinstance(upper, int):
        last = upper if last is None else min(last, upper)
    return first, last


CSV_COLUMNS = (
    "seq", "at", "actor_key_id", "actor_name", "actor_role", "action", "subject",
    "request_id", "payload", "prev_hash", "hash",
)  # fmt: skip


def csv_row(entry: AuditEntry) -> list[str]:
    """The entry as :data:`CSV_COLUMNS` (``payload`` as RFC 8785 JSON, null as empty)."""
    values = entry.to_dict()
    actor = values.pop("actor")
    values.update(actor_key_id=actor["key_id"], actor_name=actor["name"], actor_role=actor["role"])
    values["payload"] = rfc8785.dumps(entry.payload).decode()
    return ["" if values[c] is None else str(values[c]) for c in CSV_COLUMNS]


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


def verify_audit(store: Store, checks: Sequence[RowCheck] = ()) -> VerifyReport:
    """Walk the chain up to the head; report the first changed, deleted or reordered entry.

    When the chain holds, the rows it speaks for (decisions, API keys, ...) are
    then checked against the entries that recorded them
    (``checks``: :data:`adjudicator.verification.ROW_CHECKS`), so a changed or deleted
    decision, a key whose role was raised or whose revocation was undone in
    the database, or a row no entry recorded, is named too.

    Then the log is held to the newest checkpoint stored with it: cut below
    it, or rewritten under it (an entry edited and every hash after it
    recomputed), is named.

    The head is read first, then the entries up to its seq: entries appended
    meanwhile are outside this check, not errors.
    """
    newest = (
        select(CheckpointRow)
        .order_by(CheckpointRow.tree_size.desc(), CheckpointRow.id.desc())
        .limit(1)
    )
    with store.db.read() as session:
        if store.db.dialect == "postgresql":  # one snapshot: the head and the rows it speaks for
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)).scalar_one()
        head_seq, head_hash = head.seq, head.hash
        checkpoint = session.execute(newest).scalar_one_or_none()
        tree = Tree()
        size = 0 if checkpoint is None else checkpoint.tree_size
        checked, last_hash, broken = _walk(session, head_seq, tree, size)
        if broken is None and checked == head_seq and last_hash == head_hash:
            broken = _against_stored(checkpoint, head_seq, tree)
        if broken is None and checked == head_seq and last_hash == head_hash:
            mismatch = first_row_mismatch(session, head_seq, checks)
            if mismatch is not None:
                broken = Broken(*mismatch)
    if broken is None and checked < head_seq:
        detail = f"the head says {head_seq} entries but the log ends at {checked}"
        broken = Broken(checked + 1, "deleted", detail)
    if broken is None and last_hash != head_hash:
        broken = Broken(head_seq, "changed", "the last entry's hash differs from the chain head")
    return VerifyReport(checked, head_seq, head_hash, broken)


def _walk(
    session: Session, head_seq: int, tree: Tree | None = None, tree_size: int = 0
) -> tuple[int, str, Broken | None]:
    """Check entries 1..head_seq in order: (entries that hold, last good hash, first break).

    Entries 1..``tree_size`` that hold are added to ``tree`` on the way.
    """
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
            data = _row_bytes(row)
            broken = _check(session, row, expected_seq, prev, data)
            if broken is not None:
                return expected_seq - 1, prev, broken
            if tree is not None and row.seq <= tree_size:
                tree.append(data)
            expected_seq, prev = row.seq + 1, row.hash
    finally:
        result.close()
    return expected_seq - 1, prev, None


def _check(session: Session, row: Row[Any], seq: int, prev: str, data: bytes) -> Broken | None:
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
    if hashlib.sha256(row.prev_hash.encode() + data).hexdigest() != row.hash:
        return Broken(seq, "changed", f"entry {seq} does not match its hash")
    return None


def _against_stored(checkpoint: CheckpointRow | None, head_seq: int, tree: Tree) -> Broken | None:
    """The log against the newest checkpoint stored with it: cut below it, or rewritten under it.

    The stored checkpoint lives in the same database, so an intruder who also
    deletes it escapes this check; a copy kept elsewhere
    (``audit verify --checkpoint``) does not let them.
    """
    if checkpoint is None:
        return None
    size, name = checkpoint.tree_size, f"stored checkpoint {checkpoint.id}"
    try:
        signed = open_checkpoint(checkpoint.note, Verifier.parse(checkpoint.verifier_key))
    except NoteError as exc:
        return Broken(min(size, head_seq), "changed", f"{name} does not verify: {exc}")
    if (signed.size, signed.root.hex()) != (size, checkpoint.root_hash):
        return Broken(min(size, head_seq), "changed", f"{name} differs from its signed note")
    if head_seq < size:
        detail = f"the log was cut below {name}: it signed {size} entries, the log holds {head_seq}"
        return Broken(head_seq + 1, "deleted", detail)
    if tree.root(size) != signed.root:
        detail = (
            f"the log was rewritten under {name}: entries 1..{size} no longer hash to its "
            "signed root"
        )
        return Broken(size, "changed", detail)
    return None
