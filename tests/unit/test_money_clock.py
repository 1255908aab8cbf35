"""The refund clock, to the business day: refund_initiation_due = agreement or determination + 7.

lifecycle.md, "Clocks": `refund_initiation_due` is "determination or agreement + 7 business
days (TIME-02)", met by `refund_initiated`. rules.md: "Calendar days throughout, except
business days in TIME-02 (Monday to Friday, no holidays)".

Every due date below is counted by hand on a calendar, never computed with the code's date
helpers; the time of day is kept (the clock is a moment, due 7 business days after the
moment that started it). Each case's weekdays are checked against Python's calendar so a slip
in the hand count shows up as a wrong weekday, not as a silently wrong expectation.

Weekend start (the spec does not say it; what "adding business days" implies): a claim
agreed on a Saturday or Sunday has its first business day on the Monday after, so Monday
counts as 1 — the same due date as an agreement on the Friday before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adjudicator.core.lifecycle import Acting, ClaimState, EventRecord, advance, compute_clocks
from adjudicator.core.lifecycle.state import parse_time

USD = "USD"
FILED = "2024-04-20T10:00:00Z"
RECOMMENDATION = {
    "decision_id": "d-1",
    "outcome": "upheld_full",
    "cap": "20000.00",
    "refund": {"amount": "20000.00", "currency": USD},
}
OFFER = {"kind": "refund", "refund": {"amount": "100.00", "currency": USD}, "message": "sorry"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (agreed at, its weekday, due at, its weekday, the hand count)
CASES = [
    ("2024-05-03T10:00", "Friday", "2024-05-14T10:00", "Tuesday",
     "Mon 6 =1, Tue 7 =2, Wed 8 =3, Thu 9 =4, Fri 10 =5, Mon 13 =6, Tue 14 =7"),
    ("2024-05-08T10:00", "Wednesday", "2024-05-17T10:00", "Friday",
     "Thu 9 =1, Fri 10 =2, Mon 13 =3, Tue 14 =4, Wed 15 =5, Thu 16 =6, Fri 17 =7"),
    ("2024-05-04T10:00", "Saturday", "2024-05-14T10:00", "Tuesday",
     "weekend start: Mon 6 =1, Tue 7 =2, Wed 8 =3, Thu 9 =4, Fri 10 =5, Mon 13 =6, Tue 14 =7"),
    ("2024-05-05T23:30", "Sunday", "2024-05-14T23:30", "Tuesday",
     "weekend start: Mon 6 =1, ..., Tue 14 =7 (late Sunday is still Sunday in UTC)"),
    ("2024-05-06T08:15", "Monday", "2024-05-15T08:15", "Wednesday",
     "Tue 7 =1, Wed 8 =2, Thu 9 =3, Fri 10 =4, Mon 13 =5, Tue 14 =6, Wed 15 =7"),
    ("2024-05-02T10:00", "Thursday", "2024-05-13T10:00", "Monday",
     "Fri 3 =1, Mon 6 =2, Tue 7 =3, Wed 8 =4, Thu 9 =5, Fri 10 =6, Mon 13 =7"),
    ("2024-05-31T10:00", "Friday", "2024-06-11T10:00", "Tuesday",
     "across a month: Mon Jun 3 =1, Tue 4 =2, Wed 5 =3, Thu 6 =4, Fri 7 =5, Mon 10 =6, Tue 11 =7"),
    ("2024-12-27T10:00", "Friday", "2025-01-07T10:00", "Tuesday",
     "no holidays: Mon 30 =1, Tue 31 =2, Wed Jan 1 =3, Thu 2 =4, Fri 3 =5, Mon 6 =6, Tue 7 =7"),
]  # fmt: skip
IDS = [f"{weekday}-{agreed[:10]}" for agreed, weekday, *_ in CASES]


@pytest.mark.parametrize(("agreed", "agreed_day", "due", "due_day", "count"), CASES, ids=IDS)
def test_the_hand_counted_dates_are_the_weekdays_they_claim(
    agreed: str, agreed_day: str, due: str, due_day: str, count: str
) -> None:
    assert at(agreed).strftime("%A") == agreed_day
    assert at(due).strftime("%A") == due_day
    # seven business days lie after the start day up to and including the due day
    start, end = at(agreed).date(), at(due).date()
    days = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert sum(1 for d in days if d.weekday() < 5) == 7, count
    assert end.weekday() < 5


def awaiting_buyer() -> ClaimState:
    return ClaimState(
        status="awaiting_buyer",
        filed_at=FILED,
        currency=USD,
        recommendation=dict(RECOMMENDATION),
        offer=dict(OFFER),
    )


@pytest.mark.parametrize(("agreed", "agreed_day", "due", "due_day", "count"), CASES, ids=IDS)
def test_a_refund_agreed_by_the_buyer_is_due_seven_business_days_on(
    agreed: str, agreed_day: str, due: str, due_day: str, count: str
) -> None:
    _, after = advance(awaiting_buyer(), "accept", Acting("buyer", "key-upstream", at(agreed)), {})
    assert after.status == "refund_pending"
    assert after.refund is not None
    assert parse_time(after.refund["due"]) == at(due), f"{agreed_day} -> {due_day}: {count}"


@pytest.mark.parametrize(("agreed", "agreed_day", "due", "due_day", "count"), CASES, ids=IDS)
def test_the_refund_initiation_clock_is_due_seven_business_days_on(
    agreed: str, agreed_day: str, due: str, due_day: str, count: str
) -> None:
    events = [
        EventRecord("respond", at("2024-04-21T10:00"), "supplier", "awaiting_supplier",
                    "awaiting_buyer"),
        EventRecord("accept", at(agreed), "buyer", "awaiting_buyer", "refund_pending"),
    ]  # fmt: skip
    _, after = advance(awaiting_buyer(), "accept", Acting("buyer", "key-upstream", at(agreed)), {})
    clocks = {c.name: c for c in compute_clocks(after, events, at(agreed))}
    clock = clocks["refund_initiation_due"]
    assert clock.due == at(due), f"{agreed_day} -> {due_day}: {count}"
    assert clock.state == "pending" and clock.outstanding


FRIDAY = "2024-05-03T10:00"
TUESDAY_AFTER_NEXT = "2024-05-14T10:00"


def refund_events(*extra: EventRecord) -> list[EventRecord]:
    return [
        EventRecord("respond", at("2024-04-21T10:00"), "supplier", "awaiting_supplier",
                    "awaiting_buyer"),
        EventRecord("accept", at(FRIDAY), "buyer", "awaiting_buyer", "refund_pending"),
        *extra,
    ]  # fmt: skip


def test_the_clock_is_pending_up_to_its_due_moment_and_missed_after() -> None:
    _, after = advance(awaiting_buyer(), "accept", Acting("buyer", "k", at(FRIDAY)), {})
    due = at(TUESDAY_AFTER_NEXT)
    on_time = {c.name: c for c in compute_clocks(after, refund_events(), due)}
    assert on_time["refund_initiation_due"].state == "pending"
    late = {c.name: c for c in compute_clocks(after, refund_events(), due + timedelta(minutes=1))}
    assert late["refund_initiation_due"].state == "missed"
    assert late["refund_initiation_due"].outstanding


def test_refund_initiated_on_the_due_day_meets_the_clock() -> None:
    _, after = advance(awaiting_buyer(), "accept", Acting("buyer", "k", at(FRIDAY)), {})
    initiated = EventRecord(
        "refund_initiated",
        at("2024-05-14T09:00"),  # the due Tuesday, an hour before the due moment
        "system",
        "refund_pending",
        "refund_initiated",
        {"payout_reference": "PAY-1"},
    )
    clocks = {
        c.name: c for c in compute_clocks(after, refund_events(initiated), at("2024-05-20T00:00"))
    }
    assert clocks["refund_initiation_due"].state == "met"
    assert not clocks["refund_initiation_due"].outstanding


def test_a_determination_by_confirm_on_a_friday_is_due_the_tuesday_after_next() -> None:
    """ "determination ... + 7 business days": a staff `confirm` of an upheld recommendation."""
    staff = ClaimState(
        status="awaiting_staff",
        filed_at=FILED,
        currency=USD,
        recommendation=dict(RECOMMENDATION),
        escalated_at="2024-04-27T10:00:00Z",
    )
    when = at("2024-05-03T16:45")  # Friday
    _, after = advance(
        staff, "propose", Acting("staff", "user:1", when, person="user:1"), {"kind": "confirm"}
    )
    assert after.status == "refund_pending" and after.refund is not None
    assert parse_time(after.refund["due"]) == at("2024-05-14T16:45")  # Tuesday, 7 business days


def test_an_approved_settlement_on_a_friday_is_due_the_tuesday_after_next() -> None:
    """v1.1: a settlement is a proposal; the agreement is made when a second person approves
    it, so the clock starts at the approval (Friday) -> Tuesday of the week after next."""
    proposal_id = "2b0e8f5c-3f71-4d0a-8a43-5a2f0e9c7d11"
    pending = ClaimState(
        status="pending_approval",
        filed_at=FILED,
        currency=USD,
        recommendation=dict(RECOMMENDATION),
        escalated_at="2024-04-27T10:00:00Z",
        proposal={
            "proposal_id": proposal_id,
            "kind": "settle",
            "by": "user:9",
            "revision": 1,
            "at": "2024-05-02T10:00:00Z",
            "refund": {"amount": "1234.00", "currency": USD},
            "terms": "signed by both parties on 2024-05-01",
        },
    )
    acting = Acting("staff", "user:1", at(FRIDAY), person="user:1")
    _, after = advance(pending, "approve", acting, {"proposal_id": proposal_id},
                       {"decision_id": "d-2"})  # fmt: skip
    assert after.status == "refund_pending" and after.refund is not None
    assert after.agreement is not None and after.agreement["kind"] == "settlement"
    assert parse_time(after.refund["due"]) == at(TUESDAY_AFTER_NEXT)
