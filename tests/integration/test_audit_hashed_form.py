"""Every stored hash recomputed from the documented form, with nothing of the project's.

``docs/audit.md`` says: the entry is ``{"seq", "at", "actor": {"key_id",
"name", "role"}, "action", "subject", "request_id", "payload"}``, canonicalised
with RFC 8785; ``hash = sha256(prev_hash_hex_ascii + JCS(entry))``, the first
``prev_hash`` being 64 zeros. This test uses hashlib and rfc8785 only (and the
raw rows), so a hash formula that drops a field or ``prev_hash`` fails it, on
SQLite and on PostgreSQL's one-statement append alike.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

import rfc8785
from servicekit import make_case
from sqlalchemy import text

from adjudicator import Adjudicator
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.decisions.service import create_decision
from adjudicator.identity.keys import create_key, revoke_key

SYSTEM = Actor(key_id="k-system", name="upstream ünïcode 🚚", role="system")
OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def _recompute(rows: list[Any]) -> None:
    prev = "0" * 64
    for expected_seq, row in enumerate(rows, start=1):
        entry = {
            "seq": row.seq,
            "at": row.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": {"key_id": row.actor_key_id, "name": row.actor_name, "role": row.actor_role},
            "action": row.action,
            "subject": row.subject,
            "request_id": row.request_id,
            "payload": row.payload,
        }
        assert row.seq == expected_seq
        assert row.prev_hash == prev, f"entry {row.seq} does not link"
        digest = hashlib.sha256(prev.encode("ascii") + rfc8785.dumps(entry)).hexdigest()
        assert row.hash == digest, f"entry {row.seq}: stored {row.hash}, documented form {digest}"
        prev = digest


def test_every_stored_hash_follows_the_documented_form(
    store: Store, adjudicator: Adjudicator
) -> None:
    info, _ = create_key(store, role="staff", name="alice", actor=OPERATOR, request_id="req-ü")
    for _ in range(3):
        create_decision(store, adjudicator, make_case(), actor=SYSTEM, request_id="r-1")
    revoke_key(store, info.key_id, actor=OPERATOR)
    with store.db.read() as session:
        # the raw rows, as a third party with read access would take them
        from adjudicator.audit.models import AuditEntryRow

        rows = session.execute(
            text(
                "SELECT seq, at, actor_key_id, actor_name, actor_role, action, subject, "
                "request_id, payload, prev_hash, hash FROM audit_log ORDER BY seq"
            ).columns(*AuditEntryRow.__table__.c)
        ).all()
    assert len(rows) == 5
    assert {row.actor_role for row in rows} == {"admin", "system"}
    _recompute(rows)
