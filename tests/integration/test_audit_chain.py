"""The audit chain: appends verify; a changed, deleted or reordered entry is named.

Tampering is done straight in the database, as an intruder with SQL access would.
"""

from __future__ import annotations

import pytest
from servicekit import make_case
from sqlalchemy import delete, select, update

from adjudicator import Adjudicator
from adjudicator.audit.chain import canonical_parts, entry_hash
from adjudicator.audit.log import list_audit
from adjudicator.audit.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.decisions.service import create_decision
from adjudicator.identity.keys import create_key, revoke_key
from adjudicator.verification import verify_audit

SYSTEM = Actor(key_id="k-system", name="upstream", role="system")
OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def _fill(store: Store, adjudicator: Adjudicator, decisions: int = 5) -> None:
    info, _ = create_key(store, role="staff", name="alice", actor=OPERATOR)
    for _ in range(decisions):
        create_decision(store, adjudicator, make_case(), actor=SYSTEM, request_id="r-1")
    revoke_key(store, info.key_id, actor=OPERATOR)


def test_a_fresh_log_verifies(store: Store) -> None:
    report = verify_audit(store)
    assert report.ok and report.entries == 0 and report.head_hash == GENESIS_HASH


def test_every_write_is_an_entry_and_the_chain_verifies(
    store: Store, adjudicator: Adjudicator
) -> None:
    _fill(store, adjudicator)
    entries = list_audit(store, limit=200).items
    assert [e.action for e in entries] == ["key.created"] + ["decision.created"] * 5 + [
        "key.revoked"
    ]
    assert [e.seq for e in entries] == list(range(1, 8))
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    report = verify_audit(store)
    assert report.ok, report
    assert (report.entries, report.head_seq, report.head_hash) == (7, 7, entries[-1].hash)


def test_stored_hashes_match_the_documented_formula(store: Store, adjudicator: Adjudicator) -> None:
    _fill(store, adjudicator, decisions=1)
    for entry in list_audit(store).items:
        assert entry.hash == entry_hash(
            entry.prev_hash,
            seq=entry.seq,
            at=entry.at,
            actor_key_id=entry.actor_key_id,
            actor_name=entry.actor_name,
            actor_role=entry.actor_role,
            action=entry.action,
            subject=entry.subject,
            request_id=entry.request_id,
            payload=entry.payload,
        )


def test_the_split_canonical_json_is_the_canonical_json(store: Store) -> None:
    from datetime import UTC, datetime

    import rfc8785

    from adjudicator.audit.chain import format_time

    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    payload = {"seq": 0, "subject": "x", "ü": ["\u0000", {"b": 1, "a": None}], "z": '"seq":1,'}
    prefix, suffix = canonical_parts(
        at=at, actor_key_id=None, actor_name="n", actor_role="admin", action="a",
        subject='s"\n', request_id="r",
        payload=payload,
    )  # fmt: skip
    fields = {
        "seq": 12345678901,
        "at": format_time(at),
        "actor": {"key_id": None, "name": "n", "role": "admin"},
        "action": "a",
        "subject": 's"\n',
        "request_id": "r",
        "payload": payload,
    }
    assert (prefix + "12345678901" + suffix).encode() == rfc8785.dumps(fields)


def _row(store: Store, seq: int) -> AuditEntryRow:
    with store.db.read() as session:
        return session.execute(select(AuditEntryRow).where(AuditEntryRow.seq == seq)).scalar_one()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", {"decision_id": "forged", "outcome": "denied"}),
        ("actor_name", "somebody else"),
        ("action", "decision.overridden"),
        ("hash", "f" * 64),
    ],
)
def test_a_changed_entry_is_named(
    store: Store, adjudicator: Adjudicator, column: str, value: object
) -> None:
    _fill(store, adjudicator)
    with store.db.write() as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 4).values({column: value}))
    report = verify_audit(store)
    assert not report.ok
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (4, "changed")
    assert report.entries == 3


def test_a_deleted_entry_is_named(store: Store, adjudicator: Adjudicator) -> None:
    _fill(store, adjudicator)
    with store.db.write() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 3))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (3, "deleted")


def test_a_deleted_last_entry_is_named(store: Store, adjudicator: Adjudicator) -> None:
    _fill(store, adjudicator)
    with store.db.write() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 7))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (7, "deleted")


def test_deleting_the_tail_and_rewinding_the_head_is_still_seen(
    store: Store, adjudicator: Adjudicator
) -> None:
    _fill(store, adjudicator)
    sixth = _row(store, 6)
    with store.db.write() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 7))
        session.execute(update(AuditHeadRow).values(seq=6, hash="0" * 64))
    report = verify_audit(store)
    assert report.broken is not None
    assert report.broken.seq == 6  # the head no longer matches the last entry's hash
    assert sixth.hash != "0" * 64


def test_two_swapped_entries_are_named(store: Store, adjudicator: Adjudicator) -> None:
    _fill(store, adjudicator)
    with store.db.write() as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 3).values(seq=-1))
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 5).values(seq=3))
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == -1).values(seq=5))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (3, "reordered")
    assert "stored as entry 5" in report.broken.detail


def test_the_log_pages_in_chain_order(store: Store, adjudicator: Adjudicator) -> None:
    _fill(store, adjudicator)
    seen, cursor = [], None
    while True:
        page = list_audit(store, cursor=cursor, limit=3)
        seen += [e.seq for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(range(1, 8))
    created = list_audit(store, action="decision.created").items
    assert len(created) == 5
    only = list_audit(store, subject=created[0].subject).items
    assert [e.seq for e in only] == [created[0].seq]
