"""An engine fault in one decision is an error for that decision only.

The fault is forced inside a rule action; the decision raises EngineError
(with the cause chained), its session is gone, and the next decisions are
right. A MemoryError from the core asks for the process to be recycled.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

import adjudicator.core.context as context_module
import adjudicator.core.engine as engine_module
from adjudicator import Adjudicator, EngineError, load_catalog

WE_1 = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / load_catalog().active_version
    / "WE-1-never-shipped.json"
)


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
