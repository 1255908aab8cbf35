"""Hostile input straight into ``decide()``: a decision or InvalidCase, nothing else.

The contract tests fuzz ``load_case``; these go through the whole decision,
engine included, starting from every fixture case and replacing one value
anywhere in it. A value that crashed the engine (an integer beyond int64, a
division by zero, a fact with too many properties) would kill this process.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator import Adjudicator, InvalidCase, load_catalog

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / load_catalog().active_version
CASES = [orjson.loads(p.read_bytes())["case"] for p in sorted(FIXTURES.glob("*.json"))]

HOSTILE = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**400, 0, -1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["NaN", "Infinity", "-0", "1e400", "9" * 40, "0.000000001", ""])
    | st.text(max_size=30)
    | st.sampled_from(["2024-02-30", "2024-04-16T01:30:00", "9999-12-31", "2024-04-16T25:00:00Z"])
)
VALUES = st.recursive(
    HOSTILE,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def adjudicator() -> Adjudicator:
    return Adjudicator()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(case: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(case)
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def _decision_or_invalid(adjudicator: Adjudicator, doc: Any) -> None:
    try:
        decided = adjudicator.decide(doc)
    except InvalidCase as error:
        assert error.errors
        assert all(isinstance(m, str) and m for ms in error.errors.values() for m in ms)
    else:
        assert decided.outcome in {
            "not_eligible",
            "denied",
            "upheld_full",
            "upheld_partial",
            "manual_review",
        }
        orjson.dumps(decided.to_dict())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_anywhere_in_any_fixture(adjudicator: Adjudicator, data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES))
    path = data.draw(st.sampled_from(_paths(case)))
    _decision_or_invalid(adjudicator, _replace(case, path, data.draw(VALUES)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_extra_fields_anywhere(adjudicator: Adjudicator, data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES))
    dicts = [p for p in _paths(case) if isinstance(_get(case, p), dict)] + [()]
    path = data.draw(st.sampled_from(dicts))
    doc = copy.deepcopy(case)
    target = _get(doc, path)
    for index in range(data.draw(st.integers(1, 400))):
        target[f"extra_{index}"] = index
    _decision_or_invalid(adjudicator, doc)


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda c: c.update(order={"a": {"b": {"c": {}}}} | {"x" * 5: [[[[[]]]]]}),
            id="deep-nesting",
        ),
        pytest.param(
            lambda c: (
                c.update(payments=[c["payments"][0]] * 5000)
                if c["payments"]
                else c.update(payments=[{}] * 5000)
            ),
            id="huge-array",
        ),
        pytest.param(
            lambda c: c.update(shipments=[], inspections=[], prior_claims=[]), id="empty-arrays"
        ),
        pytest.param(
            lambda c: c["claim"].update(claim_id="索赔-🚢-\u202e-ü" * 10), id="unicode-id"
        ),
        pytest.param(
            lambda c: c["order"]["lines"][0].update(description="\u0000\ud800"), id="broken-unicode"
        ),
        pytest.param(lambda c: c["order"]["lines"][0].update(quantity=2**63), id="int64-overflow"),
        pytest.param(lambda c: c["order"].update(assurance_amount=float("nan")), id="nan-money"),
        pytest.param(
            lambda c: c["order"]["lines"][0].update(unit_price="1e999999"), id="exp-price"
        ),
    ],
)
def test_named_hostile_inputs(adjudicator: Adjudicator, mutate: Any) -> None:
    for case in CASES[:10]:
        doc = copy.deepcopy(case)
        mutate(doc)
        _decision_or_invalid(adjudicator, doc)


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": [value]}
    return value


def test_very_deep_nesting_is_invalid_not_a_recursion_crash(adjudicator: Adjudicator) -> None:
    doc = copy.deepcopy(CASES[0])
    doc["order"]["quality"] = _nested(5000)
    _decision_or_invalid(adjudicator, doc)
