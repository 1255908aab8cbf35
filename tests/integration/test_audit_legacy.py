"""Entries written before migration 0004 keep the form they were hashed in.

Before 0004 an entry's hash covered the actor without a role, serialised as
sorted-key JSON by orjson. A log upgraded to 0004 keeps those entries
(``actor_role`` NULL), verifies, and continues with RFC 8785 entries that
record the role; checkpoints and receipts cover both kinds.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import orjson
from servicekit import open_test_store
from sqlalchemy import insert, update

from adjudicator.audit.checkpoint_note import Signer
from adjudicator.audit.checkpoints import make_checkpoint, receipt
from adjudicator.audit.log import list_audit
from adjudicator.audit.models import AuditEntryRow, AuditHeadRow
from adjudicator.audit.receipts import verify_receipt
from adjudicator.audit.signing import load_or_create_key
from adjudicator.db.actor import Actor
from adjudicator.identity.keys import create_key
from adjudicator.verification import verify_audit


def test_a_log_from_before_0004_still_verifies_and_goes_on(tmp_path: Path) -> None:
    store = open_test_store(f"sqlite:///{tmp_path / 'old.db'}")
    store.db.migrate("0003")
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    old = {
        "seq": 1,
        "at": "2026-11-30T12:00:00.000000Z",
        "actor": {"key_id": None, "name": "cli:old"},
        "action": "ruleset.activated",
        "subject": "2026.1",
        "request_id": None,
        "payload": {"version": "2026.1"},
    }
    digest = hashlib.sha256(b"0" * 64 + orjson.dumps(old, option=orjson.OPT_SORT_KEYS)).hexdigest()
    row = {
        "seq": 1, "at": at, "actor_key_id": None, "actor_name": "cli:old",
        "action": "ruleset.activated", "subject": "2026.1", "request_id": None,
        "payload": {"version": "2026.1"}, "prev_hash": "0" * 64, "hash": digest,
    }  # fmt: skip
    with store.db.write() as session:
        session.execute(insert(AuditEntryRow.__table__).values(row))
        session.execute(update(AuditHeadRow).values(seq=1, hash=digest))
    store.db.migrate()

    assert verify_audit(store).ok
    create_key(store, role="staff", name="alice", actor=Actor(None, "cli:new", "admin"))
    first, second = list_audit(store).items
    assert (first.actor_role, second.actor_role) == (None, "admin")
    assert verify_audit(store).ok
    signer = Signer("adjudicator.test/audit", load_or_create_key(tmp_path / "k.pem"))
    make_checkpoint(store, signer)
    for seq in (1, 2):
        got = receipt(store, seq)
        assert got is not None and verify_receipt(got, signer.verifier).ok
    store.close()
