"""Every console user row against the audit entries that record its role and lock.

``user.created``, ``user.locked`` and ``user.unlocked`` carry the user's role
and ``locked_until``; the latest of them is what the row must hold. A row whose
role or lock differs (changed in the database behind the chain's back), a
recorded user whose row is gone, and a row no entry recorded are named, like
:mod:`adjudicator.store.crosscheck` does for decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.store.chain import format_time
from adjudicator.store.models import AuditEntryRow
from adjudicator.store.users_models import UserRow

if TYPE_CHECKING:
    from adjudicator.store.crosscheck import Mismatch

USER_STATE_ACTIONS = ("user.created", "user.locked", "user.unlocked")


def first_user_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The first user row that disagrees with the log: ``(entry seq, problem, detail)``."""
    recorded: dict[int, tuple[int, dict[str, Any]]] = {}
    entries = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.payload)
        .where(AuditEntryRow.action.in_(USER_STATE_ACTIONS), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
    )
    for seq, payload in entries:
        recorded[int(payload["user_id"])] = (seq, payload)
    rows = {row.id: row for row in session.execute(select(UserRow).order_by(UserRow.id)).scalars()}
    for user_id, (seq, payload) in sorted(recorded.items(), key=lambda item: item[1][0]):
        row = rows.pop(user_id, None)
        if row is None:
            return seq, "deleted", f"user {user_id}, recorded by entry {seq}, is missing"
        until = None if row.locked_until is None else format_time(row.locked_until)
        if row.role != payload.get("role") or until != payload.get("locked_until"):
            detail = (
                f"user {user_id} ({row.name}) was changed after entry {seq} recorded it: "
                f"role {row.role!r}, locked until {until} in the database; "
                f"role {payload.get('role')!r}, locked until {payload.get('locked_until')} "
                "in the log"
            )
            return seq, "changed", detail
    if rows:
        stray = min(rows)
        return head_seq, "unrecorded", f"user {stray} ({rows[stray].name}) has no audit entry"
    return None
