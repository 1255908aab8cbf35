"""The impact tally: classification, exact money figures, and merges that do not depend on order."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from adjudicator import Adjudicator
from adjudicator.analysis.impact import ImpactTally, changes_csv, finish, percentile, substance
from api.examples import WORKED_EXAMPLE_1

_ADJUDICATOR = Adjudicator()


def _decision(**changes: Any) -> dict[str, Any]:
    document = _ADJUDICATOR.decide(WORKED_EXAMPLE_1).to_dict()
    document.update(changes)
    return document


def _row(ident: str, document: dict[str, Any], at: str = "2026-01-01T00:00:00.000000Z") -> dict:
    return {
        "decision_id": ident,
        "case_id": "c",
        "created_at": at,
        "document": document,
        "case": copy.deepcopy(WORKED_EXAMPLE_1),
    }


def _refund(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def test_percentile_is_nearest_rank() -> None:
    values = [Decimal(n) for n in range(1, 101)]
    assert [percentile(values, p) for p in (50, 90, 99)] == [50, 90, 99]
    assert percentile([Decimal(7)], 99) == 7


def test_ids_times_and_trace_are_not_substance_but_reasons_are() -> None:
    base = _decision()
    assert substance(base) == substance(_decision(decision_id="x", decided_at="y", trace=[]))
    other = _decision(reasons=[{"code": "D_X", "rule": "R", "message": "m"}])
    assert substance(base) != substance(other)


def test_classification_and_figures() -> None:
    stored = _decision()
    tally = ImpactTally()
    tally.add(_row("a", stored), stored, stored)
    tally.add(
        _row("b", stored), stored, _decision(outcome="upheld_partial", refund=_refund("15000.00"))
    )
    tally.add(_row("c", stored), _decision(refund=_refund("1.00")), stored)  # drifted
    tally.add_error(_row("d", stored, "2025-12-31T00:00:00.000000Z"), "EngineError: boom")
    report = finish(tally)
    assert [report[k] for k in ("total", "unchanged", "changed", "errors", "drifted")] == [
        4,
        1,
        1,
        1,
        1,
    ]
    assert report["oldest_decision"].startswith("2025-12-31")
    assert report["transitions"] == {"upheld_full": {"upheld_full": 1, "upheld_partial": 1}}
    usd = report["refund_change"]["by_currency"]["USD"]
    assert (usd["cases"], usd["sum"], usd["mean"], usd["p50"]) == (
        2,
        "-5000.00",
        "-2500.00",
        "-5000.00",
    )
    assert report["largest_changes"][0]["decision_id"] == "b"
    assert changes_csv(tally).count("\n") == 2


def test_merging_chunks_in_any_order_gives_the_same_report() -> None:
    stored = _decision()
    parts = []
    for i in range(6):
        part = ImpactTally()
        amount = f"{10000 + i * 1000}.00"
        part.add(_row(f"id-{i}", stored), stored, _decision(refund=_refund(amount)))
        part.add(_row(f"drift-{i}", stored), _decision(refund=_refund("2.00")), stored)
        parts.append(part)
    forward, backward = ImpactTally(), ImpactTally()
    for part in parts:
        forward.merge(copy.deepcopy(part))
    for part in reversed(parts):
        backward.merge(copy.deepcopy(part))
    assert finish(forward) == finish(backward)
    assert changes_csv(forward) == changes_csv(backward)
