"""The claim state machine: every (status, action) pair walked against the one table.

For each status and each action, every party either gets the table's answer
(a refusal when no row allows it, a move to one of the row's targets when one
does) and nothing else. A few expectations are written out by hand from
lifecycle.md so that the table itself is checked, not only its readers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adjudicator.core.lifecycle import (
    ACTIONS,
    CLOSED,
    OPEN,
    STATUSES,
    TABLE,
    Acting,
    ActionForbidden,
    ClaimState,
    InvalidAction,
    InvalidTransition,
    StaleProposal,
    advance,
    available_actions,
    check,
)
from adjudicator.core.lifecycle.state import PARTIES

FILED = datetime(2024, 4, 20, 10, 0, tzinfo=UTC)
LATER = FILED + timedelta(days=30)
RECOMMENDATION = {
    "decision_id": "d-1",
    "outcome": "upheld_full",
    "cap": "20000.00",
    "refund": {"amount": "20000.00", "currency": "USD"},
}
OVERRIDE_DOC = {
    "outcome": "upheld_partial",
    "refund": {"amount": "5000.00", "currency": "USD"},
    "fee_reimbursement": {"amount": "0.00", "currency": "USD"},
    "reasons": [{"message": "partly"}],
}


def state_in(status: str) -> ClaimState:
    """A claim in ``status`` with the data that status implies."""
    state = ClaimState(
        status=status,
        filed_at="2024-04-20T10:00:00Z",
        currency="USD",
        recommendation=dict(RECOMMENDATION),
    )
    if status == "awaiting_buyer":
        offer = {"kind": "refund", "refund": {"amount": "100.00", "currency": "USD"}}
        state = state.moved(status, offer=offer)
    if status == "awaiting_evidence":
        request = {"party": "supplier", "what": "B/L", "due": "2024-05-01T00:00:00Z"}
        state = state.moved(status, evidence_request=request)
    if status == "pending_approval":
        proposal = {**OVERRIDE_DOC, "by": "user:1", "revision": 1, "kind": "override",
                    "proposal_id": "p-1"}  # fmt: skip
        state = state.moved(status, proposal=proposal)
    if status in ("refund_pending", "refund_initiated"):
        state = state.moved(status, refund={"amount": "100.00", "currency": "USD"})
    return state


BODIES: dict[str, dict[str, Any]] = {
    "respond": {"kind": "refund", "refund": {"amount": "100.00"}, "message": "sorry"},
    "request_evidence": {"party": "buyer", "what": "photos", "due": LATER + timedelta(days=3)},
    "propose": {"kind": "confirm"},
    "settle": {"refund": {"amount": "50.00"}, "terms": "signed by both on 2024-05-02"},
    "approve": {"proposal_id": "p-1"},
    "decline": {"proposal_id": "p-1"},
    "assign": {"assignee": "user:7"},
    "note": {"text": "checked"},
    "refund_initiated": {"payout_reference": "PAY-1"},
}
EXTRA: dict[str, dict[str, Any]] = {
    "submit_evidence": {"revision": 2, "recommendation": RECOMMENDATION},
    "propose": {"override": OVERRIDE_DOC},
    "approve": {"decision_id": "d-2"},
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_and_action_follows_the_table(status: str, action: str) -> None:
    state = state_in(status)
    candidates = [row for row in TABLE if row.action == action and status in row.sources]
    for party in PARTIES:
        acting = Acting(party, "staff-b", LATER, "user:2")
        body, extra = BODIES.get(action, {}), EXTRA.get(action, {})
        if not candidates:
            with pytest.raises(InvalidTransition) as refused:
                advance(state, action, acting, body, extra)
            assert action not in refused.value.allowed
            continue
        if party not in {p for row in candidates for p in row.parties}:
            with pytest.raises(ActionForbidden):
                advance(state, action, acting, body, extra)
            continue
        row, following = advance(state, action, acting, body, extra)
        assert row in candidates
        assert following.status in row.targets


def test_closed_claims_accept_only_notes() -> None:
    for status in CLOSED:
        names = {
            a.action
            for a in available_actions(state_in(status), PARTIES, Acting("staff", "x", LATER))
        }
        assert names == {"note"}


def test_withdraw_is_the_buyers_until_a_determination() -> None:
    allowed = {s for s in STATUSES if any(r.action == "withdraw" and s in r.sources for r in TABLE)}
    assert allowed == set(OPEN)


def test_escalation_waits_72_hours_unless_the_supplier_refused() -> None:
    state = state_in("awaiting_supplier")
    early = Acting("buyer", "k", FILED + timedelta(hours=71))
    with pytest.raises(InvalidTransition) as refused:
        check(state, "escalate", early, ["buyer"])
    assert "2024-04-23T10:00:00Z" in refused.value.reason
    refused_offer = state.moved("awaiting_buyer", offer={"kind": "reject", "refund": None})
    assert check(refused_offer, "escalate", early).action == "escalate"
    assert check(state, "escalate", Acting("buyer", "k", FILED + timedelta(hours=72)))


def test_available_actions_give_the_reason_escalation_is_not_yet_allowed() -> None:
    early = Acting("buyer", "k", FILED + timedelta(hours=1))
    found = {
        a.action: a for a in available_actions(state_in("awaiting_supplier"), ["buyer"], early)
    }
    assert found["escalate"].allowed is False
    assert found["escalate"].reason is not None and "Escalation" in found["escalate"].reason
    assert found["withdraw"].allowed is True


def test_four_eyes_the_proposer_may_not_approve_and_an_old_proposal_is_stale() -> None:
    state = state_in("pending_approval")
    named = {"proposal_id": "p-1"}
    with pytest.raises(ActionForbidden):  # another key of the same person is the same eyes
        advance(state, "approve", Acting("staff", "key-2", LATER, "user:1"), named, {})
    newer = state.moved("pending_approval", revision=2)
    with pytest.raises(StaleProposal):
        advance(newer, "approve", Acting("staff", "staff-b", LATER, "user:2"), named, {})
    _, approved = advance(
        state, "approve", Acting("staff", "staff-b", LATER, "user:2"), named, {"decision_id": "d-2"}
    )
    assert approved.status == "refund_pending"
    assert approved.determination is not None and approved.determination["decision_id"] == "d-2"


def test_evidence_clears_a_pending_proposal() -> None:
    state = state_in("pending_approval")
    _, after = advance(
        state, "submit_evidence", Acting("buyer", "k", LATER), {}, EXTRA["submit_evidence"]
    )
    assert after.status == "awaiting_staff" and after.proposal is None and after.revision == 2


def test_a_refund_offer_above_the_cap_is_refused_with_its_field() -> None:
    with pytest.raises(InvalidAction) as refused:
        advance(
            state_in("awaiting_supplier"),
            "respond",
            Acting("supplier", "k", LATER),
            {"kind": "refund", "refund": {"amount": "20000.01"}},
            {},
        )
    assert set(refused.value.errors) == {"refund.amount"}


def test_evidence_lapse_cancels_a_buyer_request_and_returns_a_supplier_one() -> None:
    supplier = state_in("awaiting_evidence")
    timer = Acting("timer", None, LATER)
    assert advance(supplier, "lapse_evidence", timer, {})[1].status == "awaiting_staff"
    buyer = supplier.moved(
        "awaiting_evidence",
        evidence_request={**(supplier.evidence_request or {}), "party": "buyer"},
    )
    assert advance(buyer, "lapse_evidence", timer, {})[1].status == "cancelled"
    with pytest.raises(InvalidTransition):
        advance(supplier, "lapse_evidence", Acting("timer", None, FILED), {})


def test_confirm_is_a_determination_and_an_override_waits_for_approval() -> None:
    staff = Acting("staff", "staff-a", LATER, "user:1")
    _, confirmed = advance(state_in("awaiting_staff"), "propose", staff, {"kind": "confirm"})
    assert confirmed.status == "refund_pending"
    assert (
        confirmed.refund is not None and confirmed.refund["due"] == "2024-05-29T10:00:00Z"
    )  # Mon + 7 bd
    _, proposed = advance(
        state_in("awaiting_staff"),
        "propose",
        staff,
        {"kind": "override"},
        {"override": OVERRIDE_DOC},
    )
    assert proposed.status == "pending_approval" and proposed.proposal is not None
