"""Invariants of rules.md (spec v1.1) over generated ELIGIBLE cases, aimed at each outcome.

``tests/unit/test_properties.py`` draws any valid case, and most of those are
not eligible. Here the generator builds cases that pass every gate: every
ground, remedy and coverage, fixed and relative ship-by dates, covered and
uncovered payments, earlier refunds, partial and whole shipments, on time,
late, never or after the filing, narrowed by ``affected_lines`` or not. Each
property counts the cases of the outcome it is about and asserts it saw at
least 100 of them (the runs are derandomised, so the count is stable).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator import Adjudicator
from adjudicator.core.contract.records import REMEDIES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from spec_oracle import decide as oracle  # noqa: E402

EXPONENTS = {"USD": 2, "JPY": 0, "KWD": 3}
DAY0 = date(2024, 3, 1)
OFFSETS = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]
SHIPPING = ("non_shipment", "late_shipment")
UPHELD = ("upheld_full", "upheld_partial")
CAP_REASONS = {
    "C_CAPPED_AT_TA_AMOUNT",
    "C_CAPPED_AT_PAID",
    "C_CAP_REMAINING",
    "C_CAPPED_AT_CLAIMED",
}
SETTINGS = settings(
    max_examples=260,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

_adjudicator: Adjudicator | None = None


def _decide(case: dict[str, Any]) -> dict[str, Any]:
    global _adjudicator
    if _adjudicator is None:
        _adjudicator = Adjudicator()
    return _adjudicator.decide(case).to_dict()


def _ts(day: date, hour: int = 8, tz: timezone = UTC) -> str:
    moment = datetime(day.year, day.month, day.day, hour, 0, tzinfo=tz)
    return moment.isoformat().replace("+00:00", "Z")


def _shipment(sid: str, items: list[tuple[str, int]], day: date, **extra: Any) -> dict[str, Any]:
    return {
        "shipment_id": sid,
        "lines": [{"line_id": line, "quantity": qty} for line, qty in items],
        "transport_document": {"kind": "bill_of_lading", "on_board_on": day.isoformat()},
        **extra,
    }


ALL_GROUNDS = (*SHIPPING, "quality", "quantity_shortage", "not_received")
PATTERNS = ("none", "on_time", "late", "part_on_time", "part_late", "after_filing", "split")


@st.composite
def eligible_cases(
    draw: st.DrawFn,
    grounds: tuple[str, ...] = ALL_GROUNDS,
    patterns: tuple[str, ...] = PATTERNS,
) -> dict[str, Any]:
    """A valid case that passes every eligibility gate of rules.md.

    ``grounds`` and ``patterns`` (how a shipping claim's goods shipped; repeat
    one to weight it) aim the generator at an outcome.
    """
    currency = draw(st.sampled_from(sorted(EXPONENTS)))
    exp = EXPONENTS[currency]

    def money(low: int, high: int) -> str:
        return str(Decimal(draw(st.integers(low, high))).scaleb(-exp))

    lines = [
        {
            "line_id": f"L{i + 1}",
            "quantity": draw(st.sampled_from([1, 2, 7, 100, 2500])) + draw(st.integers(0, 50)),
            "unit_price": str(
                Decimal(draw(st.integers(1, 20_000))).scaleb(-draw(st.integers(0, 3)))
            ),
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    value = sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)
    scale = 10**exp

    def figure(*factors: str) -> str:
        """A money figure around the order's value (hypothesis favours small integers,
        which would make every cap bind): value x a factor, plus some minor units."""
        factor = Decimal(draw(st.sampled_from(factors or ("0.3", "0.8", "1", "1.3", "2.5"))))
        minor = int(value * factor * scale) + draw(st.integers(0, 99))
        return str(Decimal(max(minor, 1)).scaleb(-exp))

    ground = draw(st.sampled_from(grounds))
    coverage = draw(
        st.sampled_from(
            ["receipt_30d", "post_delivery", "pre_shipment"]
            if ground in SHIPPING or ground == "quality"
            else ["receipt_30d", "post_delivery"]
        )
    )
    partial = draw(st.booleans())
    order: dict[str, Any] = {
        "order_id": "PO-E",
        "currency": currency,
        "assurance_amount": figure(),
        "coverage": coverage,
        "buyer_confirmed_at": "2024-03-01T09:00:00Z",
        "supplier_confirmed_at": "2024-03-01T10:00:00Z",
        "incoterm": draw(st.sampled_from(["FOB", "CIF", "DAP", "DDP"])),
        "partial_shipments_allowed": partial,
        "lines": lines,
        "amendments": [],
    }
    if draw(st.integers(0, 3)) == 0:
        order["supplier_assurance_limit"] = figure()
    if draw(st.booleans()):
        order["quality"] = {
            "measurable_spec": True,
            "inspection_level": "II",
            "aql": {"critical": "0", "major": "2.5", "minor": "4.0"},
        }
    if draw(st.booleans()):
        order["delay_compensation"] = {"percent_per_day": "0.5", "max_percent": "5"}

    # payments: one covered payment always (an initial one, credited 2024-03-02), others
    # covered, to another account, after the filing, without funds, or charged back
    initial_day = DAY0 + timedelta(days=1)
    payments: list[dict[str, Any]] = [
        {
            "payment_id": "P1",
            "kind": "initial",
            "method": "tt",
            "amount": figure(),
            "credited_at": _ts(initial_day, 8, draw(st.sampled_from(OFFSETS))),
            "to_designated_account": True,
        }
    ]
    for index in range(draw(st.integers(0, 2))):
        pattern = draw(
            st.sampled_from(["covered", "other_account", "later", "no_funds", "refunded"])
        )
        payment: dict[str, Any] = {
            "payment_id": f"P{index + 2}",
            "kind": draw(st.sampled_from(["balance", "initial", "other"])),
            "method": "card",
            "amount": figure("0.2", "0.5", "1"),
            "credited_at": _ts(DAY0 + timedelta(days=draw(st.integers(2, 20)))),
            "to_designated_account": pattern != "other_account",
            "confirmed_without_funds": pattern == "no_funds",
        }
        if pattern == "later":
            payment["credited_at"] = _ts(DAY0 + timedelta(days=200))
        if pattern == "refunded":
            payment["chargeback"] = {
                "status": "refunded_to_buyer",
                "filed_at": "2024-04-01T00:00:00Z",
            }
        payments.append(payment)

    # ship-by: a fixed date, or relative to the covered initial payment
    if draw(st.booleans()):
        ship_by = DAY0 + timedelta(days=draw(st.integers(25, 45)))
        order["ship_by"] = {"date": ship_by.isoformat()}
    else:
        days = draw(st.integers(20, 45))
        order["ship_by"] = {"anchor": "initial", "days_after_payment": days}
        ship_by = initial_day + timedelta(days=days)

    ordered = [(line["line_id"], line["quantity"]) for line in lines]
    shipments: list[dict[str, Any]] = []
    inspections: list[dict[str, Any]] = []
    if ground in SHIPPING:
        filed = ship_by + timedelta(days=draw(st.integers(1, 40)))
        pattern = draw(st.sampled_from(patterns))
        early = ship_by - timedelta(days=draw(st.integers(0, 10)))
        late = ship_by + timedelta(days=draw(st.integers(1, (filed - ship_by).days)))
        if pattern == "on_time":
            shipments = [_shipment("S1", ordered, early)]
        elif pattern == "late":
            shipments = [_shipment("S1", ordered, late)]
        elif pattern in ("part_on_time", "part_late"):
            part = [(line, q // 2) for line, q in ordered if q // 2]  # at most half of each line
            if part:
                shipments = [_shipment("S1", part, early if pattern == "part_on_time" else late)]
        elif pattern == "after_filing":
            shipments = [_shipment("S1", ordered, filed + timedelta(days=3))]
        elif pattern == "split":
            first = [(line, q // 2) for line, q in ordered if q // 2]
            rest = [(line, q - q // 2) for line, q in ordered]
            shipments = [_shipment("S2", rest, late)]
            if first:
                shipments.insert(0, _shipment("S1", first, early))
    elif ground == "quality":
        if coverage == "pre_shipment":
            filed = ship_by - timedelta(days=draw(st.integers(0, 10)))
            stage = draw(st.sampled_from(["pre_shipment", "loading"]))
            inspected = filed - timedelta(days=1)
        else:
            shipped = ship_by - timedelta(days=draw(st.integers(0, 5)))
            received = shipped + timedelta(days=draw(st.integers(5, 20)))
            extra: dict[str, Any] = {"received_on": received.isoformat()}
            if coverage == "post_delivery":
                extra["customs_cleared_on"] = (received - timedelta(days=2)).isoformat()
            shipments = [_shipment("S1", ordered, shipped, **extra)]
            filed = received + timedelta(days=draw(st.integers(0, 12)))
            stage = "post_delivery"
            inspected = received
        if draw(st.integers(0, 5)):
            n = draw(st.sampled_from([13, 20, 32, 50, 80, 125, 200]))
            inspections.append(
                {
                    "inspection_id": "I1",
                    "company": draw(st.sampled_from(["SGS", "Bureau Veritas", "TÜV Rheinland"])),
                    "stage": stage,
                    "inspected_on": inspected.isoformat(),
                    "lot_size": 10_000,
                    "sample_size": n,
                    "defects": {
                        "critical": draw(st.integers(0, 1)),
                        "major": draw(st.integers(0, n // 4)),
                        "minor": draw(st.integers(0, n // 4)),
                    },
                    "fee": money(0, 500 * scale),
                }
            )
    elif ground == "quantity_shortage":
        shipped = ship_by - timedelta(days=draw(st.integers(0, 5)))
        received = shipped + timedelta(days=10)
        items = [
            {"line_id": line, "quantity": q, "received_quantity": draw(st.integers(0, q))}
            for line, q in ordered
        ]
        shipment = _shipment("S1", ordered, shipped, received_on=received.isoformat())
        shipment["lines"] = items
        shipments = [shipment]
        filed = received + timedelta(days=draw(st.integers(0, 30)))
    else:  # not_received
        shipped = ship_by - timedelta(days=draw(st.integers(0, 5)))
        shipments = [_shipment("S1", ordered, shipped, transit_loss=draw(st.booleans()))]
        filed = ship_by + timedelta(days=draw(st.integers(1, 60)))

    claim: dict[str, Any] = {
        "claim_id": "C-E",
        "ground": ground,
        "remedy": draw(st.sampled_from(REMEDIES)),
        "filed_at": _ts(filed, 12),
    }
    if draw(st.integers(0, 2)) == 0:
        chosen = draw(
            st.lists(st.sampled_from(lines), min_size=1, unique_by=lambda x: x["line_id"])
        )
        claim["affected_lines"] = [
            {"line_id": line["line_id"], "quantity": draw(st.integers(1, line["quantity"]))}
            for line in chosen
        ]
    if draw(st.integers(0, 3)) == 0:
        claim["amount_claimed"] = figure()
    prior = [
        {
            "claim_id": f"PC{i + 1}",
            "ground": "quality",
            "status": draw(st.sampled_from(["settled", "decided", "closed_no_response"])),
            "filed_at": "2024-03-20T00:00:00Z",
            "refund_granted": figure("0.1", "0.3", "1.5"),
        }
        for i in range(draw(st.integers(0, 2)) if draw(st.integers(0, 2)) == 0 else 0)
    ]
    return {
        "case_id": "ELIGIBLE",
        "as_of": _ts(filed + timedelta(days=draw(st.integers(0, 10))), 12),
        "order": order,
        "payments": payments,
        "shipments": shipments,
        "inspections": inspections,
        "claim": claim,
        "prior_claims": prior,
    }


def _run(
    check: Callable[[dict[str, Any], dict[str, Any]], str | None],
    strategy: st.SearchStrategy[dict[str, Any]] | None = None,
) -> Counter[str]:
    """Run ``check(case, decision)`` over the generated cases; count what it says it checked."""
    seen: Counter[str] = Counter()

    @SETTINGS
    @given(eligible_cases() if strategy is None else strategy)
    def run(case: dict[str, Any]) -> None:
        kind = check(case, _decide(case))
        if kind is not None:
            seen[kind] += 1

    run()
    return seen


def _amount(text: str) -> Decimal:
    return Decimal(text)


def _codes(doc: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in doc["reasons"]]


def test_eligible_cases_reach_every_outcome_but_not_eligible() -> None:
    def check(case: dict[str, Any], doc: dict[str, Any]) -> str:
        assert doc["outcome"] != "not_eligible", _codes(doc)
        return str(doc["outcome"])

    seen = _run(check)
    for outcome in ("upheld_full", "upheld_partial", "denied", "manual_review"):
        assert seen[outcome] >= 20, seen


def test_the_refund_never_exceeds_the_cap_covered_payments_or_amount_claimed() -> None:
    def check(case: dict[str, Any], doc: dict[str, Any]) -> str | None:
        refund = _amount(doc["refund"]["amount"])
        money = doc["money"]
        if doc["outcome"] not in UPHELD:
            assert refund == 0
            return None
        assert Decimal(0) <= refund <= _amount(money["cap"])
        assert refund <= _amount(money["covered_payments"])
        assert refund <= _amount(money["assurance_amount"])
        claimed = case["claim"].get("amount_claimed")
        if claimed is not None:
            assert refund <= Decimal(claimed)
        return "upheld"

    assert _run(check)["upheld"] >= 100


def test_binding_is_consistent_with_the_cap_reasons() -> None:
    def check(case: dict[str, Any], doc: dict[str, Any]) -> str | None:
        if doc["outcome"] not in UPHELD:
            return None
        codes = set(_codes(doc)) & CAP_REASONS
        money = doc["money"]
        binding = money["binding"]
        refund, cap = _amount(doc["refund"]["amount"]), _amount(money["cap"])
        prior = _amount(money["prior_refunds"])
        if binding == "loss":
            assert codes == set(), (binding, codes)
            assert refund == _amount(money["loss"])
            return "loss"
        if binding == "amount_claimed":
            assert codes == {"C_CAPPED_AT_CLAIMED"}
            assert refund == Decimal(case["claim"]["amount_claimed"]) < cap
            return "claimed"
        assert refund == cap
        assert {"C_CAPPED_AT_TA_AMOUNT", "C_CAPPED_AT_PAID"} & codes, codes
        assert not {"C_CAPPED_AT_TA_AMOUNT", "C_CAPPED_AT_PAID"} <= codes, codes
        assert ("C_CAP_REMAINING" in codes) == (prior > 0)
        assert binding == (
            "prior_refunds"
            if prior > 0
            else "assurance_amount"
            if "C_CAPPED_AT_TA_AMOUNT" in codes
            else "covered_payments"
        )
        claimed = case["claim"].get("amount_claimed")
        assert ("C_CAPPED_AT_CLAIMED" in codes) == (claimed is not None and Decimal(claimed) == cap)
        return "cap"

    seen = _run(check)
    assert sum(seen.values()) >= 100, seen
    assert seen["cap"] >= 30 and seen["loss"] >= 30, seen


def _ship_day(shipment: dict[str, Any]) -> date:
    return date.fromisoformat(shipment["transport_document"]["on_board_on"])


def _ship_by(doc: dict[str, Any]) -> date:
    steps = [s for s in doc["trace"] if s["rule"] in ("SHIP-03", "SHIP-04", "SHIP-05")]
    return date.fromisoformat(steps[-1]["facts"]["ship_by"])


def _late_or_unshipped(case: dict[str, Any], ship_by: date) -> dict[str, int]:
    """Units per line not shipped on or before the ship-by date (as of the filing)."""
    filed = datetime.fromisoformat(case["claim"]["filed_at"]).date()
    missing = {line["line_id"]: line["quantity"] for line in case["order"]["lines"]}
    for shipment in case["shipments"]:
        if _ship_day(shipment) <= ship_by <= filed:
            for item in shipment["lines"]:
                missing[item["line_id"]] = max(0, missing[item["line_id"]] - item["quantity"])
    return missing


def test_no_refund_for_goods_the_breach_did_not_affect() -> None:
    """Shipping claims: the refund is at most the value of the units not shipped on time
    (with partial shipments not allowed: the whole order, once any unit is not), narrowed
    to the claim's lines (clarification 7)."""

    def check(case: dict[str, Any], doc: dict[str, Any]) -> str | None:
        if case["claim"]["ground"] not in SHIPPING or doc["outcome"] not in UPHELD:
            return None
        missing = _late_or_unshipped(case, _ship_by(doc))
        if not case["order"]["partial_shipments_allowed"] and any(missing.values()):
            # clarification 5: an order not wholly shipped on time is a breach of all of it
            missing = {line["line_id"]: line["quantity"] for line in case["order"]["lines"]}
        claimed = case["claim"].get("affected_lines")
        if claimed:
            missing = {c["line_id"]: min(c["quantity"], missing[c["line_id"]]) for c in claimed}
        prices = {line["line_id"]: Decimal(line["unit_price"]) for line in case["order"]["lines"]}
        exponent = EXPONENTS[case["order"]["currency"]]
        value = sum((prices[k] * q for k, q in missing.items()), Decimal(0))
        bound = value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
        assert _amount(doc["refund"]["amount"]) <= bound, (missing, doc["refund"])
        assert _amount(doc["money"]["loss"]) <= bound
        return "upheld shipping"

    not_on_time = tuple(p for p in PATTERNS if p != "on_time")
    assert _run(check, eligible_cases(SHIPPING, not_on_time))["upheld shipping"] >= 100


def test_on_time_only_when_every_unit_shipped_on_time() -> None:
    """``D_ON_TIME`` exactly when every ordered unit shipped on or before the ship-by date."""

    def check(case: dict[str, Any], doc: dict[str, Any]) -> str | None:
        if case["claim"]["ground"] not in SHIPPING:
            return None
        all_on_time = not any(_late_or_unshipped(case, _ship_by(doc)).values())
        assert ("D_ON_TIME" in _codes(doc)) == all_on_time, (_codes(doc), case["shipments"])
        if all_on_time:
            assert doc["outcome"] == "denied"
            return "on time"
        assert doc["outcome"] != "denied" or "D_CLAIMED_GOODS_NOT_AFFECTED" in _codes(doc)
        return "not on time"

    aimed = eligible_cases(SHIPPING, ("on_time",) * 6 + ("part_on_time",) * 2 + PATTERNS)
    seen = _run(check, aimed)
    assert seen["on time"] >= 100 and seen["not on time"] >= 100, seen


def test_an_independent_reading_of_spec_v11_agrees() -> None:
    """``tests/support/spec_oracle.py`` reads the spec in plain Python, without the
    normaliser, the engine or the ruleset data; the product must agree on every case."""

    def check(case: dict[str, Any], doc: dict[str, Any]) -> str:
        expected = oracle(case)
        got = (
            doc["outcome"],
            Decimal(doc["refund"]["amount"]),
            doc["money"]["binding"],
            tuple(sorted(_codes(doc))),
        )
        want = (expected.outcome, expected.refund, expected.binding, expected.reasons)
        assert got == want, (got, want, case)
        return str(doc["outcome"])

    seen = _run(check)
    assert seen["upheld_full"] + seen["upheld_partial"] >= 100, seen
