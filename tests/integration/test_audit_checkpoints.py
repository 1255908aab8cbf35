"""Signed checkpoints anchor the chain: a cut or a rewrite under one is caught.

The intruder has SQL access (not the signing key): they delete the tail and
roll the head back, or edit an entry and rehash everything after it. Both
leave a chain that ``verify_audit`` alone accepts; both are caught against a
checkpoint taken before.
"""

from __future__ import annotations

import base64
import copy
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from servicekit import make_case
from sqlalchemy import delete, select, update

from adjudicator import Adjudicator, worker
from adjudicator.audit.chain import entry_hash
from adjudicator.audit.checkpoint_note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
)
from adjudicator.audit.checkpoints import (
    ChainUnsound,
    check_checkpoint,
    due,
    list_checkpoints,
    make_checkpoint,
    receipt,
)
from adjudicator.audit.models import AuditEntryRow, AuditHeadRow, CheckpointRow
from adjudicator.audit.receipts import verify_receipt
from adjudicator.audit.signing import AuditSettings, load_or_create_key
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.service import create_decision
from adjudicator.identity.keys import create_key
from adjudicator.settings import Settings
from adjudicator.verification import verify_audit

SYSTEM = Actor(key_id="k-system", name="upstream", role="system")
OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer("adjudicator.test/audit", load_or_create_key(tmp_path / "audit.pem"))


def _fill(store: Store, adjudicator: Adjudicator, decisions: int = 6) -> None:
    create_key(store, role="staff", name="alice", actor=OPERATOR)
    for _ in range(decisions):
        create_decision(store, adjudicator, make_case(), actor=SYSTEM, request_id="r-1")


def _rows(store: Store) -> list[AuditEntryRow]:
    with store.db.read() as session:
        return list(session.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars())


def _rehash_from(store: Store, first: int) -> None:
    """Recompute every hash from entry ``first`` on and move the head: a careful intruder."""
    rows = _rows(store)
    prev = rows[first - 2].hash if first > 1 else "0" * 64
    with store.db.write() as session:
        session.execute(
            update(AuditEntryRow)
            .where(AuditEntryRow.seq >= first)
            .values(
                prev_hash=AuditEntryRow.seq.cast(AuditEntryRow.prev_hash.type) + "-tmp",
                hash=AuditEntryRow.seq.cast(AuditEntryRow.hash.type) + "-tmp-h",
            )
        )  # unique columns: move them aside first
        for row in rows[first - 1 :]:
            digest = entry_hash(
                prev, seq=row.seq, at=row.at, actor_key_id=row.actor_key_id,
                actor_name=row.actor_name, actor_role=row.actor_role, action=row.action,
                subject=row.subject, request_id=row.request_id, payload=row.payload,
            )  # fmt: skip
            session.execute(
                update(AuditEntryRow)
                .where(AuditEntryRow.seq == row.seq)
                .values(prev_hash=prev, hash=digest)
            )
            head_prev, prev = prev, digest
        moved = {"seq": rows[-1].seq, "prev_hash": head_prev, "hash": prev}
        session.execute(update(AuditHeadRow).values(moved))


def _delete_checkpoints(store: Store) -> None:
    with store.db.write() as session:
        session.execute(delete(CheckpointRow))


def test_a_forged_stored_checkpoint_is_named(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    _fill(store, adjudicator, decisions=2)
    make_checkpoint(store, signer)
    assert verify_audit(store).ok
    with store.db.write() as session:
        session.execute(update(CheckpointRow).values(root_hash="0" * 64))
    broken = verify_audit(store).broken
    assert broken is not None and "differs from its signed note" in broken.detail
    with store.db.write() as session:
        session.execute(update(CheckpointRow).values(note="nonsense\n"))
    broken = verify_audit(store).broken
    assert broken is not None and "does not verify" in broken.detail


def test_a_checkpoint_is_a_signed_note_of_the_tree(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    _fill(store, adjudicator)
    made = make_checkpoint(store, signer)
    text, _, signature = made.note.partition("\n\n")
    origin, size, root = text.split("\n")
    assert (origin, size) == ("adjudicator.test/audit", "7")
    assert base64.b64decode(root).hex() == made.root_hash
    assert signature.startswith("\u2014 adjudicator.test/audit ") and signature.endswith("\n")
    assert len(base64.b64decode(signature.split(" ")[2])) == 4 + 64
    assert open_checkpoint(made.note, Verifier.parse(made.verifier_key)) == Checkpoint(
        "adjudicator.test/audit", 7, bytes.fromhex(made.root_hash)
    )
    assert [c.id for c in list_checkpoints(store)] == [made.id]
    assert check_checkpoint(store, open_checkpoint(made.note, signer.verifier)).ok


def test_another_key_does_not_open_the_note(
    store: Store, adjudicator: Adjudicator, signer: Signer, tmp_path: Path
) -> None:
    _fill(store, adjudicator, decisions=1)
    note = make_checkpoint(store, signer).note
    other = Signer(signer.name, load_or_create_key(tmp_path / "other.pem"))
    with pytest.raises(NoteError, match="no signature"):
        open_checkpoint(note, other.verifier)
    forged = note.replace("\n2\n", "\n3\n", 1)
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(forged, signer.verifier)


def test_cutting_the_tail_and_rolling_back_the_head_is_caught(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    _fill(store, adjudicator)
    kept = open_checkpoint(make_checkpoint(store, signer).note, signer.verifier)
    rows = _rows(store)
    with store.db.write() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq >= 6))
        gone = [row.subject for row in rows[5:]]  # and the decisions they recorded
        session.execute(delete(DecisionRow).where(DecisionRow.id.in_(gone)))
        session.execute(
            update(AuditHeadRow).values(seq=5, prev_hash=rows[3].hash, hash=rows[4].hash)
        )
    stored = verify_audit(store).broken  # the checkpoint stored beside the log tells
    assert stored is not None and (stored.seq, stored.problem) == (6, "deleted")
    assert "cut below stored checkpoint" in stored.detail
    with pytest.raises(ChainUnsound, match="below the last checkpoint"):
        make_checkpoint(store, signer)
    _delete_checkpoints(store)  # a careful intruder deletes that too
    assert verify_audit(store).ok  # the database alone can no longer tell
    report = check_checkpoint(store, kept)  # the copy kept elsewhere can
    assert (report.ok, report.problem) == (False, "cut")
    assert "cut below the checkpoint" in report.detail and "holds 5" in report.detail


def test_editing_an_entry_and_rehashing_after_it_is_caught(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    _fill(store, adjudicator)
    kept = open_checkpoint(make_checkpoint(store, signer).note, signer.verifier)
    with store.db.write() as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(request_id="r-forged")
        )
    _rehash_from(store, 2)
    stored = verify_audit(store).broken
    assert stored is not None and (stored.seq, stored.problem) == (7, "changed")
    assert "rewritten under stored checkpoint" in stored.detail
    with pytest.raises(ChainUnsound, match="no longer have the last checkpoint's root"):
        make_checkpoint(store, signer)
    _delete_checkpoints(store)
    assert verify_audit(store).ok  # the chain alone cannot tell
    report = check_checkpoint(store, kept)
    assert (report.ok, report.problem) == (False, "rewritten")
    assert "no longer hash to its signed root" in report.detail


def test_a_log_that_does_not_verify_is_not_signed(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    _fill(store, adjudicator, decisions=2)
    with store.db.write() as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(actor_name="mallory")
        )
    with pytest.raises(ChainUnsound, match="entry 2 does not match"):
        make_checkpoint(store, signer)
    assert list_checkpoints(store) == []


def test_a_receipt_verifies_and_fails_after_tampering(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    _fill(store, adjudicator)
    assert receipt(store, 3) is None  # no checkpoint yet
    make_checkpoint(store, signer)
    _fill(store, adjudicator, decisions=1)  # entries after the checkpoint
    assert receipt(store, 9) is None
    got = receipt(store, 3)
    assert got is not None
    assert (got["leaf_index"], got["tree_size"], got["entry"]["seq"]) == (2, 7, 3)
    assert verify_receipt(got, signer.verifier).ok
    self_keyed = verify_receipt(got)
    assert self_keyed.ok and self_keyed.key_from_receipt

    def tampered(change: Any) -> dict[str, Any]:
        copied = copy.deepcopy(got)
        change(copied)
        return copied

    entry = tampered(lambda r: r["entry"]["payload"].update(outcome="denied"))
    assert verify_receipt(entry, signer.verifier).problem == (
        "the entry does not match its own hash"
    )

    def rehashed(r: dict[str, Any]) -> None:  # changed, and its own hash made to fit
        from adjudicator.audit.chain import json_entry_bytes

        r["entry"]["payload"]["outcome"] = "denied"
        prev = r["entry"]["prev_hash"].encode()
        import hashlib

        r["entry"]["hash"] = hashlib.sha256(prev + json_entry_bytes(r["entry"])).hexdigest()

    assert "audit path does not lead" in str(verify_receipt(tampered(rehashed)).problem)
    flip = base64.b64encode(b"\x00" * 32).decode()
    path = tampered(lambda r: r["audit_path"].__setitem__(0, flip))
    assert "audit path does not lead" in str(verify_receipt(path, signer.verifier).problem)
    signature = tampered(lambda r: r.update(checkpoint=r["checkpoint"].replace("\n7\n", "\n8\n")))
    assert "does not verify" in str(verify_receipt(signature, signer.verifier).problem)
    index = tampered(lambda r: r.update(leaf_index=3))
    assert not verify_receipt(index, signer.verifier).ok


def test_every_entry_has_a_receipt(store: Store, adjudicator: Adjudicator, signer: Signer) -> None:
    _fill(store, adjudicator, decisions=10)
    make_checkpoint(store, signer)
    for seq in range(1, 12):
        got = receipt(store, seq)
        assert got is not None and verify_receipt(got, signer.verifier).ok, seq
    with store.db.write() as session:  # altered after the tree was built and cached
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 4).values(request_id="forged")
        )
    _rehash_from(store, 4)
    got = receipt(store, 4)
    assert got is not None and got["entry"]["request_id"] == "forged"
    assert "audit path does not lead" in str(verify_receipt(got, signer.verifier).problem)


def test_the_key_file_is_made_0600_once(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path).private_bytes_raw() == first.private_bytes_raw()


def test_the_key_file_defaults_beside_a_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert AuditSettings.from_env({}, url).key_file == tmp_path / "x.db.audit-key.pem"
    assert AuditSettings.from_env({}, "postgresql+psycopg://h/db").key_file is None
    env = {"ADJUDICATOR_AUDIT_KEY_FILE": str(tmp_path / "k")}
    assert AuditSettings.from_env(env, "postgresql+psycopg://h/db").key_file == tmp_path / "k"
    with pytest.raises(Exception, match="ADJUDICATOR_AUDIT_KEY_FILE"):
        AuditSettings.from_env({}, "postgresql+psycopg://h/db").signer()


def test_the_job_signs_every_n_entries_or_t_seconds(
    store: Store, adjudicator: Adjudicator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = AuditSettings(tmp_path / "k.pem", "adjudicator.test/audit", 3, 60.0)
    assert not due(store, settings)  # nothing to sign
    create_key(store, role="staff", name="a", actor=OPERATOR)
    assert not due(store, settings)  # one entry, one second old (the step clock)
    create_key(store, role="staff", name="b", actor=OPERATOR)
    create_key(store, role="staff", name="c", actor=OPERATOR)
    assert due(store, settings)  # three unsigned
    environ = {
        "ADJUDICATOR_AUDIT_KEY_FILE": str(tmp_path / "k.pem"),
        "ADJUDICATOR_CHECKPOINT_ENTRIES": "3",
        "ADJUDICATOR_CHECKPOINT_SECONDS": "60",
    }
    job = worker.all_jobs(Settings.from_env(environ))["audit.checkpoint"]  # as the worker runs it
    assert job(store) == 1
    assert job(store) == 0
    create_key(store, role="staff", name="d", actor=OPERATOR)
    assert job(store) == 0  # one unsigned, just written
    late = store.clock() + timedelta(seconds=61)
    object.__setattr__(store, "clock", lambda: late)
    assert job(store) == 1
    assert [c.tree_size for c in list_checkpoints(store)] == [4, 3]


def test_an_export_verifies_alone_and_against_a_checkpoint(
    store: Store, adjudicator: Adjudicator, signer: Signer
) -> None:
    import orjson

    from adjudicator.audit.log import export_bounds, iter_entries
    from adjudicator.audit.receipts import export_against, verify_export

    _fill(store, adjudicator, decisions=3)
    kept = open_checkpoint(make_checkpoint(store, signer).note, signer.verifier)
    _fill(store, adjudicator, decisions=1)
    lines = [orjson.dumps(e.to_dict()) for e in iter_entries(store)]
    report = verify_export(lines)
    assert report.ok and report.entries == 6
    assert export_against(report, kept) is None
    assert "cut below" in str(export_against(verify_export(lines[:3]), kept))
    first, last = export_bounds(store, "2", "3")
    assert [e.seq for e in iter_entries(store, first=first, last=last)] == [2, 3]
    at = [e.at for e in iter_entries(store)]
    first, last = export_bounds(store, at[1].isoformat(), at[4].isoformat())
    assert (first, last) == (2, 4)
