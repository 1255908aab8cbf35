"""The hit-policy search: overlaps and gaps in the breach, loss and refund stages,
found over generated valid cases and reported with a small example; an overlap
declared with ``overrides`` is not reported and the overriding rule wins."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from adjudicator import Adjudicator, load_catalog
from adjudicator.analysis.casegen import valid_cases
from adjudicator.analysis.overlaps import OverlapSearch, VersionData
from adjudicator.analysis.regression import check, load_fixtures, version_folder
from adjudicator.core.contract import load_case
from adjudicator.core.loader import build_ruleset, default_rules_dir
from adjudicator.core.rules.model import Catalog

CATALOG = load_catalog()
ROOT = default_rules_dir() / CATALOG.name
FIXTURES = version_folder(default_rules_dir().parent / "fixtures", CATALOG.active_version)


def _data(version: str) -> VersionData:
    return VersionData.read(ROOT / version)


def _with(data: VersionData, rule_id: str, **changes: Any) -> VersionData:
    rules_doc = copy.deepcopy(dict(data.rules_doc))
    for rule in rules_doc["rules"]:
        if rule["id"] == rule_id:
            rule.update(changes)
    return VersionData(
        data.name, f"{data.version}-edited", rules_doc, data.parameters, data.aql_doc
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_cases())
def test_the_generated_cases_are_valid(case: dict[str, Any]) -> None:
    load_case(case, aql_values=CATALOG.active.aql_values)


@pytest.mark.parametrize("version", CATALOG.versions)
def test_no_shipped_version_has_an_overlap_or_a_gap(version: str) -> None:
    assert OverlapSearch(_data(version)).search(max_examples=150) == []


def test_an_overlap_is_found_with_a_small_example() -> None:
    data = _data(CATALOG.active_version)
    loose = _with(
        data, "CAP-04a", when={"case": "", "state": "finding == 'priced' and loss <= cap"}
    )
    found = OverlapSearch(loose, stages=("refund",)).search(150)
    assert [(f.kind, f.stage, f.rules) for f in found] == [
        ("overlap", "refund", ("CAP-04a", "CAP-04b"))
    ]
    example = found[0].example
    assert "amount_claimed" in example["claim"]  # CAP-04b needs a claimed amount to hold
    assert len(example["order"]["lines"]) == 1 and len(example["payments"]) == 1  # shrunk
    assert (
        found[0]
        .sentence()
        .startswith("stage refund: CAP-04a and CAP-04b both hold for one valid case")
    )


def test_a_gap_is_found_with_a_small_example() -> None:
    data = _data(CATALOG.active_version)
    rules_doc = copy.deepcopy(dict(data.rules_doc))
    rules_doc["rules"] = [r for r in rules_doc["rules"] if r["id"] != "RECV-03"]
    edited = VersionData(data.name, "edited", rules_doc, data.parameters, data.aql_doc)
    found = OverlapSearch(edited, stages=("breach",)).search(150)
    assert [(f.kind, f.stage) for f in found] == [("gap", "breach")]
    example = found[0].example
    assert example["claim"]["ground"] == "not_received"  # RECV-03's case: no transit loss
    assert not any(s["transit_loss"] for s in example["shipments"])


def test_a_declared_override_is_not_reported_and_wins() -> None:
    data = _data(CATALOG.active_version)
    loose = _with(
        data, "CAP-04a", when={"case": "", "state": "finding == 'priced' and loss <= cap"}
    )
    declared = _with(loose, "CAP-04b", overrides=["CAP-04a"])
    found = OverlapSearch(declared).search(150)
    assert [f for f in found if set(f.rules) == {"CAP-04a", "CAP-04b"}] == []
    ruleset = build_ruleset(
        name=data.name,
        version="declared",
        digest="sha256:declared",
        rules_doc=declared.rules_doc,
        parameters=data.parameters,
        aql_doc=data.aql_doc,
        reasons_doc=data.reasons_doc,
    )
    adjudicator = Adjudicator(Catalog(data.name, "declared", {"declared": ruleset}))
    (fixture,) = load_fixtures([FIXTURES / "CAP-04b-amount-claimed-binds.json"])
    result = check(fixture, adjudicator)
    assert result.passed, result.differences  # loss 20,000 <= cap, yet the claimed 12,000 binds
