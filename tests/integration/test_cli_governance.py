"""``adjudicator replay`` and ``adjudicator rules request-activation|approve|rollback|active``."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from governkit import CANDIDATE, CHANGED, UNCHANGED, make_rules_root, seed
from servicekit import KEY_SECRET, open_test_store

from adjudicator import Adjudicator, load_catalog
from adjudicator.audit.log import list_audit
from adjudicator.cli import main
from adjudicator.db.actor import Actor
from adjudicator.identity.keys import create_key

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
        "ADJUDICATOR_RULES_DIR": str(make_rules_root(tmp_path / "rules")),
    }


def _run(env: dict[str, str], *args: str, key: str | None = None) -> tuple[int, str, str]:
    full = {**env, "ADJUDICATOR_API_KEY": key} if key else env
    result = CliRunner().invoke(main, list(args), env=full, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_replay_then_request_approve_and_roll_back(env: dict[str, str], tmp_path: Path) -> None:
    assert _run(env, "db", "upgrade")[0] == 0
    store = open_test_store(env["DATABASE_URL"])
    adjudicator = Adjudicator(load_catalog(Path(env["ADJUDICATOR_RULES_DIR"])))
    seed(store, adjudicator)
    alice = create_key(store, role="admin", name="alice", actor=OPERATOR)[1]
    bob = create_key(store, role="admin", name="bob", actor=OPERATOR)[1]
    staff = create_key(store, role="staff", name="sam", actor=OPERATOR)[1]
    default = adjudicator.catalog.get(None).version

    changes = tmp_path / "changes.csv"
    code, out, err = _run(
        env, "replay", "--candidate", CANDIDATE, "--jobs", "1", "--json", "--csv", str(changes)
    )
    assert code == 0, err
    report = orjson.loads(out)
    assert (report["total"], report["changed"]) == (len(CHANGED) + len(UNCHANGED), len(CHANGED))
    assert report["digest"].startswith("sha256:") and report["replay_id"] in err
    with changes.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(CHANGED)
    code, out, _ = _run(env, "replay", "--candidate", CANDIDATE, "--jobs", "1")
    assert code == 0 and "transitions" in out and "rule-fire" in out

    request = (
        "rules",
        "request-activation",
        CANDIDATE,
        "--report",
        report["replay_id"],
        "--reason",
        "tighter band",
    )
    code, _, err = _run(env, *request, key=staff)
    assert code == 1 and "admin key is needed" in err
    code, out, err = _run(env, *request, key=alice)
    assert code == 0, err
    request_id = out.strip()
    code, _, err = _run(env, "rules", "approve", request_id, key=alice)
    assert code == 1 and "403" in err
    code, out, err = _run(env, "rules", "approve", request_id, key=bob)
    assert code == 0 and f"{CANDIDATE} is active" in out, err
    code, out, _ = _run(env, "rules", "active", "--json")
    assert orjson.loads(out)["version"] == CANDIDATE

    assert _run(env, "rules", "rollback", "--reason", "spike", key=alice)[0] == 0
    code, out, _ = _run(env, "rules", "active")
    assert out.startswith(default)
    code, _, err = _run(env, "rules", "rollback", "--reason", "again", key=alice)
    assert code == 1 and "409 nothing-to-roll-back" in err
    actions = [e.action for e in list_audit(store, limit=200).items]
    for action in (
        "ruleset.activation_requested",
        "ruleset.activation_approved",
        "ruleset.activated",
        "ruleset.rolled_back",
    ):
        assert action in actions
    store.close()


def test_replay_refuses_an_unknown_candidate_and_a_naive_time(env: dict[str, str]) -> None:
    code, _, err = _run(env, "replay", "--candidate", "nope")
    assert code == 1 and "nope" in err
    code, _, err = _run(env, "replay", "--candidate", CANDIDATE, "--from", "2024-01-01T00:00:00")
    assert code == 2 and "offset" in err
