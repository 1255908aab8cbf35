"""The auditor's commands end to end on SQLite: checkpoint, verify against it, export,
receipts, and a backup that restores to a log the earlier checkpoint still vouches for."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from servicekit import KEY_SECRET, open_test_store
from sqlalchemy import delete, select, update

from adjudicator.audit.checkpoints import receipt
from adjudicator.audit.models import AuditEntryRow, AuditHeadRow
from adjudicator.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
        "ADJUDICATOR_AUDIT_ORIGIN": "adjudicator.test/audit",
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _keys(env: dict[str, str], *names: str) -> None:
    for name in names:
        assert _run(env, "keys", "create", "--role", "system", "--name", name)[0] == 0


def _checkpoint(env: dict[str, str], path: Path) -> str:
    code, note, err = _run(env, "audit", "checkpoint")
    assert code == 0, err
    path.write_text(note, encoding="utf-8")
    return note


def test_checkpoint_prints_a_signed_note_and_makes_the_key_0600(
    env: dict[str, str], tmp_path: Path
) -> None:
    _keys(env, "a", "b", "c")
    note = _checkpoint(env, tmp_path / "cp.txt")
    assert note.startswith("adjudicator.test/audit\n3\n") and "\n\n\u2014 adjudicator.test/" in note
    key_file = tmp_path / "cli.db.audit-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    code, verifier, _ = _run(env, "audit", "key")
    assert code == 0 and verifier.startswith("adjudicator.test/audit+")
    code, out, _ = _run(env, "audit", "verify", "--checkpoint", str(tmp_path / "cp.txt"))
    assert code == 0 and "checkpoint 3: ok" in out


def test_verify_names_a_cut_and_a_rewrite_against_a_kept_checkpoint(
    env: dict[str, str], tmp_path: Path
) -> None:
    _keys(env, "a", "b", "c", "d")
    _checkpoint(env, tmp_path / "cp.txt")
    _keys(env, "e")
    store = open_test_store(env["DATABASE_URL"])
    with store.db.read() as session:
        rows = session.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars().all()
    with store.db.write() as session:  # cut to 2 entries, head rolled back to match
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq > 2))
        rollback = {"seq": 2, "prev_hash": rows[0].hash, "hash": rows[1].hash}
        session.execute(update(AuditHeadRow).values(rollback))
    store.close()
    code, out, _ = _run(env, "audit", "verify", "--checkpoint", str(tmp_path / "cp.txt"))
    assert code == 1 and "checkpoint 4: cut" in out and "cut below the checkpoint" in out
    code, out, _ = _run(env, "audit", "verify", "--json", "--checkpoint", str(tmp_path / "cp.txt"))
    report = orjson.loads(out)
    assert report["ok"] is False and report["checkpoint"]["problem"] == "cut"


def test_a_checkpoint_signed_by_another_key_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    _keys(env, "a")
    note = _checkpoint(env, tmp_path / "cp.txt")
    other = dict(env, ADJUDICATOR_AUDIT_KEY_FILE=str(tmp_path / "other.pem"))
    code, stranger, _ = _run(other, "audit", "key")
    assert code == 0
    args = ("audit", "verify", "--checkpoint", str(tmp_path / "cp.txt"), "--key", stranger.strip())
    code, _, err = _run(env, *args)
    assert code == 1 and "does not verify" in err
    (tmp_path / "forged.txt").write_text(note.replace("\n1\n", "\n2\n"), encoding="utf-8")
    code, _, err = _run(env, "audit", "verify", "--checkpoint", str(tmp_path / "forged.txt"))
    assert code == 1 and "does not verify" in err


def test_export_verifies_with_no_database_and_a_tampered_line_is_named(
    env: dict[str, str], tmp_path: Path
) -> None:
    _keys(env, "a", "b", "c", "d")
    _checkpoint(env, tmp_path / "cp.txt")
    code, verifier, _ = _run(env, "audit", "key")
    export = tmp_path / "export.ndjson"
    assert _run(env, "audit", "export", "--format", "ndjson", "-o", str(export))[0] == 0
    lines = export.read_text(encoding="utf-8").splitlines()
    assert [orjson.loads(line)["seq"] for line in lines] == [1, 2, 3, 4]
    no_db = {"DATABASE_URL": "sqlite:////nonexistent/dir/x.db"}
    code, out, _ = _run(no_db, "audit", "verify", "--file", str(export))
    assert code == 0 and out.startswith("ok: 4 entries")
    args = ("--checkpoint", str(tmp_path / "cp.txt"), "--key", verifier.strip())
    assert _run(no_db, "audit", "verify", "--file", str(export), *args)[0] == 0
    shorter = tmp_path / "short.ndjson"
    shorter.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    code, out, _ = _run(no_db, "audit", "verify", "--file", str(shorter), *args)
    assert code == 1 and "cut below the checkpoint" in out

    edited = orjson.loads(lines[2])
    edited["actor"]["role"] = "auditor"  # the CLI operator acted as admin
    lines[2] = orjson.dumps(edited).decode()
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = _run(no_db, "audit", "verify", "--file", str(export))
    assert code == 1 and "entry 3 does not match its hash" in out

    code, out, _ = _run(env, "audit", "export", "--from", "2", "--to", "3")
    assert [orjson.loads(line)["seq"] for line in out.splitlines()] == [2, 3]
    (tmp_path / "part.ndjson").write_text(out, encoding="utf-8")
    code, out, _ = _run(no_db, "audit", "verify", "--file", str(tmp_path / "part.ndjson"))
    assert code == 0 and "taken on trust" in out
    code, out, _ = _run(env, "audit", "export", "--format", "csv", "--from", "2099-01-01T00:00Z")
    assert out.splitlines() == [
        "seq,at,actor_key_id,actor_name,actor_role,action,subject,request_id,payload,prev_hash,hash"
    ]
    code, out, _ = _run(env, "audit", "export", "--format", "csv", "--to", "2099-01-01T00:00Z")
    assert len(out.splitlines()) == 5 and ",admin,key.created," in out.splitlines()[1]


def test_verify_receipt_offline(env: dict[str, str], tmp_path: Path) -> None:
    _keys(env, "a", "b", "c")
    _checkpoint(env, tmp_path / "cp.txt")
    store = open_test_store(env["DATABASE_URL"])
    got = receipt(store, 2)
    store.close()
    assert got is not None
    path = tmp_path / "receipt.json"
    path.write_bytes(orjson.dumps(got))
    code, verifier, _ = _run(env, "audit", "key")
    code, out, err = _run({}, "audit", "verify-receipt", str(path), "--key", verifier.strip())
    assert code == 0 and "entry 2 is in the log" in out and "note:" not in err
    code, out, err = _run({}, "audit", "verify-receipt", str(path))
    assert code == 0 and "the key the receipt carries" in err
    got["entry"]["subject"] = "someone else"
    path.write_bytes(orjson.dumps(got))
    code, out, _ = _run({}, "audit", "verify-receipt", str(path), "--key", verifier.strip())
    assert code == 1 and "does not hold" in out


def test_a_restored_backup_verifies_against_a_checkpoint_taken_before(
    env: dict[str, str], tmp_path: Path
) -> None:
    _keys(env, "a", "b", "c")
    _checkpoint(env, tmp_path / "cp.txt")
    _keys(env, "d")
    backup = tmp_path / "backup.db"
    code, _, err = _run(env, "db", "backup", str(backup))
    assert code == 0 and "backed up" in err
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert _run(env, "db", "backup", str(backup))[0] == 1  # never over an existing file
    _keys(env, "e")  # the live database moves on

    restored = tmp_path / "restored" / "cli.db"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    code, verifier, _ = _run(env, "audit", "key")
    there = dict(env, DATABASE_URL=f"sqlite:///{restored}")
    args = ("--checkpoint", str(tmp_path / "cp.txt"), "--key", verifier.strip())
    code, out, _ = _run(there, "audit", "verify", *args)
    assert code == 0 and out.startswith("ok: 4 entries") and "checkpoint 3: ok" in out


def test_backup_of_postgresql_points_to_pg_dump(env: dict[str, str], tmp_path: Path) -> None:
    from adjudicator.audit.backup import BackupRefused, backup

    class Pg:
        class db:  # noqa: N801
            dialect = "postgresql"

    with pytest.raises(BackupRefused, match="pg_dump"):
        backup(Pg(), tmp_path / "x")  # type: ignore[arg-type]
