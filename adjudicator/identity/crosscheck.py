"""Every console user row against the audit entries that record its name, role, lock and password.

``user.created``, ``user.locked`` and ``user.unlocked`` carry the user's name,
role, ``locked_until`` and a digest of the password hash
(:func:`adjudicator.identity.users.password_digest`); the latest of them is what
the row must hold. A row whose name, role, lock or password hash differs
(changed in the database behind the chain's back), a recorded user whose row
is gone, and a row no entry recorded are named, like
:mod:`adjudicator.audit.crosscheck` does for decisions. Entries written before
the digest was recorded carry none: the password hash is then not compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.audit.chain import format_time
from adjudicator.audit.crosscheck import Mismatch, replay
from adjudicator.audit.models import AuditEntryRow
from adjudicator.identity.keys import ROLES
from adjudicator.identity.models import ApiKeyRow, UserRow
from adjudicator.identity.users import password_digest

if TYPE_CHECKING:
    from adjudicator.audit.crosscheck import Mismatch

USER_STATE_ACTIONS = ("user.created", "user.locked", "user.unlocked")
_BATCH = 500


def _recorded(session: Session, head_seq: int) -> dict[int, tuple[int, dict[str, Any]]]:
    """Each user's latest state entry: ``user_id -> (seq, payload)``."""
    recorded: dict[int, tuple[int, dict[str, Any]]] = {}
    result = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.payload)
        .where(AuditEntryRow.action.in_(USER_STATE_ACTIONS), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    try:
        for seq, payload in result:
            recorded[int(payload["user_id"])] = (seq, payload)
    finally:
        result.close()
    return recorded


def _differences(row: UserRow, payload: dict[str, Any]) -> list[str]:
    """What of ``row`` differs from ``payload``, each as ``what: database vs log``."""
    found: list[str] = []
    if "name" in payload and row.name != payload["name"]:
        found.append(f"name {row.name!r} in the database, {payload['name']!r} in the log")
    if row.role != payload.get("role"):
        found.append(f"role {row.role!r} in the database, {payload.get('role')!r} in the log")
    until = None if row.locked_until is None else format_time(row.locked_until)
    if until != payload.get("locked_until"):
        found.append(
            f"locked until {until} in the database, {payload.get('locked_until')} in the log"
        )
    wanted = payload.get("password_digest")  # absent from entries written before it was kept
    if wanted is not None and password_digest(row.password_hash) != wanted:
        found.append("the password hash in the database is not the one the log recorded")
    return found


def first_user_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The user row that disagrees with the log at the earliest entry (or None)."""
    recorded = _recorded(session, head_seq)
    problems: list[Mismatch] = []
    rows = session.execute(
        select(UserRow).order_by(UserRow.id).execution_options(yield_per=_BATCH)
    ).scalars()
    try:
        for row in rows:
            entry = recorded.pop(row.id, None)
            if entry is None:
                detail = f"user {row.id} ({row.name}) has no audit entry"
                problems.append((head_seq, "unrecorded", detail))
                continue
            seq, payload = entry
            changed = _differences(row, payload)
            if changed:
                detail = (
                    f"user {row.id} ({row.name}) was changed after entry {seq} recorded it: "
                    + "; ".join(changed)
                )
                problems.append((seq, "changed", detail))
    finally:
        rows.close()
    for user_id, (seq, _) in recorded.items():
        problems.append((seq, "deleted", f"user {user_id}, recorded by entry {seq}, is missing"))
    return min(problems, key=lambda p: p[0]) if problems else None


KEY_ACTIONS = ("key.created", "key.revoked")


def _rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else len(ROLES)


def first_key_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The first API key row that disagrees with the ``key.*`` entries (``(seq, problem, detail)``).

    Every mismatch is collected and the one at the earliest entry reported.
    """
    recorded = replay(session, head_seq, KEY_ACTIONS)
    rows = session.execute(
        select(
            ApiKeyRow.id, ApiKeyRow.name, ApiKeyRow.role, ApiKeyRow.revoked_at, ApiKeyRow.user_id
        ).order_by(ApiKeyRow.id)
    ).all()
    found = set()
    problems: list[Mismatch] = []
    for key_id, name, role, revoked_at, user_id in rows:
        found.add(key_id)
        entry = recorded.get(key_id)
        if entry is None or "key.created" not in entry.actions:
            problems.append((head_seq, "unrecorded", f"key {key_id} has no key.created entry"))
            continue
        created = entry.actions["key.created"]
        wanted = entry.fields.get("role")
        if role != wanted:
            how = "raised" if _rank(role) > _rank(str(wanted)) else "changed"
            detail = (
                f"key {key_id}: its role was {how} in the database from {wanted!r} "
                f"(entry {created}) to {role!r} with no audit entry"
            )
            problems.append((created, "changed", detail))
        if name != entry.fields.get("name"):
            detail = (
                f"key {key_id}: its name was changed in the database from "
                f"{entry.fields.get('name')!r} (entry {created}) to {name!r} with no audit entry"
            )
            problems.append((created, "changed", detail))
        # key.created entries written before keys were bound to users carry no user_id
        if "user_id" in entry.fields and user_id != entry.fields["user_id"]:
            detail = (
                f"key {key_id}: its user was changed in the database from "
                f"{entry.fields['user_id']!r} (entry {created}) to {user_id!r} with no audit entry"
            )
            problems.append((created, "changed", detail))
        revoked = entry.actions.get("key.revoked")
        if revoked is not None and revoked_at is None:
            detail = f"key {key_id}: its revocation (entry {revoked}) was undone in the database"
            problems.append((revoked, "changed", detail))
        elif revoked is None and revoked_at is not None:
            detail = f"key {key_id} is revoked in the database but no entry recorded it"
            problems.append((head_seq, "unrecorded", detail))
    for key_id, entry in recorded.items():
        if key_id not in found and "key.created" in entry.actions:
            detail = f"key {key_id}, created by entry {entry.actions['key.created']}, is missing"
            problems.append((entry.actions["key.created"], "deleted", detail))
    return min(problems, key=lambda p: p[0]) if problems else None
