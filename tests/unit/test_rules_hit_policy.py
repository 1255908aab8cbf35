"""The hit-policy search: overlaps and gaps in the breach, loss and refund stages,
found over generated valid cases and reported with a small example; an overlap
declared with ``overrides`` is not reported and the overriding rule wins. It finds
the gap spec v1.2 closed (clarification 22) in the version that still has it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from adjudicator import Adjudicator, NoOutcome, load_catalog
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


KNOWN_GAPS: dict[str, set[tuple[str, str, tuple[str, ...]]]] = {
    # spec v1.1 had no rule for a breach that affects no goods (a lost shipment listing
    # its line with quantity 0): 2024.2 stays as it decided; 2024.3 closes it (v1.2, 22)
    "2024.2": {("gap", "loss", ())},
}


@pytest.mark.parametrize("version", CATALOG.versions)
def test_no_shipped_version_has_an_overlap_or_a_gap(version: str) -> None:
    found = OverlapSearch(_data(version)).search(max_examples=150)
    assert {(f.kind, f.stage, f.rules) for f in found} <= KNOWN_GAPS.get(version, set())
    if version not in KNOWN_GAPS:
        assert found == []


def test_the_search_finds_a_valid_case_that_reaches_no_outcome() -> None:
    """Clarification 22: the search finds 2024.2's gap, a not_received claim under a
    D-term whose lost shipment lists nothing; 2024.2 reaches no outcome for its example
    and the active version denies it (LOSS-06)."""
    found = OverlapSearch(_data("2024.2"), stages=("loss",)).search(max_examples=300)
    assert [(f.kind, f.stage) for f in found] == [("gap", "loss")]
    assert found[0].sentence() == (
        "stage loss: a valid case waiting for this stage matches no rule"
    )
    example = found[0].example
    assert example["claim"]["ground"] == "not_received"
    assert example["order"]["incoterm"] in ("DAP", "DPU", "DDP")
    lost = [s for s in example["shipments"] if s["transit_loss"]]
    assert lost and all(item["quantity"] == 0 for s in lost for item in s["lines"])
    adjudicator = Adjudicator()
    with pytest.raises(NoOutcome) as caught:
        adjudicator.decide(example, "2024.2")
    assert caught.value.stage == "loss"
    decided = adjudicator.decide(example)
    assert decided.outcome == "denied"
    assert decided.reason_codes[-1] == "D_CLAIMED_GOODS_NOT_AFFECTED"


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
