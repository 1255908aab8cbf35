"""``verify_audit`` holds console users and API keys to their entries: names, passwords, owners.

An intruder with SQL access swaps a user's password hash for one they know,
renames a user or a key, or moves a key to another user: each is named with
the entry it contradicts.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update

from adjudicator.audit import chain
from adjudicator.audit.log import list_audit
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.identity.keys import create_key
from adjudicator.identity.models import ApiKeyRow, UserRow
from adjudicator.identity.users import create_user
from adjudicator.verification import verify_audit

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")
PASSWORD = "correct horse battery"


def _users(store: Store) -> tuple[int, int]:
    alice = create_user(store, name="alice", role="staff", password=PASSWORD, actor=OPERATOR)
    bob = create_user(store, name="bob", role="staff", password="another password", actor=OPERATOR)
    return alice.user_id, bob.user_id


def _hash(store: Store, user_id: int) -> str:
    with store.db.read() as session:
        found = session.execute(select(UserRow.password_hash).where(UserRow.id == user_id))
        return str(found.scalar_one())


def test_untouched_users_and_keys_verify(store: Store) -> None:
    _users(store)
    create_key(store, role="staff", name="alice's key", actor=OPERATOR, user="alice")
    assert verify_audit(store).ok


def test_the_user_entries_record_a_digest_of_the_password_hash(store: Store) -> None:
    alice, _ = _users(store)
    (entry, _) = list_audit(store, action="user.created").items
    digest = hashlib.sha256(_hash(store, alice).encode("utf-8")).hexdigest()
    assert entry.payload["password_digest"] == f"sha256:{digest}"
    assert _hash(store, alice) not in str(entry.payload)


def test_a_swapped_password_hash_is_named(store: Store) -> None:
    alice, bob = _users(store)
    known = _hash(store, bob)  # the intruder knows bob's password
    with store.db.write() as session:
        session.execute(update(UserRow).where(UserRow.id == alice).values(password_hash=known))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (1, "changed")
    assert report.broken.detail == (
        f"user {alice} (alice) was changed after entry 1 recorded it: "
        "the password hash in the database is not the one the log recorded"
    )


def test_a_renamed_user_is_named(store: Store) -> None:
    _, bob = _users(store)
    with store.db.write() as session:
        session.execute(update(UserRow).where(UserRow.id == bob).values(name="mallory"))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (2, "changed")
    assert report.broken.detail == (
        f"user {bob} (mallory) was changed after entry 2 recorded it: "
        "name 'mallory' in the database, 'bob' in the log"
    )


def test_an_entry_written_before_the_digest_leaves_only_the_hash_unchecked(
    store: Store,
) -> None:
    """A user recorded the old way (no password_digest): name, role and lock are still held."""
    with store.db.write() as session:
        head = chain.lock_head(session)
        row = UserRow(name="carol", role="auditor", password_hash="$argon2id$old",
                      failed_logins=0, locked_until=None, created_at=store.clock())  # fmt: skip
        session.add(row)
        session.flush()
        old_payload = {"user_id": row.id, "name": "carol", "role": "auditor", "locked_until": None}
        chain.append(session, head, at=store.clock(), actor=OPERATOR, action="user.created",
                     subject=f"user:{row.id}", request_id=None, payload=old_payload)  # fmt: skip
        carol = row.id
    with store.db.write() as session:
        session.execute(update(UserRow).values(password_hash="$argon2id$new"))
    assert verify_audit(store).ok
    with store.db.write() as session:
        session.execute(update(UserRow).values(role="admin"))
    report = verify_audit(store)
    assert report.broken is not None
    assert report.broken.detail == (
        f"user {carol} (carol) was changed after entry 1 recorded it: "
        "role 'admin' in the database, 'auditor' in the log"
    )


def test_a_renamed_key_is_named(store: Store) -> None:
    key, _ = create_key(store, role="auditor", name="reporting", actor=OPERATOR)
    with store.db.write() as session:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key.key_id).values(name="ops"))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (1, "changed")
    assert report.broken.detail == (
        f"key {key.key_id}: its name was changed in the database from 'reporting' (entry 1) "
        "to 'ops' with no audit entry"
    )


def test_a_key_moved_to_another_user_is_named(store: Store) -> None:
    alice, bob = _users(store)
    key, _ = create_key(store, role="staff", name="alice's key", actor=OPERATOR, user="alice")
    assert key.user_id == alice
    with store.db.write() as session:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key.key_id).values(user_id=bob))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (3, "changed")
    assert report.broken.detail == (
        f"key {key.key_id}: its user was changed in the database from {alice} (entry 3) "
        f"to {bob} with no audit entry"
    )
