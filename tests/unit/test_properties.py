"""Properties every decision keeps, over generated valid case documents.

Whatever the case, the refund never exceeds the cap, the cap never exceeds the
assurance amount, nothing is refunded unless upheld, the refund never exceeds
the covered payments nor the amount claimed, it is written with exactly the
currency's decimals, and deciding again gives the same document.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator import Adjudicator
from adjudicator.core.contract.records import CLAIM_GROUNDS, REMEDIES

EXPONENTS = {"USD": 2, "JPY": 0, "KWD": 3}
SAMPLE_SIZES = [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 100]
AQLS = ["0.65", "1.0", "1.5", "2.5", "4.0", "6.5"]
GROUNDS = list(CLAIM_GROUNDS)
OFFSETS = [
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-11)),
]
DAY0 = date(2024, 3, 1)
COMPANIES = ["SGS", "Bureau Veritas", "TÜV Rheinland", "Local Lab"]
CLASSES = ("critical", "major", "minor")

_adjudicator: Adjudicator | None = None


def _adj() -> Adjudicator:
    global _adjudicator
    if _adjudicator is None:
        _adjudicator = Adjudicator()
    return _adjudicator


def _text(minor: int, exponent: int) -> str:
    return str(Decimal(minor).scaleb(-exponent))


@st.composite
def _moment(draw: st.DrawFn, first: int = 0, last: int = 180) -> datetime:
    day = DAY0 + timedelta(days=draw(st.integers(first, last)))
    hour = draw(st.integers(0, 23))
    tz = draw(st.sampled_from(OFFSETS))
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=tz)


def _ts(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(sorted(EXPONENTS)))
    exp = EXPONENTS[currency]

    def money(low: int, high: int) -> str:
        return _text(draw(st.integers(low, high)), exp)

    def mostly(tenths: int) -> bool:
        return draw(st.integers(0, 9)) < tenths

    scale = 10**exp
    lines = []
    for index in range(draw(st.integers(1, 3))):
        places = draw(st.integers(0, 4))
        price = Decimal(draw(st.integers(1, 50_000))).scaleb(-places)
        tolerance = draw(
            st.sampled_from(
                [
                    {"kind": "exact"},
                    {"kind": "about"},
                    {"kind": "percent", "plus": "3", "minus": "5"},
                ]
            )
        )
        lines.append(
            {
                "line_id": f"L{index + 1}",
                "quantity": draw(st.integers(1, 5000)),
                "unit_price": str(price),
                "tolerance": tolerance,
            }
        )
    ids = [line["line_id"] for line in lines]
    order: dict[str, Any] = {
        "order_id": "PO-P",
        "currency": currency,
        "assurance_amount": money(0, 50_000 * scale),
        "coverage": draw(st.sampled_from(["receipt_30d"] * 3 + ["post_delivery", "pre_shipment"])),
        "sample_order": not mostly(9),
        "buyer_confirmed_at": "2024-03-01T09:00:00Z" if mostly(9) else None,
        "supplier_confirmed_at": "2024-03-01T10:00:00+08:00",
        "incoterm": draw(st.sampled_from(["FOB", "CIF", "DAP", "DDP", "EXW"])),
        "partial_shipments_allowed": draw(st.booleans()),
        "lines": lines,
    }
    if draw(st.booleans()):
        order["ship_by"] = {"date": (DAY0 + timedelta(days=draw(st.integers(20, 60)))).isoformat()}
    else:
        order["ship_by"] = {
            "days_after_payment": draw(st.integers(0, 50)),
            "anchor": draw(st.sampled_from(["initial", "balance"])),
        }
    if draw(st.booleans()):
        order["supplier_assurance_limit"] = money(0, 50_000 * scale)
    if draw(st.booleans()):
        order["quality"] = {
            "measurable_spec": draw(st.booleans()),
            "inspection_level": "II",
            "aql": {
                "critical": "0",
                "major": draw(st.sampled_from(AQLS)),
                "minor": draw(st.sampled_from(AQLS)),
            },
        }
    if draw(st.booleans()):
        order["delay_compensation"] = {"percent_per_day": "0.5", "max_percent": "5"}
    amendments = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            amendments.append(
                {
                    "kind": "ship_by_extension",
                    "days": draw(st.integers(1, 60)),
                    "requested_at": _ts(draw(_moment(0, 60))),
                    "channel": "platform",
                }
            )
        else:
            amendments.append(
                {
                    "kind": "ship_by_change",
                    "new_date": (DAY0 + timedelta(days=draw(st.integers(20, 100)))).isoformat(),
                    "agreed_by_buyer_at": _ts(draw(_moment(0, 60))),
                    "channel": draw(st.sampled_from(["platform", "off_platform"])),
                }
            )
    order["amendments"] = amendments

    payments = []
    for index in range(draw(st.integers(0, 3)) if not mostly(8) else draw(st.integers(1, 3))):
        payment: dict[str, Any] = {
            "payment_id": f"P{index + 1}",
            "kind": draw(st.sampled_from(["initial", "balance", "other"])),
            "method": "card",
            "amount": money(0, 30_000 * scale),
            "credited_at": _ts(draw(_moment(0, 40)))
            if mostly(8)
            else draw(st.one_of(st.none(), _moment(0, 120).map(_ts))),
            "to_designated_account": mostly(8),
            "confirmed_without_funds": not mostly(9),
        }
        status = (
            None
            if mostly(8)
            else draw(st.sampled_from(["pending", "refunded_to_buyer", "rejected"]))
        )
        if status is not None:
            payment["chargeback"] = {"status": status, "filed_at": "2024-04-01T00:00:00Z"}
        payments.append(payment)

    shipments = []
    for index in range(draw(st.integers(0, 2))):
        items = []
        for line in lines:
            if draw(st.booleans()):
                shipped = draw(st.integers(0, line["quantity"]))
                item: dict[str, Any] = {"line_id": line["line_id"], "quantity": shipped}
                if draw(st.booleans()):
                    item["received_quantity"] = draw(st.integers(0, shipped))
                items.append(item)
        if not items:
            items = [{"line_id": ids[0], "quantity": lines[0]["quantity"]}]
        kind = draw(
            st.sampled_from(
                [
                    "bill_of_lading",
                    "sea_waybill",
                    "air_waybill",
                    "courier_receipt",
                    "platform_scan",
                    "other",
                ]
            )
        )
        doc: dict[str, Any] = {"kind": kind}
        when = DAY0 + timedelta(days=draw(st.integers(10, 100)))
        if kind in ("bill_of_lading", "sea_waybill"):
            doc["on_board_on"] = when.isoformat()
        else:
            doc["picked_up_at"] = _ts(draw(_moment(10, 100)))
        shipment: dict[str, Any] = {
            "shipment_id": f"S{index + 1}",
            "lines": items,
            "transport_document": doc,
            "transit_loss": draw(st.booleans()) and draw(st.booleans()),
        }
        if draw(st.booleans()):
            shipment["received_on"] = (when + timedelta(days=draw(st.integers(5, 40)))).isoformat()
        if draw(st.booleans()):
            cleared = when + timedelta(days=draw(st.integers(3, 30)))
            shipment["customs_cleared_on"] = cleared.isoformat()
        shipments.append(shipment)

    inspections = []
    for index in range(draw(st.integers(0, 2))):
        n = draw(st.sampled_from(SAMPLE_SIZES))
        inspection: dict[str, Any] = {
            "inspection_id": f"I{index + 1}",
            "company": draw(st.sampled_from(COMPANIES)),
            "stage": draw(st.sampled_from(["pre_shipment", "loading", "post_delivery"])),
            "inspected_on": (DAY0 + timedelta(days=draw(st.integers(10, 120)))).isoformat(),
            "lot_size": 10_000,
            "sample_size": n,
            "defects": {k: draw(st.integers(0, min(n, 30))) for k in CLASSES},
            "subjective_only": draw(st.booleans()),
        }
        if draw(st.booleans()):
            inspection["fee"] = money(0, 1000 * scale)
        inspections.append(inspection)

    filed = draw(_moment(35, 130))
    ground = draw(st.sampled_from(GROUNDS[:5] if mostly(9) else GROUNDS))
    claim: dict[str, Any] = {
        "claim_id": "C-P",
        "ground": ground,
        "remedy": draw(st.sampled_from(REMEDIES)),
        "filed_at": _ts(filed),
    }
    if draw(st.booleans()):
        chosen = draw(
            st.lists(st.sampled_from(lines), min_size=1, unique_by=lambda x: x["line_id"])
        )
        claim["affected_lines"] = [
            {"line_id": line["line_id"], "quantity": draw(st.integers(1, line["quantity"]))}
            for line in chosen
        ]
    if draw(st.booleans()):
        claim["amount_claimed"] = money(0, 40_000 * scale)
    prior = [
        {
            "claim_id": f"PC{index + 1}",
            "ground": draw(st.sampled_from(GROUNDS)),
            "status": draw(st.sampled_from(["open", "withdrawn", "closed_no_response"]))
            if not mostly(7)
            else draw(st.sampled_from(["settled", "decided"])),
            "filed_at": "2024-03-20T00:00:00Z",
            "refund_granted": money(0, 10_000 * scale),
        }
        for index in range(draw(st.integers(0, 2)) if not mostly(6) else 0)
    ]
    as_of = filed.astimezone(UTC) + timedelta(days=draw(st.integers(0, 20)))
    return {
        "case_id": "PROP",
        "as_of": _ts(as_of),
        "order": order,
        "payments": payments,
        "shipments": shipments,
        "inspections": inspections,
        "claim": claim,
        "prior_claims": prior,
    }


def _decide(case: dict[str, Any]) -> dict[str, Any]:
    return _adj().decide(case).to_dict()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_decision_invariants(case: dict[str, Any]) -> None:
    doc = _decide(case)
    money = doc["money"]
    refund = Decimal(doc["refund"]["amount"])
    cap = Decimal(money["cap"])
    assurance = Decimal(money["assurance_amount"])
    covered = Decimal(money["covered_payments"])
    exponent = EXPONENTS[case["order"]["currency"]]

    assert Decimal(0) <= refund <= cap <= assurance
    assert refund <= covered
    if doc["outcome"] not in ("upheld_full", "upheld_partial"):
        assert refund == 0
        assert Decimal(doc["fee_reimbursement"]["amount"]) == 0
    claimed = case["claim"].get("amount_claimed")
    if claimed is not None:
        assert refund <= Decimal(claimed)
    for text in (
        doc["refund"]["amount"],
        doc["fee_reimbursement"]["amount"],
        *(
            money[k]
            for k in ("loss", "assurance_amount", "covered_payments", "prior_refunds", "cap")
        ),
    ):
        assert -Decimal(text).as_tuple().exponent == exponent, text
    assert doc["refund"]["currency"] == case["order"]["currency"]
    assert _decide(case) == doc


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_cap_04_refund_is_the_smallest_figure_and_binding_names_it(case: dict[str, Any]) -> None:
    doc = _decide(case)
    if doc["outcome"] not in ("upheld_full", "upheld_partial"):
        return
    money = doc["money"]
    refund = Decimal(doc["refund"]["amount"])
    loss, cap = Decimal(money["loss"]), Decimal(money["cap"])
    claimed = case["claim"].get("amount_claimed")
    figures = [loss, cap] + ([Decimal(claimed)] if claimed is not None else [])
    assert refund == min(figures)
    named = {
        "loss": loss,
        "assurance_amount": cap,
        "covered_payments": cap,
        "prior_refunds": cap,
        "amount_claimed": Decimal(claimed) if claimed is not None else None,
    }
    assert named[money["binding"]] == refund, money
    prior = Decimal(money["prior_refunds"])
    assert cap == max(
        Decimal(0),
        min(Decimal(money["assurance_amount"]), Decimal(money["covered_payments"])) - prior,
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_reason_names_a_rule_and_the_trace_is_numbered(case: dict[str, Any]) -> None:
    doc = _decide(case)
    known = {spec.id for spec in _adj().catalog.active.rules} | {f"SHIP-0{n}" for n in range(1, 6)}
    assert {reason["rule"] for reason in doc["reasons"]} <= known
    assert all(reason["message"] and "{" not in reason["message"] for reason in doc["reasons"])
    assert [step["step"] for step in doc["trace"]] == list(range(1, len(doc["trace"]) + 1))
    assert {step["rule"] for step in doc["trace"]} <= known


@pytest.mark.parametrize("currency", sorted(EXPONENTS))
def test_strategy_builds_valid_cases(currency: str) -> None:
    """The generator is worth something only if the contract accepts what it builds."""

    @settings(max_examples=20, deadline=None)
    @given(cases().filter(lambda c: c["order"]["currency"] == currency))
    def run(case: dict[str, Any]) -> None:
        assert _decide(case)["outcome"]

    run()
