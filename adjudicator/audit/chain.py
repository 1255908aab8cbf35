"""Appending to the audit chain: the hashed form of an entry and the serialised append.

The hashed form (``docs/audit.md`` states it for third parties): the entry is
the JSON object ``{"seq", "at", "actor": {"key_id", "name", "role"}, "action",
"subject", "request_id", "payload"}`` canonicalised with RFC 8785 (JCS, the
``rfc8785`` package), UTF-8; ``at`` is the fixed-width UTC time of
:func:`format_time`. Then

- ``hash = hex(sha256(prev_hash + JCS(entry)))``, ``prev_hash`` being the
  previous entry's hash as 64 ASCII hex digits (64 zeros before the first);
- the entry's Merkle leaf (:mod:`adjudicator.audit.merkle`) is ``JCS(entry)``.

Entries written before migration 0004 have no recorded role (``actor_role``
is NULL); they keep the form they were hashed in: the actor without ``role``,
serialised by :func:`adjudicator.core.canonical.canonical_json` (sorted keys, no
white space), which for their ASCII, integer-only fields is the same bytes.

Two ways in, producing the same chain:

- :func:`lock_head` + :func:`append` inside any write transaction: the head
  row is locked (``SELECT ... FOR UPDATE``; on SQLite the transaction holds
  the write lock from ``BEGIN IMMEDIATE``), the entry computed in Python.
- :func:`record`, the hot path: a new row plus its entry. On PostgreSQL it is
  one statement, its own transaction, that moves the head row (the update
  locks it; a concurrent writer waits and then sees the new head) and
  computes the hash in the server from the Python-built canonical JSON around
  the seq, so the lock is never held across a network round trip. On SQLite it
  is the transactional path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import rfc8785
from sqlalchemy import (
    JSON,
    Insert,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from adjudicator.audit.models import AuditEntryRow, AuditHeadRow
from adjudicator.core.canonical import canonical_json
from adjudicator.db.actor import Actor
from adjudicator.db.database import Database
from adjudicator.db.models import UtcDateTime

HEAD_ID = 1
_LOG: Table = AuditEntryRow.__table__  # type: ignore[assignment]
_HEAD: Table = AuditHeadRow.__table__  # type: ignore[assignment]
_LOCK_HEAD = (
    select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == bindparam("head_id")).with_for_update()
)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == bindparam("head_id"))
    .values(seq=bindparam("new_seq"), prev_hash=bindparam("old_hash"), hash=bindparam("new_hash"))
)
_INSERT_ENTRY = insert(_LOG)


def format_time(at: datetime) -> str:
    """The fixed-width UTC form of an entry's time that goes into its hash."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fields(
    at: datetime, actor_key_id: str | None, actor_name: str, actor_role: str | None,
    action: str, request_id: str | None, payload: Mapping[str, Any],
) -> dict[str, Any]:  # fmt: skip
    actor: dict[str, Any] = {"key_id": actor_key_id, "name": actor_name}
    if actor_role is not None:
        actor["role"] = actor_role
    return {
        "action": action,
        "actor": actor,
        "at": format_time(at),
        "payload": dict(payload),
        "request_id": request_id,
    }


def _canonical(fields: Mapping[str, Any], actor_role: str | None) -> bytes:
    if actor_role is None:  # written before 0004: the form it was hashed in
        return canonical_json(fields)
    return rfc8785.dumps(fields)


def entry_bytes(
    *,
    seq: int,
    at: datetime,
    actor_key_id: str | None,
    actor_name: str,
    actor_role: str | None,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> bytes:
    """The entry's canonical bytes: what its hash covers and what its Merkle leaf holds."""
    fields = _fields(at, actor_key_id, actor_name, actor_role, action, request_id, payload)
    fields["seq"] = seq
    fields["subject"] = subject
    return _canonical(fields, actor_role)


def json_entry_bytes(entry: Mapping[str, Any]) -> bytes:
    """The canonical bytes of an entry as the API and exports show it (``AuditEntry.to_dict``).

    Used where there is no database: receipts and exports verified offline.
    Raises ``KeyError``/``TypeError`` when a field is missing or malformed.
    """
    actor = entry["actor"]
    role = actor.get("role")
    fields: dict[str, Any] = {
        "action": entry["action"],
        "actor": {"key_id": actor["key_id"], "name": actor["name"]},
        "at": entry["at"],
        "payload": entry["payload"],
        "request_id": entry["request_id"],
        "seq": entry["seq"],
        "subject": entry["subject"],
    }
    if role is not None:
        fields["actor"]["role"] = role
    if not isinstance(fields["seq"], int) or not isinstance(fields["payload"], dict):
        raise TypeError("seq is an integer and payload an object")
    return _canonical(fields, role)


def canonical_parts(
    *,
    at: datetime,
    actor_key_id: str | None,
    actor_name: str,
    actor_role: str,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> tuple[str, str]:
    """The entry's canonical JSON split around the seq: ``prefix + str(seq) + suffix``.

    Sorted, the keys run action, actor, at, payload, request_id, seq, subject,
    so the seq is always the second-to-last member (JCS writes an integer in
    plain decimal, as PostgreSQL's ``seq::text`` does).
    """
    fields = _fields(at, actor_key_id, actor_name, actor_role, action, request_id, payload)
    head = rfc8785.dumps(fields)
    prefix = head[:-1].decode() + ',"seq":'
    suffix = ',"subject":' + rfc8785.dumps(subject).decode() + "}"
    return prefix, suffix


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor_key_id: str | None,
    actor_name: str,
    actor_role: str | None,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> str:
    """sha256 hex of ``prev_hash`` (ASCII hex) followed by the entry's canonical bytes."""
    data = entry_bytes(
        seq=seq, at=at, actor_key_id=actor_key_id, actor_name=actor_name,
        actor_role=actor_role, action=action, subject=subject, request_id=request_id,
        payload=payload,
    )  # fmt: skip
    return hashlib.sha256(prev_hash.encode() + data).hexdigest()


@dataclass(slots=True)
class Head:
    """The chain head as this transaction locked it; :func:`append` moves it on."""

    seq: int
    hash: str


def lock_head(session: Session) -> Head:
    """Lock the chain head for this transaction and return it.

    Call first in a write transaction: on PostgreSQL the row lock makes every
    other appender wait here until this transaction ends.
    """
    seq, digest = session.execute(_LOCK_HEAD, {"head_id": HEAD_ID}).one()
    return Head(seq, digest)


def append(
    session: Session,
    head: Head,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> None:
    """Add the next entry after ``head`` (locked by :func:`lock_head`) and move the head."""
    seq = head.seq + 1
    digest = entry_hash(
        head.hash,
        seq=seq,
        at=at,
        actor_key_id=actor.key_id,
        actor_name=actor.name,
        actor_role=actor.role,
        action=action,
        subject=subject,
        request_id=request_id,
        payload=payload,
    )
    entry = {
        "seq": seq,
        "at": at,
        "actor_key_id": actor.key_id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "action": action,
        "subject": subject,
        "request_id": request_id,
        "payload": dict(payload),
        "prev_hash": head.hash,
        "hash": digest,
    }
    session.execute(_INSERT_ENTRY, entry)
    moved = {"head_id": HEAD_ID, "new_seq": seq, "old_hash": head.hash, "new_hash": digest}
    session.execute(_MOVE_HEAD, moved)
    head.seq, head.hash = seq, digest


def record(
    db: Database,
    table: Table,
    row: Mapping[str, Any],
    *,
    at: datetime,
    actor: Actor,
    action: str,
    subject: str,
    request_id: str | None,
    payload: Mapping[str, Any],
) -> None:
    """Insert ``row`` into ``table`` and append its audit entry, atomically and in chain order.

    Raises SQLAlchemy's ``IntegrityError`` when ``row`` breaks a constraint
    (nothing is written then).
    """
    if db.dialect != "postgresql":
        with db.write() as session:
            head = lock_head(session)
            session.execute(insert(table), dict(row))
            append(
                session, head, at=at, actor=actor, action=action,
                subject=subject, request_id=request_id, payload=payload,
            )  # fmt: skip
        return
    prefix, suffix = canonical_parts(
        at=at,
        actor_key_id=actor.key_id,
        actor_name=actor.name,
        actor_role=actor.role,
        action=action,
        subject=subject,
        request_id=request_id,
        payload=payload,
    )
    params = {f"r_{name}": value for name, value in row.items()}
    params.update(
        head_id=HEAD_ID,
        e_prefix=prefix,
        e_suffix=suffix,
        e_at=at,
        e_actor_key_id=actor.key_id,
        e_actor_name=actor.name,
        e_actor_role=actor.role,
        e_action=action,
        e_subject=subject,
        e_request_id=request_id,
        e_payload=dict(payload),
    )
    with db.autocommit() as session:
        session.execute(_pg_record(table), params)


@cache
def _pg_record(table: Table) -> Insert:
    """``WITH moved AS (UPDATE head ... RETURNING), row AS (INSERT ...) INSERT INTO audit_log``."""
    next_seq = _HEAD.c.seq + 1
    text = _HEAD.c.hash + bindparam("e_prefix", type_=Text) + cast(next_seq, Text)
    text = text + bindparam("e_suffix", type_=Text)
    digest = func.encode(func.sha256(func.convert_to(text, "UTF8")), "hex")
    moved = (
        update(_HEAD)
        .where(_HEAD.c.id == bindparam("head_id"))
        .values(seq=next_seq, prev_hash=_HEAD.c.hash, hash=digest)
        .returning(_HEAD.c.seq, _HEAD.c.prev_hash, _HEAD.c.hash)
        .cte("moved")
    )
    stored = (
        insert(table)
        .values({c.name: bindparam(f"r_{c.name}", type_=c.type) for c in table.c})
        .cte("stored")
    )
    entry = select(
        moved.c.seq,
        bindparam("e_at", type_=UtcDateTime()),
        bindparam("e_actor_key_id", type_=String()),
        bindparam("e_actor_name", type_=String()),
        bindparam("e_actor_role", type_=String()),
        bindparam("e_action", type_=String()),
        bindparam("e_subject", type_=String()),
        bindparam("e_request_id", type_=String()),
        bindparam("e_payload", type_=JSON()),
        moved.c.prev_hash,
        moved.c.hash,
    )
    columns = ["seq", "at", "actor_key_id", "actor_name", "actor_role", "action", "subject",
               "request_id", "payload", "prev_hash", "hash"]  # fmt: skip
    return insert(_LOG).from_select(columns, entry).add_cte(stored)
