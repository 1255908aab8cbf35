"""An engine fault in one decision is an error for that decision only.

The fault is forced inside a rule action; the decision raises EngineError
(with the cause chained), its session is gone, and the next decisions are
right. A MemoryError from the core asks for the process to be recycled. A valid
case that reaches no outcome raises NoOutcome naming its digest and stage.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

import adjudicator.core.context as context_module
import adjudicator.core.engine as engine_module
from adjudicator import Adjudicator, EngineError, NoOutcome, case_digest, load_catalog
from adjudicator.analysis.overlaps import VersionData
from adjudicator.core.loader import build_ruleset, default_rules_dir
from adjudicator.core.rules.model import Catalog

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / load_catalog().active_version
WE_1 = FIXTURES / "WE-1-never-shipped.json"
LOST_NOTHING = FIXTURES / "LOSS-06-lost-shipment-lists-quantity-0.json"


def _base_case() -> dict[str, Any]:
    case: dict[str, Any] = orjson.loads(WE_1.read_bytes())["case"]
    return case


@pytest.fixture(scope="module")
def adjudicator() -> Adjudicator:
    return Adjudicator()


def test_action_fault_raises_engine_error_and_leaves_nothing(
    adjudicator: Adjudicator, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = adjudicator.decide(_base_case()).to_dict()

    def broken(start: Any, days: int) -> Any:
        raise ZeroDivisionError("forced fault")

    monkeypatch.setattr(context_module, "add_business_days", broken)
    with pytest.raises(EngineError) as caught:
        adjudicator.decide(_base_case())
    assert "TIME-02" in str(caught.value)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    assert not caught.value.recycle
    monkeypatch.undo()

    sids = [str(sid) for sid in range(1, 51)]
    assert adjudicator.engine.live_sessions(adjudicator.catalog.active, sids) == []
    for _ in range(3):
        assert adjudicator.decide(_base_case()).to_dict() == good


def test_memory_error_asks_for_recycling(
    adjudicator: Adjudicator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(handle: Any, facts: str) -> Any:
        raise MemoryError

    monkeypatch.setattr(engine_module._core, "assert_facts", exhausted)
    with pytest.raises(EngineError) as caught:
        adjudicator.decide(_base_case())
    assert caught.value.recycle


def test_more_decisions_than_live_sessions_allowed(adjudicator: Adjudicator) -> None:
    """durable-rules allows 1,024 live sessions per ruleset: a leak fails here."""
    case = _base_case()
    other = copy.deepcopy(case)
    other["claim"]["filed_at"] = "2024-04-15T10:00:00Z"
    first = [adjudicator.decide(c).to_dict() for c in (case, other)]
    for index in range(1500):
        decided = adjudicator.decide(case if index % 2 == 0 else other).to_dict()
        assert decided == first[index % 2]


def test_a_case_reaching_no_outcome_names_its_digest_and_stage(adjudicator: Adjudicator) -> None:
    """Clarification 22: 2024.2 has no rule for a breach that affects no goods (a lost
    shipment listing its line with quantity 0); its later versions deny the claim."""
    case: dict[str, Any] = orjson.loads(LOST_NOTHING.read_bytes())["case"]
    with pytest.raises(NoOutcome) as caught:
        adjudicator.decide(case, "2024.2")
    gap = caught.value
    assert isinstance(gap, EngineError) and not gap.recycle
    assert (gap.version, gap.stage, gap.finding) == ("2024.2", "loss", "breach")
    assert gap.case_digest == case_digest(case)
    assert "reached no outcome" in str(gap) and "loss stage" in str(gap)
    assert adjudicator.decide(case).outcome == "denied"


def test_no_outcome_in_the_breach_stage_names_that_stage() -> None:
    data = VersionData.read(default_rules_dir() / "trade_assurance" / load_catalog().active_version)
    rules = [r for r in data.rules_doc["rules"] if r["id"] != "RECV-03"]
    edited = build_ruleset(
        name=data.name,
        version="edited",
        digest="sha256:edited",
        rules_doc={**data.rules_doc, "rules": rules},
        parameters=data.parameters,
        aql_doc=data.aql_doc,
        reasons_doc=data.reasons_doc,
    )
    case = _base_case()  # not received, and no transit loss recorded: RECV-03's case
    case["claim"].update(ground="not_received", filed_at="2024-05-25T10:00:00Z")
    case["as_of"] = "2024-05-30T12:00:00Z"
    with pytest.raises(NoOutcome) as caught:
        Adjudicator(Catalog(data.name, "edited", {"edited": edited})).decide(case)
    assert (caught.value.stage, caught.value.finding) == ("breach", "none")
