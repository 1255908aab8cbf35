"""Spec v1.2, clarification 24: the loss of a breach is never above the order's value.

Goods shipped above the order (an over-shipment, a lost over-shipment, one line
in several late shipments) and a claim naming more than was ordered add no loss.
The cases come from the hit-policy search's own generator
(:func:`adjudicator.analysis.casegen.valid_cases`), which draws exactly those goods;
every version that implements spec v1.2 (2024.3 and later) must keep the bound,
and the run shows that 2024.2 (spec v1.1) does not, so the property is not vacuous.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from adjudicator import Adjudicator, load_catalog
from adjudicator.analysis.casegen import valid_cases
from adjudicator.core.money import exponent

CATALOG = load_catalog()
SPEC_V12 = [v for v in CATALOG.versions if tuple(map(int, v.split("."))) >= (2024, 3)]
"""The versions that implement spec v1.2 (clarifications 22-24): 2024.3 and later."""


def _order_value(case: dict[str, Any]) -> Decimal:
    """Σ quantity × unit price, rounded half-up to the currency's minor unit."""
    order = case["order"]
    value = sum(
        (Decimal(line["quantity"]) * Decimal(line["unit_price"]) for line in order["lines"]),
        Decimal(0),
    )
    quantum = Decimal(1).scaleb(-(exponent(order["currency"]) or 0))
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _beyond_the_order(case: dict[str, Any]) -> bool:
    """Does the case ship, lose or claim more of some line than was ordered?"""
    ordered = {line["line_id"]: line["quantity"] for line in case["order"]["lines"]}
    shipped: Counter[str] = Counter()
    for shipment in case["shipments"]:
        for item in shipment["lines"]:
            shipped[item["line_id"]] += item["quantity"]
    named = {i["line_id"]: i["quantity"] for i in case["claim"].get("affected_lines") or []}
    return any(shipped[k] > q or named.get(k, 0) > q for k, q in ordered.items())


@pytest.mark.parametrize("version", SPEC_V12)
def test_the_loss_never_exceeds_the_orders_value(version: str) -> None:
    adjudicator = Adjudicator(CATALOG)
    seen: Counter[str] = Counter()

    @settings(
        max_examples=400,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(valid_cases())
    def run(case: dict[str, Any]) -> None:
        value = _order_value(case)
        decided = adjudicator.decide(case, version).to_dict()
        loss = Decimal(decided["money"]["loss"])
        assert loss <= value, (loss, value, case)
        assert Decimal(decided["refund"]["amount"]) <= value
        if decided["outcome"] not in ("upheld_full", "upheld_partial"):
            return
        seen["upheld"] += 1
        if _beyond_the_order(case):
            seen["upheld beyond the order"] += 1
            earlier = adjudicator.decide(case, "2024.2").to_dict()
            if Decimal(earlier["money"]["loss"]) > value:
                seen["2024.2 above the order's value"] += 1

    run()
    assert seen["upheld"] >= 100, seen
    assert seen["upheld beyond the order"] >= 20, seen
    assert seen["2024.2 above the order's value"] >= 10, seen  # the bound is v1.2's
