"""``adjudicator rules mutate``: each comparison (and formula operator) flipped one at
a time; every version's fixtures kill every mutant its data does not declare
equivalent."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adjudicator import Adjudicator, load_catalog
from adjudicator.analysis.mutate import (
    comparison_mutants,
    formula_mutants,
    mutations,
    run_mutants,
)
from adjudicator.analysis.overlaps import VersionData
from adjudicator.analysis.regression import fixture_versions, load_fixtures
from adjudicator.cli import main
from adjudicator.core.loader import default_rules_dir

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
VERSIONS = fixture_versions(ROOT / "fixtures")


def test_comparisons_flip_one_at_a_time() -> None:
    rule = {
        "id": "R-1",
        "when": {"case": "a > 1 and b <= c and ground == 'quality' and n == 0", "state": ""},
    }
    flips = [(m.kind, m.mutation) for m in comparison_mutants(rule)]
    assert flips == [
        ("comparison", "a > 1 -> a >= 1"),
        ("comparison", "b <= c -> b < c"),
        ("equality", "n == 0 -> n != 0"),  # a number: a boundary; an enum literal is not
    ]
    changed = next(iter(comparison_mutants(rule))).changed
    expected = "a >= 1 and b <= c and ground == 'quality' and n == 0"
    assert ast.dump(ast.parse(changed["when"]["case"])) == ast.dump(ast.parse(expected))
    assert rule["when"]["case"].startswith("a > 1")  # the original is untouched


def test_formula_operators_are_mutated_one_at_a_time() -> None:
    rule = {
        "id": "LOSS-04a",
        "when": {"case": ""},
        "action": "conclude",
        "outcome": "upheld_partial",
        "figures": {"loss": "value * min(days_late * params.percent, params.max) / 100"},
        "also": [{"reason": "C_X", "when": "a + b > c", "message": "a - b"}],
    }
    found = [m.mutation for m in formula_mutants(rule)]
    assert found == [
        "value * min(days_late * params.percent, params.max) / 100 -> "
        "value * min(days_late * params.percent, params.max) * 100",
        "value * min(days_late * params.percent, params.max) -> "
        "value / min(days_late * params.percent, params.max)",
        "min(days_late * params.percent, params.max) -> "
        "max(days_late * params.percent, params.max)",
        "days_late * params.percent -> days_late / params.percent",
        "a + b -> a - b",  # an also entry's when; its message is no formula
    ]
    assert all(m.kind == "formula" for m in formula_mutants(rule))
    last = list(formula_mutants(rule))[-1].changed
    assert last["also"][0] == {"reason": "C_X", "when": "a - b > c", "message": "a - b"}
    assert rule["also"][0]["when"] == "a + b > c"  # the original is untouched
    assert list(formula_mutants({"id": "X", "figures": {"assurance": "supplier_limit"}})) == []


def _run(version: str, rules_doc: Any = None, only: set[str] | None = None) -> Any:
    data = VersionData.read(default_rules_dir() / CATALOG.name / version)
    return run_mutants(
        name=data.name,
        version=version,
        rules_doc=rules_doc or data.rules_doc,
        parameters=data.parameters,
        aql_doc=data.aql_doc,
        reasons_doc=data.reasons_doc,
        fixtures=load_fixtures([VERSIONS[version]]),
        decider=Adjudicator,
        only_rules=only,
    )


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_boundary_is_pinned(version: str) -> None:
    """No undeclared survivor, no stale declaration. Slow for a unit test (10-25 s a
    version): each mutant decides the version's fixtures until one fails, and a
    survivor of the decisions is probed for overlaps on every fixture."""
    report = _run(version)
    survivors = [f"{r.mutation.rule}: {r.mutation.mutation}" for r in report.survivors]
    assert survivors == [], "boundaries no fixture pins (add a fixture or declare it)"
    assert report.stale == ()
    data = VersionData.read(default_rules_dir() / CATALOG.name / version)
    assert len(report.results) == len(mutations(data.rules_doc))


def test_an_undeclared_survivor_and_a_stale_declaration_are_reported() -> None:
    version = CATALOG.active_version
    data = VersionData.read(default_rules_dir() / CATALOG.name / version)
    declared = list(data.rules_doc["equivalent_mutants"])
    fee = next(e for e in declared if e["rule"] == "FEE-01")
    wrong = {
        "rule": "LATE-01a",
        "mutation": "ship_day > ship_by_day -> ship_day >= ship_by_day",
        "reason": "wrongly declared: a fixture kills it",
    }
    rules_doc = {
        **data.rules_doc,
        "equivalent_mutants": [*(e for e in declared if e is not fee), wrong],
    }
    report = _run(version, rules_doc, only={"FEE-01", "LATE-01a"})
    assert [r.mutation.mutation for r in report.survivors] == [fee["mutation"]]
    assert [s.rule for s in report.stale] == ["LATE-01a"]
    honoured = _run(version, only={"FEE-01"})
    assert [r.status for r in honoured.results] == ["equivalent"]
    assert honoured.results[0].equivalent is not None
    assert honoured.results[0].equivalent.reason.startswith("reimbursing an inspection fee of 0")


def test_a_mutant_that_makes_two_rules_hold_is_killed_by_the_hit_policy() -> None:
    report = _run("2024.1", only={"CAP-04b"})  # its CAP-04b tests the rounded loss
    by_mutation = {r.mutation.mutation: r for r in report.results}
    loose = by_mutation["loss > claim_limit -> loss >= claim_limit"]
    assert loose.status == "killed"
    assert loose.how.startswith("stage refund: CAP-04a and CAP-04b both hold")
    assert loose.killed_by == "CAP-04a-loss-equals-amount-claimed"


def test_rules_mutate_prints_the_counts() -> None:
    version = CATALOG.active_version
    result = CliRunner().invoke(
        main,
        ["rules", "mutate", version, "--fixtures", str(ROOT / "fixtures"), "--rule", "FEE-01"],
    )
    assert result.exit_code == 0, result.output
    assert (
        "comparison: 1 mutants, 0 killed (0 by the hit policy), 1 declared equivalent, 0 survived"
    ) in result.output
