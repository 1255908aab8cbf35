"""The core commands: ``adjudicator decide``, ``regress`` and ``rules list``."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from adjudicator import load_catalog
from adjudicator.cli import main

ACTIVE = load_catalog().active_version
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WE_1 = FIXTURES / ACTIVE / "WE-1-never-shipped.json"


def test_decide_prints_the_decision_document(tmp_path: Path) -> None:
    case = orjson.loads(WE_1.read_bytes())["case"]
    del case["case_id"], case["as_of"]  # the CLI supplies what a caller may omit
    path = tmp_path / "case.json"
    path.write_bytes(orjson.dumps(case))
    result = CliRunner().invoke(main, ["decide", str(path)])
    assert result.exit_code == 0, result.output
    decision = orjson.loads(result.stdout)
    assert decision["outcome"] == "upheld_full"
    assert decision["refund"] == {"amount": "20000.00", "currency": "USD"}
    assert decision["case_id"].startswith("case-")
    assert decision["ruleset"]["version"] == ACTIVE


def test_decide_reads_standard_input_and_names_a_version() -> None:
    case = orjson.loads(WE_1.read_bytes())["case"]
    result = CliRunner().invoke(
        main, ["decide", "-", "--ruleset", ACTIVE], input=orjson.dumps(case)
    )
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["outcome"] == "upheld_full"


def test_decide_an_invalid_case_exits_2_with_field_errors() -> None:
    case = orjson.loads(WE_1.read_bytes())["case"]
    case["order"]["lines"][0]["quantity"] = -1
    case["claim"]["ground"] = "weather"
    result = CliRunner().invoke(main, ["decide", "-"], input=orjson.dumps(case))
    assert result.exit_code == 2
    errors = orjson.loads(result.stdout)["errors"]
    assert set(errors) == {"order.lines.0.quantity", "claim.ground"}


def test_decide_an_unknown_ruleset_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["decide", str(WE_1), "--ruleset", "1999.9"])
    assert result.exit_code == 1
    assert "unknown ruleset version '1999.9'" in result.output


def test_regress_passes_the_corpus_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        main, ["regress", str(FIXTURES / ACTIVE), "--jobs", "2", "--junit", str(junit)]
    )
    assert result.exit_code == 0, result.output
    assert "Every rule was exercised." in result.output
    assert "0 failed" in result.output
    assert 'failures="0"' in junit.read_text()


def test_regress_without_paths_runs_the_versions_own_fixtures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES.parent)
    result = CliRunner().invoke(main, ["regress", "--ruleset", ACTIVE])
    assert result.exit_code == 0, result.output
    count = len(list((FIXTURES / ACTIVE).glob("*.json")))
    assert f"{count} passed, 0 failed" in result.output
    assert f"Regression against trade_assurance {ACTIVE}" in result.output


def test_regress_of_a_version_without_fixtures_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["regress"])
    assert result.exit_code == 1
    assert "fixtures: no such file or folder" in result.output


def test_regress_fails_with_a_readable_difference(tmp_path: Path) -> None:
    fixture = orjson.loads(WE_1.read_bytes())
    fixture["expected"]["outcome"] = "denied"
    (tmp_path / "wrong.json").write_bytes(orjson.dumps(fixture))
    shutil.copy(FIXTURES / ACTIVE / "WE-4-filed-on-ship-by-date.json", tmp_path)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["regress", str(tmp_path), "--junit", str(junit)])
    assert result.exit_code == 1
    assert "outcome: expected denied, got upheld_full" in result.output
    assert "1 passed, 1 failed" in result.output
    assert "Rules never exercised:" in result.output
    assert 'failures="1"' in junit.read_text()


def test_rules_list_names_every_rule() -> None:
    result = CliRunner().invoke(main, ["rules", "list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for rule_id in ("ELIG-01", "SHIPX-01a", "CAP-04e", "TIME-02"):
        assert rule_id in result.output
