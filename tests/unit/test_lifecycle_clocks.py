"""Clocks computed from events, and evidence merged by id into a new case revision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adjudicator.core.lifecycle import (
    ClaimState,
    EventRecord,
    InvalidAction,
    at_risk,
    compute_clocks,
    merge_evidence,
    next_due,
    overdue,
    timer_due,
)

FILED = datetime(2024, 4, 19, 10, 0, tzinfo=UTC)  # a Friday
STATE = ClaimState(
    status="awaiting_supplier", filed_at="2024-04-19T10:00:00Z", currency="USD", recommendation={}
)


def ev(action: str, hours: float, by: str, src: str, dst: str, **data: object) -> EventRecord:
    return EventRecord(action, FILED + timedelta(hours=hours), by, src, dst, dict(data))


def states(clocks: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {c.name: c.state for c in clocks}


def test_a_fresh_claim_has_the_time_01_clocks_pending() -> None:
    clocks = compute_clocks(STATE, [], FILED + timedelta(hours=1))
    assert states(clocks) == {
        "supplier_response_due": "pending",
        "escalation_allowed_from": "pending",
        "auto_escalation_at": "pending",
    }
    assert next_due(clocks) == FILED + timedelta(hours=72)
    assert timer_due(STATE) == FILED + timedelta(hours=168)


def test_a_late_supplier_is_missed_and_overdue_until_it_answers() -> None:
    now = FILED + timedelta(hours=80)
    clocks = compute_clocks(STATE, [], now)
    assert states(clocks)["supplier_response_due"] == "missed"
    assert states(clocks)["escalation_allowed_from"] == "met"
    assert overdue(next_due(clocks), now)
    answered = [ev("respond", 90, "supplier", "awaiting_supplier", "awaiting_buyer")]
    clocks = compute_clocks(STATE, answered, now + timedelta(hours=20))
    assert states(clocks)["supplier_response_due"] == "missed"  # late is still missed
    assert next_due(clocks) is None


def test_escalation_starts_the_staff_clock_in_business_days() -> None:
    events = [
        ev("respond", 10, "supplier", "awaiting_supplier", "awaiting_buyer"),
        ev("escalate", 80, "buyer", "awaiting_buyer", "awaiting_staff"),  # Mon 2024-04-22 18:00
    ]
    now = FILED + timedelta(hours=81)
    clocks = {c.name: c for c in compute_clocks(STATE, events, now)}
    assert clocks["supplier_response_due"].state == "met"
    assert clocks["auto_escalation_at"].state == "cancelled"
    first = clocks["staff_first_response_due"]
    assert first.due == datetime(2024, 4, 24, 18, 0, tzinfo=UTC) and first.state == "pending"
    assert not at_risk(first.due, now) and at_risk(first.due, first.due - timedelta(hours=3))
    events.append(ev("note", 90, "staff", "awaiting_staff", "awaiting_staff"))
    clocks = {c.name: c for c in compute_clocks(STATE, events, now)}
    assert clocks["staff_first_response_due"].state == "met"


def test_evidence_and_refund_clocks() -> None:
    due = FILED + timedelta(days=12)
    events = [
        ev("escalate", 100, "buyer", "awaiting_supplier", "awaiting_staff"),
        ev(
            "request_evidence",
            110,
            "staff",
            "awaiting_staff",
            "awaiting_evidence",
            party="supplier",
            due=due.isoformat(),
        ),
        ev("submit_evidence", 120, "supplier", "awaiting_evidence", "awaiting_staff"),
        ev("propose", 130, "staff", "awaiting_staff", "refund_pending"),
    ]
    clocks = {c.name: c for c in compute_clocks(STATE, events, FILED + timedelta(days=20))}
    assert clocks["evidence_due"].state == "met"
    assert clocks["staff_review_due"].state == "met"
    assert clocks["refund_initiation_due"].state == "missed"
    assert clocks["refund_initiation_due"].outstanding


def test_evidence_merges_by_id_and_by_index_and_appends_the_rest() -> None:
    case = {
        "order": {"amendments": [{"kind": "ship_by_extension", "days": 5}]},
        "payments": [{"payment_id": "P1", "amount": "1.00", "sent": {"amount": "2"}}],
    }
    merged = merge_evidence(
        case,
        {
            "payments": [
                {"payment_id": "P1", "amount": "3.00", "sent": None},
                {"payment_id": "P2", "amount": "4.00"},
            ],
            "amendments": [{"index": 0, "days": 9}],
            "shipments": [{"shipment_id": "S1"}],
        },
    )
    assert merged["payments"] == [
        {"payment_id": "P1", "amount": "3.00"},
        {"payment_id": "P2", "amount": "4.00"},
    ]
    assert merged["order"]["amendments"] == [{"kind": "ship_by_extension", "days": 9}]
    assert merged["shipments"] == [{"shipment_id": "S1"}]
    assert case["payments"][0]["amount"] == "1.00"  # the old revision is untouched
    with pytest.raises(InvalidAction) as refused:
        merge_evidence(case, {"inspections": [{"index": 3}]})
    assert set(refused.value.errors) == {"inspections.0.index"}
