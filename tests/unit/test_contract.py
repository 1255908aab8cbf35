"""The case-document contract: what load_case accepts, returns and rejects, and where."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from adjudicator.core.contract import flatten_errors, load_case
from adjudicator.core.contract.base import ContractSchema, Object
from adjudicator.core.contract.fields import AqlContext, aql_context
from adjudicator.core.contract.schemas import CaseSchema
from adjudicator.core.errors import InvalidCase

AQL = frozenset({"0.65", "1.0", "1.5", "2.5", "4.0", "6.5"})

WORKED_EXAMPLE: dict[str, Any] = {
    "case_id": "WE-1",
    "as_of": "2024-04-30T12:00:00Z",
    "order": {
        "order_id": "PO-1",
        "currency": "USD",
        "assurance_amount": "20000.00",
        "coverage": "receipt_30d",
        "buyer_confirmed_at": "2024-03-01T09:00:00Z",
        "supplier_confirmed_at": "2024-03-01T10:00:00Z",
        "incoterm": "FOB",
        "shipping_method": "sea",
        "ship_by": {"date": "2024-04-15"},
        "partial_shipments_allowed": False,
        "lines": [
            {"line_id": "L1", "description": "Widgets", "quantity": 10000, "unit_price": "2.00"}
        ],
        "quality": {
            "measurable_spec": True,
            "inspection_level": "II",
            "aql": {"critical": "0", "major": "2.5", "minor": "4.0"},
        },
    },
    "payments": [
        {"payment_id": "P1", "kind": "initial", "method": "tt", "amount": "6000.00",
         "credited_at": "2024-03-02T08:00:00Z", "to_designated_account": True},
        {"payment_id": "P2", "kind": "balance", "method": "tt", "amount": "14000.00",
         "credited_at": "2024-04-10T08:00:00Z", "to_designated_account": True},
    ],
    "shipments": [],
    "claim": {"claim_id": "C1", "ground": "non_shipment", "remedy": "cancel_full_refund",
              "filed_at": "2024-04-20T10:00:00Z"},
}  # fmt: skip

SHIPMENT = {
    "shipment_id": "S1",
    "lines": [{"line_id": "L1", "quantity": 10000}],
    "transport_document": {"kind": "bill_of_lading", "on_board_on": "2024-04-15"},
}
INSPECTION = {
    "inspection_id": "I1", "company": "SGS", "stage": "post_delivery",
    "inspected_on": "2024-05-21", "lot_size": 10000, "sample_size": 200,
    "defects": {"critical": 0, "major": 10, "minor": 14}, "fee": "300.00",
}  # fmt: skip


def case() -> dict[str, Any]:
    """A fresh copy of the worked example."""
    return copy.deepcopy(WORKED_EXAMPLE)


def errors_of(doc: object) -> dict[str, list[str]]:
    with pytest.raises(InvalidCase) as caught:
        load_case(doc, aql_values=AQL)
    return caught.value.errors


def load(doc: object) -> dict[str, Any]:
    return load_case(doc, aql_values=AQL)


# --- a valid case -----------------------------------------------------------------------------


def test_worked_example_loads_with_exact_types() -> None:
    got = load(case())
    order = got["order"]
    assert got["case_id"] == "WE-1"
    assert got["as_of"] == datetime(2024, 4, 30, 12, tzinfo=UTC)
    assert order["assurance_amount"] == Decimal("20000.00")
    assert str(order["assurance_amount"]) == "20000.00"
    assert order["lines"][0]["unit_price"] == Decimal("2.00")
    assert type(order["lines"][0]["quantity"]) is int
    assert order["ship_by"] == {
        "date": date(2024, 4, 15), "days_after_payment": None, "anchor": None,
    }  # fmt: skip
    assert order["quality"] == {
        "measurable_spec": True,
        "inspection_level": "II",
        "aql": {"critical": "0", "major": "2.5", "minor": "4.0"},
    }
    assert got["payments"][1]["amount"] == Decimal("14000.00")
    assert got["payments"][0]["credited_at"].tzinfo is not None
    assert got["claim"]["filed_at"] == datetime(2024, 4, 20, 10, tzinfo=UTC)


def test_defaults_are_filled_with_every_contract_key() -> None:
    doc = case()
    del doc["case_id"], doc["as_of"], doc["shipments"], doc["order"]["coverage"]
    doc["order"]["lines"][0].pop("description")
    doc["shipments"] = [SHIPMENT]
    doc["inspections"] = [{k: v for k, v in INSPECTION.items() if k != "defects"}]
    doc["prior_claims"] = [{"claim_id": "C0", "ground": "quality", "status": "withdrawn",
                            "filed_at": "2024-04-01T00:00:00+08:00"}]  # fmt: skip
    got = load(doc)
    assert list(got) == ["case_id", "as_of", "order", "payments", "shipments", "inspections",
                         "claim", "prior_claims"]  # fmt: skip
    assert got["case_id"] is None and got["as_of"] is None
    order = got["order"]
    assert order["coverage"] == "receipt_30d"
    assert order["sample_order"] is False
    assert order["supplier_assurance_limit"] is None
    assert order["delivery_by"] is None and order["delay_compensation"] is None
    assert order["amendments"] == []
    assert order["lines"][0]["description"] is None
    assert order["lines"][0]["tolerance"] == {"kind": "exact", "plus": None, "minus": None}
    assert got["payments"][0]["confirmed_without_funds"] is False
    assert got["payments"][0]["sent"] is None and got["payments"][0]["chargeback"] is None
    shipment = got["shipments"][0]
    assert shipment["lines"] == [{"line_id": "L1", "quantity": 10000, "received_quantity": None}]
    assert shipment["transport_document"] == {
        "kind": "bill_of_lading", "issued_on": None,
        "on_board_on": date(2024, 4, 15), "picked_up_at": None,
    }  # fmt: skip
    assert shipment["refused_by_buyer"] is False and shipment["transit_loss"] is False
    assert got["inspections"][0]["defects"] == {"critical": 0, "major": 0, "minor": 0}
    assert got["inspections"][0]["subjective_only"] is False
    assert got["inspections"][0]["fee"] == Decimal("300.00")
    assert got["prior_claims"][0]["refund_granted"] == Decimal("0")
    assert got["claim"]["affected_lines"] is None and got["claim"]["amount_claimed"] is None


def test_relative_ship_by_anchor_defaults_to_initial() -> None:
    doc = case()
    doc["order"]["ship_by"] = {"days_after_payment": 30}
    assert load(doc)["order"]["ship_by"] == {
        "date": None, "days_after_payment": 30, "anchor": "initial",
    }  # fmt: skip


def test_amendments_come_back_with_every_key() -> None:
    doc = case()
    doc["order"]["amendments"] = [
        {"kind": "ship_by_extension", "days": 20, "requested_at": "2024-04-01T09:00:00Z"},
        {"kind": "ship_by_change", "new_date": "2024-05-01", "channel": "off_platform",
         "agreed_by_buyer_at": "2024-04-02T09:00:00+08:00", "evidence": "e-mail of 2 April"},
    ]  # fmt: skip
    extension, change = load(doc)["order"]["amendments"]
    assert extension == {
        "kind": "ship_by_extension", "days": 20,
        "requested_at": datetime(2024, 4, 1, 9, tzinfo=UTC), "channel": "platform",
        "new_date": None, "agreed_by_buyer_at": None, "evidence": None,
    }  # fmt: skip
    assert change["new_date"] == date(2024, 5, 1) and change["days"] is None
    assert change["channel"] == "off_platform" and change["evidence"] == "e-mail of 2 April"


def test_percent_tolerance_loads_as_decimals() -> None:
    doc = case()
    doc["order"]["lines"][0]["tolerance"] = {"kind": "percent", "plus": "3", "minus": "2.5"}
    tolerance = load(doc)["order"]["lines"][0]["tolerance"]
    assert tolerance == {"kind": "percent", "plus": Decimal("3"), "minus": Decimal("2.5")}


def test_offset_is_preserved_so_the_local_date_is_right() -> None:
    doc = case()
    doc["claim"]["filed_at"] = "2024-04-16T01:30:00+08:00"
    filed = load(doc)["claim"]["filed_at"]
    assert filed.utcoffset() == timedelta(hours=8)
    assert filed.date() == date(2024, 4, 16)
    assert filed.astimezone(UTC).date() == date(2024, 4, 15)


def test_naive_timestamp_is_rejected() -> None:
    doc = case()
    doc["claim"]["filed_at"] = "2024-04-16T01:30:00"
    assert errors_of(doc) == {
        "claim.filed_at": ["Timestamp needs an offset, e.g. 2024-04-16T01:30:00+08:00"]
    }


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "amount", "ok"),
    [
        ("USD", "6000.00", True),
        ("USD", "6000", True),
        ("USD", "6000.5", True),
        ("USD", "1.001", False),
        ("JPY", "100", True),
        ("JPY", "100.5", False),
        ("KWD", "1.234", True),
        ("KWD", "1.2345", False),
    ],
)
def test_money_decimals_follow_the_currency_exponent(currency: str, amount: str, ok: bool) -> None:
    doc = case()
    doc["order"]["currency"] = currency
    doc["order"]["assurance_amount"] = "20000"
    for payment in doc["payments"]:
        payment["amount"] = "1"
    doc["payments"][0]["amount"] = amount
    if ok:
        assert load(doc)["payments"][0]["amount"] == Decimal(amount)
    else:
        assert list(errors_of(doc)) == ["payments.0.amount"]


def test_sent_amount_uses_its_own_currency() -> None:
    doc = case()
    doc["payments"][0]["sent"] = {"amount": "1000.500", "currency": "KWD"}
    assert load(doc)["payments"][0]["sent"] == {"amount": Decimal("1000.500"), "currency": "KWD"}
    doc["payments"][0]["sent"] = {"amount": "1000", "currency": "XAU"}
    assert list(errors_of(doc)) == ["payments.0.sent.currency"]


def test_unit_price_may_be_finer_than_the_currency() -> None:
    doc = case()
    doc["order"]["lines"][0]["unit_price"] = "0.123456"
    assert load(doc)["order"]["lines"][0]["unit_price"] == Decimal("0.123456")


# --- one path and one message per bad field --------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


BAD_FIELDS = [
    # (change, path, a fragment of the message)
    (_set("order.lines.0.quantity", 0), "order.lines.0.quantity", "at least 1"),
    (_set("order.lines.0.quantity", -5), "order.lines.0.quantity", "at least 1"),
    (_set("order.lines.0.quantity", 5.0), "order.lines.0.quantity", "integer"),
    (_set("order.lines.0.quantity", "5"), "order.lines.0.quantity", "integer"),
    (_set("order.lines.0.quantity", True), "order.lines.0.quantity", "integer"),
    (_set("order.lines.0.quantity", 10**9 + 1), "order.lines.0.quantity", "at most 1000000000"),
    (_set("order.lines.0.unit_price", "0.00"), "order.lines.0.unit_price", "greater than 0"),
    (_set("order.lines.0.unit_price", "1.1234567"), "order.lines.0.unit_price", "6 decimals"),
    (_set("claim.ground", "foo"), "claim.ground",
     "Unknown value 'foo'; expected one of: non_shipment, late_shipment,"),
    (_set("claim.remedy", "Cancel_Full_Refund"), "claim.remedy", "Unknown value"),
    (_set("order.incoterm", "fob"), "order.incoterm", "Unknown value 'fob'"),
    (_set("order.coverage", None), "order.coverage", "null"),
    (_set("payments.1.amount", 14000), "payments.1.amount", "not a number"),
    (_set("payments.1.amount", 14000.0), "payments.1.amount", "not a number"),
    (_set("payments.1.amount", "-14000.00"), "payments.1.amount", "negative"),
    (_set("payments.1.amount", "1e4"), "payments.1.amount", "decimal string"),
    (_set("payments.1.amount", "NaN"), "payments.1.amount", "decimal string"),
    (_set("payments.1.amount", " 1.00"), "payments.1.amount", "decimal string"),
    (_set("payments.1.amount", "10000000000000.01"), "payments.1.amount", "at most"),
    (_set("payments.0.kind", "deposit"), "payments.0.kind", "Unknown value 'deposit'"),
    (_set("payments.0.to_designated_account", "yes"), "payments.0.to_designated_account",
     "true or false"),
    (_set("payments.0.to_designated_account", 1), "payments.0.to_designated_account",
     "true or false"),
    (_delete("payments.0.to_designated_account"), "payments.0.to_designated_account", "Missing"),
    (_set("order.currency", "usd"), "order.currency", "ISO 4217"),
    (_set("order.currency", "XAU"), "order.currency", "ISO 4217"),
    (_set("order.currency", "ABC"), "order.currency", "ISO 4217"),
    (_set("order.order_id", ""), "order.order_id", "empty"),
    (_set("order.order_id", 7), "order.order_id", "string"),
    (_set("order.order_id", "x" * 201), "order.order_id", "200 characters"),
    (_set("order.lines.0.description", "x" * 2001), "order.lines.0.description", "2000"),
    (_set("order.lines.0.description", "a\x00b"), "order.lines.0.description", "NUL"),
    (_set("order.lines.0.description", "\ud800"), "order.lines.0.description", "surrogate"),
    (_set("order.lines", []), "order.lines", "At least 1"),
    (_set("order.lines", {"line_id": "L1"}), "order.lines", "JSON array"),
    (_set("payments", [{}] * 101), "payments", "At most 100"),
    (_delete("order"), "order", "Missing"),
    (_delete("claim.filed_at"), "claim.filed_at", "Missing"),
    (_set("order.ship_by", {}), "order.ship_by", "either date or days_after_payment"),
    (_set("order.ship_by", {"date": "2024-04-15", "days_after_payment": 3}), "order.ship_by",
     "not both"),
    (_set("order.ship_by", {"date": "2024-04-15", "anchor": "initial"}), "order.ship_by.anchor",
     "Only with days_after_payment"),
    (_set("order.ship_by", {"days_after_payment": 3651}), "order.ship_by.days_after_payment",
     "at most 3650"),
    (_set("order.ship_by", "2024-04-15"), "order.ship_by", "JSON object"),
    (_set("order.ship_by.date", "2024-4-15"), "order.ship_by.date", "YYYY-MM-DD"),
    (_set("order.ship_by.date", "2024-02-30"), "order.ship_by.date", "real date"),
    (_set("order.ship_by.date", "1899-12-31"), "order.ship_by.date", "year"),
    (_set("order.ship_by.date", "2024-04-15T00:00:00Z"), "order.ship_by.date", "YYYY-MM-DD"),
    (_set("claim.filed_at", "2024-04-20"), "claim.filed_at", "RFC 3339"),
    (_set("claim.filed_at", "2201-01-01T00:00:00Z"), "claim.filed_at", "year"),
    (_set("claim.filed_at", "2024-04-20T10:00:00+24:00"), "claim.filed_at", "real date"),
    (_set("claim.filed_at", 1713607200), "claim.filed_at", "RFC 3339"),
    (_set("order.quality.aql.major", "3.0"), "order.quality.aql.major",
     "AQL 3.0 is not in the ISO 2859-1 table; expected one of: 0.65, 1.0, 1.5, 2.5, 4.0, 6.5."),
    (_set("order.quality.aql.major", "0"), "order.quality.aql.major", "not in the ISO 2859-1"),
    (_set("order.quality.aql.minor", 4.0), "order.quality.aql.minor", "not a number"),
    (_set("order.quality.measurable_spec", "true"), "order.quality.measurable_spec",
     "true or false"),
    (_set("order.lines.0.tolerance", {"kind": "percent", "plus": "3"}),
     "order.lines.0.tolerance.minus", "Required for kind percent"),
    (_set("order.lines.0.tolerance", {"kind": "about", "plus": "3"}),
     "order.lines.0.tolerance.plus", "Only for kind percent"),
    (_set("order.lines.0.tolerance", {"kind": "percent", "plus": "3", "minus": "100.5"}),
     "order.lines.0.tolerance.minus", "at most 100"),
    (_set("order.delay_compensation", {"percent_per_day": "0.5"}),
     "order.delay_compensation.max_percent", "Missing"),
    (_set("order.amendments", [{"kind": "ship_by_extension", "days": 0,
                                "requested_at": "2024-04-01T00:00:00Z"}]),
     "order.amendments.0.days", "at least 1"),
    (_set("order.amendments", [{"kind": "ship_by_extension", "days": 5}]),
     "order.amendments.0.requested_at", "Required for kind ship_by_extension"),
    (_set("order.amendments", [{"kind": "ship_by_change", "new_date": "2024-05-01",
                                "agreed_by_buyer_at": "2024-04-01T00:00:00Z",
                                "channel": "email"}]),
     "order.amendments.0.channel", "Unknown value 'email'"),
    (_set("order.amendments", [{"kind": "ship_by_change", "new_date": "2024-05-01",
                                "channel": "platform"}]),
     "order.amendments.0.agreed_by_buyer_at", "Required for kind ship_by_change"),
    (_set("order.amendments", [{"kind": "ship_by_change", "new_date": "2024-05-01", "days": 3,
                                "agreed_by_buyer_at": "2024-04-01T00:00:00Z",
                                "channel": "platform"}]),
     "order.amendments.0.days", "Not used by kind ship_by_change"),
    (_set("shipments", [dict(SHIPMENT, lines=[{"line_id": "L9", "quantity": 1}])]),
     "shipments.0.lines.0.line_id", "No line 'L9' in order.lines."),
    (_set("shipments", [dict(SHIPMENT, lines=[{"line_id": "L1", "quantity": -1}])]),
     "shipments.0.lines.0.quantity", "at least 0"),
    (_set("shipments", [dict(SHIPMENT, transport_document={"kind": "fax"})]),
     "shipments.0.transport_document.kind", "Unknown value 'fax'"),
    (_set("inspections", [dict(INSPECTION, stage="final")]), "inspections.0.stage",
     "Unknown value 'final'"),
    (_set("inspections", [dict(INSPECTION, sample_size=0)]), "inspections.0.sample_size",
     "at least 1"),
    (_set("inspections", [dict(INSPECTION, defects={"major": 201})]),
     "inspections.0.defects.major", "More than the sample size (200)"),
    (_set("inspections", [dict(INSPECTION, fee="300.001")]), "inspections.0.fee",
     "USD allows at most 2 decimals."),
    (_set("claim.amount_claimed", "5.555"), "claim.amount_claimed", "USD allows at most 2"),
    (_set("claim.affected_lines", []), "claim.affected_lines", "At least 1"),
    (_set("claim.affected_lines", [{"line_id": "L9", "quantity": 1}]),
     "claim.affected_lines.0.line_id", "No line 'L9' in order.lines."),
    (_set("claim.affected_lines", [{"line_id": "L1", "quantity": 0}]),
     "claim.affected_lines.0.quantity", "at least 1"),
    (_set("claim.affected_lines", [{"line_id": "L1", "quantity": 1}] * 2),
     "claim.affected_lines.1.line_id", "listed twice"),
    (_set("prior_claims", [{"claim_id": "C0", "ground": "quality", "status": "pending",
                            "filed_at": "2024-04-01T00:00:00Z"}]),
     "prior_claims.0.status", "Unknown value 'pending'"),
    (_set("payments.0.chargeback", {"status": "pending"}), "payments.0.chargeback.filed_at",
     "Missing"),
    (_set("case_id", ""), "case_id", "empty"),
    (_set("order.lines.0.colour", "red"), "order.lines.0.colour", "Unknown field."),
    (_set("order.quality.aql.cosmetic", "4.0"), "order.quality.aql.cosmetic", "Unknown field."),
    (_set("extra", {"deep": [[[]]]}), "extra", "Unknown field."),
]  # fmt: skip


@pytest.mark.parametrize(("change", "path", "message"), BAD_FIELDS, ids=[b[1] for b in BAD_FIELDS])
def test_a_bad_field_is_reported_at_its_path(
    change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    doc = case()
    change(doc)
    errors = errors_of(doc)
    assert list(errors) == [path], errors
    assert len(errors[path]) == 1
    assert message in errors[path][0]


def test_duplicate_line_id_is_reported_at_the_duplicate() -> None:
    doc = case()
    doc["order"]["lines"].append({"line_id": "L1", "quantity": 1, "unit_price": "1.00"})
    assert errors_of(doc) == {
        "order.lines.1.line_id": ["Duplicate line_id 'L1'; order.lines.0 has it."]
    }


def test_order_value_is_bounded() -> None:
    doc = case()
    doc["order"]["lines"][0].update(quantity=10**9, unit_price="10000.01")
    assert list(errors_of(doc)) == ["order.lines"]


def test_errors_in_several_places_are_all_reported() -> None:
    doc = case()
    doc["payments"] = [None, dict(WORKED_EXAMPLE["payments"][0], amount="1.001")]
    doc["claim"]["ground"] = "foo"
    assert set(errors_of(doc)) == {"payments.0", "payments.1.amount", "claim.ground"}


@pytest.mark.parametrize("doc", [[], "case", None, 5, [WORKED_EXAMPLE]])
def test_a_document_that_is_not_an_object(doc: object) -> None:
    assert errors_of(doc) == {"_schema": ["A case document must be a JSON object."]}


# --- AQL against the ruleset's table -----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "given", "key"),
    [
        ("major", "2.50", "2.5"),
        ("minor", "4", "4.0"),
        ("minor", "0.650", "0.65"),
        ("critical", "0.0", "0"),
        ("critical", "1.0", "1.0"),
    ],
)
def test_aql_is_returned_as_the_tables_key(field: str, given: str, key: str) -> None:
    doc = case()
    doc["order"]["quality"]["aql"][field] = given
    assert load(doc)["order"]["quality"]["aql"][field] == key


def test_aql_follows_the_table_it_is_given() -> None:
    doc = case()
    doc["order"]["quality"]["aql"]["major"] = "10"
    assert load_case(doc, aql_values=AQL | {"10"})["order"]["quality"]["aql"]["major"] == "10"
    assert list(errors_of(doc)) == ["order.quality.aql.major"]
    assert AqlContext.get(None) is None  # the table does not leak out of load_case


def test_tables_in_concurrent_threads_do_not_mix() -> None:
    doc = case()
    doc["order"]["quality"]["aql"]["major"] = "10"
    outcomes: dict[str, list[bool]] = {"with": [], "without": []}

    def run(name: str, table: frozenset[str]) -> None:
        for _ in range(200):
            try:
                load_case(doc, aql_values=table)
                outcomes[name].append(True)
            except InvalidCase:
                outcomes[name].append(False)

    threads = [
        threading.Thread(target=run, args=("with", AQL | {"10"})),
        threading.Thread(target=run, args=("without", AQL)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(outcomes["with"]) and not any(outcomes["without"])


# --- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**63, 2**200, -(2**63) - 1, float("inf"), float("nan"), 1e308])
def test_numbers_beyond_the_engine_are_rejected(value: object) -> None:
    doc = case()
    doc["order"]["lines"][0]["quantity"] = value
    doc["payments"][0]["amount"] = value
    assert set(errors_of(doc)) == {"order.lines.0.quantity", "payments.0.amount"}


def test_unknown_key_is_echoed_short_and_printable() -> None:
    doc = case()
    doc["order"]["\ud800" + "k" * 500] = 1
    [path] = errors_of(doc)
    assert path.startswith("order.\\ud800k") and len(path) < 120
    path.encode("utf-8")


def test_huge_list_is_rejected_before_its_items_are_read() -> None:
    doc = case()
    doc["order"]["lines"] = [object()] * 1_000_000
    assert errors_of(doc) == {"order.lines": ["At most 1000 items."]}


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**64), 10**400])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
    | st.sampled_from(["USD", "0", "2.5", "1.001", "2024-04-15", "2024-04-16T01:30:00+08:00", "L1"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
LEAVES = [
    "case_id", "as_of", "order", "payments", "claim", "order.lines", "order.lines.0",
    "order.lines.0.quantity", "order.lines.0.unit_price", "order.lines.0.tolerance",
    "order.ship_by", "order.ship_by.date", "order.quality", "order.quality.aql",
    "order.quality.aql.major", "order.currency", "order.amendments", "payments.0",
    "payments.0.amount", "payments.0.sent", "payments.0.chargeback", "claim.affected_lines",
    "claim.filed_at", "shipments", "inspections", "prior_claims",
]  # fmt: skip


def _returns_dict_or_invalid_case(doc: object) -> None:
    try:
        got = load_case(doc, aql_values=AQL)
    except InvalidCase as error:
        assert error.errors and all(isinstance(m, str) for ms in error.errors.values() for m in ms)
    else:
        assert isinstance(got, dict)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_json_like_document_is_a_dict_or_invalid_case(doc: object) -> None:
    _returns_dict_or_invalid_case(doc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAVES), JSON_VALUES)
def test_any_value_anywhere_in_a_case_is_a_dict_or_invalid_case(path: str, value: object) -> None:
    doc = case()
    _set(path, value)(doc)
    _returns_dict_or_invalid_case(doc)


# --- the planned load is marshmallow's own ---------------------------------------------------


def _outcome(run: Callable[[], object]) -> object:
    try:
        return repr(run())
    except ValidationError as error:
        return flatten_errors(error.messages)
    except InvalidCase as error:
        return error.errors


def _marshmallow_load(doc: dict[str, Any]) -> object:
    """``Schema.load`` with ContractSchema's planned path switched off at every level."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ContractSchema, "direct_loader", lambda self: None)
        patch.setattr(Object, "direct_loader", lambda self: None)
        schema = CaseSchema()
        with aql_context(AQL):
            return _outcome(lambda: schema.load(doc))


EQUIVALENCE_CASES = [
    *[change for change, _, _ in BAD_FIELDS],
    lambda doc: None,
    _set("shipments", [SHIPMENT, None, {"lines": "x"}]),
    _set("inspections", [INSPECTION, dict(INSPECTION, defects={"major": 201}, fee="1.001")]),
    _set("order.lines", [{"line_id": "L1", "quantity": 1, "unit_price": "1"}, 5, {}]),
    _set("_schema", 1),
    _set("claim", {"extra": 1}),
]


@pytest.mark.parametrize("change", EQUIVALENCE_CASES)
def test_planned_load_matches_marshmallows_schema_load(
    change: Callable[[dict[str, Any]], None],
) -> None:
    doc = case()
    doc["shipments"] = [SHIPMENT]
    doc["order"]["amendments"] = [{"kind": "ship_by_extension", "days": 5,
                                   "requested_at": "2024-04-01T00:00:00Z"}]  # fmt: skip
    change(doc)
    planned = _outcome(lambda: load(copy.deepcopy(doc)))
    native = _marshmallow_load(copy.deepcopy(doc))
    assert planned == native
    if isinstance(planned, dict) and isinstance(native, dict):
        assert list(planned) == list(native)  # the same paths in the same order


def test_an_object_with_its_own_and_its_fields_errors_is_a_422_not_a_crash() -> None:
    """Found by schemathesis: a duplicate line_id and an order value over the limit."""
    case = copy.deepcopy(WORKED_EXAMPLE)
    line = case["order"]["lines"][0]
    case["order"]["lines"] = [
        {**line, "quantity": 6275339, "unit_price": "194333551001.97"},
        dict(line),
    ]
    with pytest.raises(InvalidCase) as caught:
        load_case(case, aql_values=AQL)
    assert "order.lines.1.line_id" in caught.value.errors
    assert any("order value" in m for m in caught.value.errors["order.lines"])
