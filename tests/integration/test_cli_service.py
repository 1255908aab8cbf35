"""The operator commands: db upgrade, keys create|list|revoke, audit verify (SQLite)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from servicekit import KEY_SECRET, open_test_store
from sqlalchemy import update

from adjudicator.audit.models import AuditEntryRow
from adjudicator.cli import main
from adjudicator.identity.keys import authenticate


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_keys_create_prints_the_key_once_and_it_works(env: dict[str, str]) -> None:
    code, out, err = _run(env, "keys", "create", "--role", "staff", "--name", "alice")
    assert code == 0
    token = out.strip()
    assert token.startswith("adj_") and "not shown again" in err
    store = open_test_store(env["DATABASE_URL"])
    actor = authenticate(store, token)
    assert actor is not None and (actor.name, actor.role) == ("alice", "staff")

    code, out, _ = _run(env, "keys", "list", "--json")
    (listed,) = [orjson.loads(line) for line in out.splitlines()]
    assert listed["name"] == "alice" and listed["revoked_at"] is None
    assert token not in out

    code, _, err = _run(env, "keys", "revoke", listed["key_id"])
    assert code == 0 and "revoked" in err
    assert authenticate(store, token) is None
    code, out, _ = _run(env, "keys", "list")
    assert code == 0 and "alice" in out
    assert _run(env, "keys", "revoke", "nosuchkey000")[0] == 1
    store.close()


def test_keys_create_refuses_an_unknown_role(env: dict[str, str]) -> None:
    code, _, err = _run(env, "keys", "create", "--role", "root", "--name", "x")
    assert code == 2 and "root" in err


def test_audit_verify_exits_0_then_1_naming_the_entry(env: dict[str, str]) -> None:
    assert _run(env, "db", "upgrade")[0] == 0
    for name in ("a", "b", "c"):
        _run(env, "keys", "create", "--role", "system", "--name", name)
    code, out, _ = _run(env, "audit", "verify")
    assert code == 0 and out.startswith("ok: 3 entries")

    store = open_test_store(env["DATABASE_URL"])
    with store.db.write() as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(actor_name="mallory")
        )
    store.close()
    code, out, _ = _run(env, "audit", "verify")
    assert code == 1 and "entry 2" in out and "changed" in out
    code, out, _ = _run(env, "audit", "verify", "--json")
    report = orjson.loads(out)
    assert code == 1 and report["first_bad"]["seq"] == 2 and report["ok"] is False


def test_audit_verify_on_an_uninitialised_database_says_so(env: dict[str, str]) -> None:
    code, _, err = _run(env, "audit", "verify")
    assert code == 1 and "db upgrade" in err
