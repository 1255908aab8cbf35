"""``verify_audit`` holds the API key rows to the chain's ``key.*`` entries.

An intruder with SQL access raises a key's role, or un-revokes a key, or adds
a key row by hand: each is named, with the entry it contradicts.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, update

from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.identity.keys import create_key, revoke_key
from adjudicator.identity.models import ApiKeyRow
from adjudicator.verification import verify_audit

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def _keys(store: Store) -> tuple[str, str]:
    alice, _ = create_key(store, role="staff", name="alice", actor=OPERATOR)
    bob, _ = create_key(store, role="auditor", name="bob", actor=OPERATOR)
    revoke_key(store, bob.key_id, actor=OPERATOR)
    return alice.key_id, bob.key_id


def test_untouched_keys_verify(store: Store) -> None:
    _keys(store)
    assert verify_audit(store).ok


def test_a_role_raised_in_the_database_is_named(store: Store) -> None:
    alice, _ = _keys(store)
    with store.db.write() as session:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == alice).values(role="admin"))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (1, "changed")
    assert f"key {alice}: its role was raised in the database from 'staff'" in report.broken.detail
    assert "'admin'" in report.broken.detail


def test_a_revocation_undone_in_the_database_is_named(store: Store) -> None:
    _, bob = _keys(store)
    with store.db.write() as session:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == bob).values(revoked_at=None))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (3, "changed")
    assert report.broken.detail == f"key {bob}: its revocation (entry 3) was undone in the database"


def test_a_key_inserted_or_deleted_behind_the_chain_is_named(store: Store) -> None:
    alice, _ = _keys(store)
    row = {
        "id": "planted00000", "name": "mallory", "role": "admin", "key_hash": "0" * 64,
        "created_at": store.clock(), "revoked_at": None,
    }  # fmt: skip
    with store.db.write() as session:
        session.execute(insert(ApiKeyRow).values(row))
    report = verify_audit(store)
    assert report.broken is not None and report.broken.problem == "unrecorded"
    assert report.broken.detail == "key planted00000 has no key.created entry"
    with store.db.write() as session:
        session.execute(delete(ApiKeyRow).where(ApiKeyRow.id.in_(["planted00000", alice])))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (1, "deleted")
