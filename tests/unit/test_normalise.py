"""Normalisation: the derived dates SHIP-01..05, exact money, business days.

Each derived date is checked twice where it matters: on the function of
``adjudicator.core.shipping`` with a validated case, and on the decision it leads to.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from adjudicator import Adjudicator, load_ruleset
from adjudicator.core import money, shipping
from adjudicator.core.contract import load_case
from adjudicator.core.dates import add_business_days, local_date

RULESET = load_ruleset()


def _case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "case_id": "N-1",
        "as_of": "2024-04-30T12:00:00Z",
        "order": {
            "order_id": "PO-1",
            "currency": "USD",
            "assurance_amount": "20000.00",
            "buyer_confirmed_at": "2024-03-01T09:00:00Z",
            "supplier_confirmed_at": "2024-03-01T10:00:00Z",
            "incoterm": "FOB",
            "shipping_method": "sea",
            "ship_by": {"date": "2024-04-15"},
            "lines": [{"line_id": "L1", "quantity": 10000, "unit_price": "2.00"}],
        },
        "payments": [
            {
                "payment_id": "P1",
                "kind": "initial",
                "method": "tt",
                "amount": "6000.00",
                "credited_at": "2024-03-02T08:00:00Z",
                "to_designated_account": True,
            },
            {
                "payment_id": "P2",
                "kind": "balance",
                "method": "tt",
                "amount": "14000.00",
                "credited_at": "2024-04-10T08:00:00Z",
                "to_designated_account": True,
            },
        ],
        "claim": {
            "claim_id": "C1",
            "ground": "non_shipment",
            "remedy": "cancel_full_refund",
            "filed_at": "2024-04-20T10:00:00Z",
        },
    }
    for key, value in changes.items():
        target = case
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return case


def _load(case: dict[str, Any]) -> dict[str, Any]:
    return load_case(copy.deepcopy(case), aql_values=RULESET.aql_values)


@pytest.fixture(scope="module")
def adj() -> Adjudicator:
    return Adjudicator()


def _trace(decision: Any, rule: str) -> list[dict[str, Any]]:
    return [step.facts for step in decision.trace if step.rule == rule]


# -- SHIP-01 -----------------------------------------------------------------


def _courier(picked_up_at: str) -> dict[str, Any]:
    return {
        "shipment_id": "S1",
        "lines": [{"line_id": "L1", "quantity": 10000}],
        "transport_document": {"kind": "courier_receipt", "picked_up_at": picked_up_at},
    }


def test_ship_01_pick_up_counts_on_its_local_date(adj: Adjudicator) -> None:
    case = _case(shipments=[_courier("2024-04-16T01:30:00+08:00")])
    loaded = _load(case)
    assert shipping.ship_01_shipment_date(loaded["shipments"][0]) == date(2024, 4, 16)
    decision = adj.decide(case)
    assert _trace(decision, "SHIP-01") == [{"shipment_id": "S1", "ship_date": "2024-04-16"}]
    # everything shipped by the filing, one day late: a late breach, not an on-time one
    assert decision.reason_codes == ["D_LATE_SHIPMENT"]


def test_ship_01_the_same_instant_in_utc_is_the_15th(adj: Adjudicator) -> None:
    case = _case(shipments=[_courier("2024-04-15T17:30:00Z")])
    assert shipping.ship_01_shipment_date(_load(case)["shipments"][0]) == date(2024, 4, 15)
    assert adj.decide(case).reason_codes == ["D_ON_TIME"]


def test_ship_01_bill_of_lading_on_board_then_issue_date() -> None:
    doc = {"kind": "bill_of_lading", "issued_on": "2024-04-17", "on_board_on": "2024-04-15"}
    shipment = {
        "shipment_id": "S1",
        "lines": [{"line_id": "L1", "quantity": 1}],
        "transport_document": doc,
    }
    loaded = _load(_case(shipments=[shipment]))["shipments"][0]
    assert shipping.ship_01_shipment_date(loaded) == date(2024, 4, 15)
    del doc["on_board_on"]
    loaded = _load(_case(shipments=[shipment]))["shipments"][0]
    assert shipping.ship_01_shipment_date(loaded) == date(2024, 4, 17)


def test_local_date_is_never_the_utc_date() -> None:
    loaded = _load(_case(claim__filed_at="2024-04-15T20:00:00-05:00"))
    assert local_date(loaded["claim"]["filed_at"]) == date(2024, 4, 15)


# -- SHIP-03 -----------------------------------------------------------------


def _ship_by(case: dict[str, Any]) -> date | None:
    loaded = _load(case)
    return shipping.ship_03_agreed_ship_by(loaded["order"], loaded["payments"])


def test_ship_03_fixed_date() -> None:
    assert _ship_by(_case()) == date(2024, 4, 15)


def test_ship_03_initial_anchor() -> None:
    case = _case(order__ship_by={"days_after_payment": 30, "anchor": "initial"})
    assert _ship_by(case) == date(2024, 4, 1)  # 2024-03-02 + 30


def test_ship_03_balance_anchor() -> None:
    case = _case(order__ship_by={"days_after_payment": 30, "anchor": "balance"})
    assert _ship_by(case) == date(2024, 5, 10)  # 2024-04-10 + 30


def test_ship_03_balance_confirmed_without_funds_falls_back_to_initial() -> None:
    case = _case(order__ship_by={"days_after_payment": 30, "anchor": "balance"})
    case["payments"][1]["confirmed_without_funds"] = True
    assert _ship_by(case) == date(2024, 4, 1)


def test_ship_03_balance_never_credited_falls_back_to_initial() -> None:
    case = _case(order__ship_by={"days_after_payment": 30, "anchor": "balance"})
    case["payments"][1]["credited_at"] = None
    assert _ship_by(case) == date(2024, 4, 1)


def test_ship_03_anchor_credited_in_its_local_date() -> None:
    case = _case(order__ship_by={"days_after_payment": 30, "anchor": "initial"})
    case["payments"][0]["credited_at"] = "2024-03-02T05:00:00+09:00"  # 03-01 in UTC
    assert _ship_by(case) == date(2024, 4, 1)


def test_ship_03_no_anchor_means_no_ship_by_and_a_premature_claim(adj: Adjudicator) -> None:
    case = _case(order__ship_by={"days_after_payment": 30, "anchor": "initial"})
    case["payments"][0]["credited_at"] = None
    assert _ship_by(case) is None
    decision = adj.decide(case)
    assert _trace(decision, "SHIP-03") == [{"ship_by": None}]
    assert decision.outcome == "not_eligible"
    assert decision.reason_codes == ["E_CLAIM_PREMATURE"]


# -- SHIP-04 -----------------------------------------------------------------


def _extension(days: int, requested: str) -> dict[str, Any]:
    return {
        "kind": "ship_by_extension",
        "days": days,
        "requested_at": requested,
        "channel": "platform",
    }


def _extend(case: dict[str, Any]) -> shipping.Extensions:
    loaded = _load(case)
    ship_by = shipping.ship_03_agreed_ship_by(loaded["order"], loaded["payments"])
    assert ship_by is not None
    limit = int(RULESET.parameters["extension_limit_days"])
    return shipping.ship_04_platform_extensions(loaded["order"], loaded["payments"], ship_by, limit)


def test_ship_04_extension_within_90_days() -> None:
    # 2024-03-02 -> 2024-04-15 is 44 days; + 46 = 90: still within the limit
    result = _extend(_case(order__amendments=[_extension(46, "2024-04-01T08:00:00Z")]))
    assert result.ship_by == date(2024, 5, 31)
    assert result.refused == []


def test_ship_04_extension_past_90_days_is_ignored(adj: Adjudicator) -> None:
    case = _case(order__amendments=[_extension(47, "2024-04-01T08:00:00Z")])
    result = _extend(case)
    assert result.ship_by == date(2024, 4, 15)
    assert len(result.refused) == 1
    decision = adj.decide(case)
    assert decision.reason_codes[0] == "V_EXTENSION_EXCEEDS_90"
    assert [r.rule for r in decision.reasons if r.code == "V_EXTENSION_EXCEEDS_90"] == ["SHIP-04"]


def test_ship_04_extensions_apply_in_request_order() -> None:
    case = _case(
        order__amendments=[
            _extension(6, "2024-04-10T08:00:00Z"),
            _extension(40, "2024-04-01T08:00:00Z"),
            _extension(10, "2024-04-05T08:00:00Z"),
        ]
    )
    result = _extend(case)  # 44 + 40 = 84; + 10 = 94 refused; + 6 = 90 accepted
    assert result.accepted_days == 46
    assert [e["days"] for e in result.refused] == [10]


def test_ship_04_relative_ship_by_counts_days_after_payment() -> None:
    case = _case(
        order__ship_by={"days_after_payment": 80, "anchor": "initial"},
        order__amendments=[
            _extension(10, "2024-04-01T08:00:00Z"),
            _extension(1, "2024-04-02T08:00:00Z"),
        ],
    )
    result = _extend(case)
    assert result.accepted_days == 10
    assert len(result.refused) == 1


# -- SHIP-05 -----------------------------------------------------------------


def _change(new_date: str, agreed: str, channel: str = "platform") -> dict[str, Any]:
    return {
        "kind": "ship_by_change",
        "new_date": new_date,
        "agreed_by_buyer_at": agreed,
        "channel": channel,
    }


def test_ship_05_latest_accepted_change_wins() -> None:
    case = _case(
        order__amendments=[
            _change("2024-04-18", "2024-04-12T08:00:00Z"),
            _change("2024-04-30", "2024-04-05T08:00:00Z"),
        ]
    )
    loaded = _load(case)
    result = shipping.ship_05_buyer_changes(loaded["order"], date(2024, 4, 15))
    assert result.ship_by == date(2024, 4, 18)
    assert result.off_platform is False


def test_ship_05_off_platform_change_keeps_the_date_before_it(adj: Adjudicator) -> None:
    case = _case(order__amendments=[_change("2024-04-25", "2024-04-10T08:00:00Z", "off_platform")])
    loaded = _load(case)
    result = shipping.ship_05_buyer_changes(loaded["order"], date(2024, 4, 15))
    assert (result.ship_by, result.before_off_platform, result.off_platform) == (
        date(2024, 4, 25),
        date(2024, 4, 15),
        True,
    )
    case["shipments"] = [
        {
            "shipment_id": "S1",
            "lines": [{"line_id": "L1", "quantity": 10000}],
            "transport_document": {"kind": "bill_of_lading", "on_board_on": "2024-04-20"},
        }
    ]
    case["claim"].update(ground="late_shipment", filed_at="2024-04-28T10:00:00Z")
    decision = adj.decide(case)
    assert decision.outcome == "denied"
    assert decision.reason_codes == ["E_BUYER_ACQUIESCED"]


# -- money and business days -------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "rounded", "text"),
    [
        ("1262.5", "JPY", Decimal("1263"), "1263"),
        ("1262.49", "JPY", Decimal("1262"), "1262"),
        ("2.5", "JPY", Decimal("3"), "3"),  # half-up, not half-even
        ("5.0005", "KWD", Decimal("5.001"), "5.001"),
        ("5.0004", "KWD", Decimal("5.000"), "5.000"),
        ("0.125", "USD", Decimal("0.13"), "0.13"),
        ("0.005", "USD", Decimal("0.01"), "0.01"),
    ],
)
def test_half_up_rounding(amount: str, currency: str, rounded: Decimal, text: str) -> None:
    assert money.quantize(Decimal(amount), currency) == rounded
    minor = money.to_minor(Decimal(amount), currency)
    assert money.format_minor(minor, currency) == text


def test_currency_exponents() -> None:
    assert (money.exponent("JPY"), money.exponent("KWD"), money.exponent("USD")) == (0, 3, 2)
    assert money.fits_exponent(Decimal("1.250"), "KWD")
    assert not money.fits_exponent(Decimal("1.5"), "JPY")


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (date(2024, 4, 30), date(2024, 5, 9)),  # Tuesday: one weekend
        (date(2024, 4, 26), date(2024, 5, 7)),  # Friday: two weekends
        (date(2024, 4, 27), date(2024, 5, 7)),  # Saturday
        (date(2024, 4, 28), date(2024, 5, 7)),  # Sunday
        (date(2024, 4, 25), date(2024, 5, 6)),  # Thursday
    ],
)
def test_time_02_business_days(start: date, due: date) -> None:
    assert add_business_days(start, 7) == due


def test_time_02_refund_due_across_a_weekend(adj: Adjudicator) -> None:
    decision = adj.decide(_case(as_of="2024-04-26T12:00:00Z"))  # a Friday
    assert decision.outcome == "upheld_full"
    assert decision.deadlines.refund_initiation_due == "2024-05-07"
