"""The claim service on SQLite and PostgreSQL: open, act, read, with its audit and outbox rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from claimkit import FILED, STAFF_A, STAFF_B, SYSTEM, MovableClock, filed_case
from sqlalchemy import func, select

from adjudicator import Adjudicator, InvalidCase
from adjudicator.audit.models import AuditEntryRow
from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow
from adjudicator.claims.service import (
    ClaimExists,
    ClaimFilter,
    ClaimIdempotencyConflict,
    Viewer,
    act,
    claim_events,
    get_claim,
    list_claims,
    open_claim,
)
from adjudicator.core.lifecycle import (
    ActionForbidden,
    InvalidTransition,
    ReplacedProposal,
    StaleProposal,
)
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.queries import get_decision
from adjudicator.verification import verify_audit
from adjudicator.webhooks.models import OutboxRow


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


STAFF = Viewer(STAFF_A.key_id, "staff")


def count(store: Store, model: Any) -> int:
    with store.db.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def opened(store: Store, adjudicator: Adjudicator, **kwargs: Any) -> str:
    record, created = open_claim(store, adjudicator, filed_case(**kwargs), SYSTEM)
    assert created
    return record.ref


def test_open_stores_the_claim_its_revision_decision_event_audit_and_outbox(
    store: Store, adjudicator: Adjudicator
) -> None:
    record, created = open_claim(
        store, adjudicator, filed_case(order_id="PO-9"), SYSTEM, request_id="r-1"
    )
    claim = record.to_dict()
    assert created and claim["stage"] == "negotiation" and claim["status"] == "awaiting_supplier"
    assert claim["waiting_on"] == "supplier"
    assert claim["recommendation"]["outcome"] == "upheld_full"
    assert {c["name"]: c["state"] for c in claim["clocks"]} == {
        "supplier_response_due": "pending",
        "escalation_allowed_from": "pending",
        "auto_escalation_at": "pending",
    }
    assert claim["next_due"] == "2024-04-23T10:00:00Z"
    decision = get_decision(store, claim["recommendation"]["decision_id"])
    assert decision.case is not None and decision.case["as_of"].startswith("2024-04-20T11:00")
    assert count(store, ClaimRevisionRow) == count(store, ClaimEventRow) == 1
    # the decision, the event, and the order's new cap account (ledger.cap)
    assert count(store, OutboxRow) == 1 and count(store, AuditEntryRow) == 3
    events = claim_events(store, record.ref, STAFF)
    assert [e.type for e in events] == ["claim.opened"] and events[0].audit_seq == 2
    assert verify_audit(store).ok


def test_one_open_claim_per_order_and_claim_id_and_idempotent_opening(
    store: Store, adjudicator: Adjudicator
) -> None:
    case = filed_case(order_id="PO-2", claim_id="C-1")
    first, _ = open_claim(store, adjudicator, case, SYSTEM, idempotency_key="k1")
    again, created = open_claim(store, adjudicator, case, SYSTEM, idempotency_key="k1")
    assert not created and again.ref == first.ref
    with pytest.raises(ClaimIdempotencyConflict):
        open_claim(store, adjudicator, filed_case(order_id="PO-3"), SYSTEM, idempotency_key="k1")
    with pytest.raises(ClaimExists) as exists:
        open_claim(store, adjudicator, case, SYSTEM)
    assert exists.value.claim_ref == first.ref
    act(store, adjudicator, first.ref, "withdraw", {}, SYSTEM, party="buyer")
    reopened, created = open_claim(store, adjudicator, case, SYSTEM)
    assert created and reopened.ref != first.ref


def test_an_invalid_case_stores_nothing(store: Store, adjudicator: Adjudicator) -> None:
    case = filed_case()
    case["order"]["lines"][0]["quantity"] = -1
    with pytest.raises(InvalidCase) as invalid:
        open_claim(store, adjudicator, case, SYSTEM)
    assert "order.lines.0.quantity" in invalid.value.errors
    assert count(store, DecisionRow) == count(store, AuditEntryRow) == 0


def test_prior_claims_come_from_the_services_closed_claims_on_the_order(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    first = opened(store, adjudicator, order_id="PO-7", claim_id="C-1")
    act(
        store,
        adjudicator,
        first,
        "respond",
        {"kind": "refund", "refund": {"amount": "5000.00"}},
        SYSTEM,
        party="supplier",
    )
    act(store, adjudicator, first, "accept", {}, SYSTEM, party="buyer")
    case = filed_case(order_id="PO-7", claim_id="C-2")
    case["prior_claims"] = [
        {
            "claim_id": "C-1",
            "ground": "other",
            "status": "withdrawn",
            "filed_at": "2024-04-01T00:00:00Z",
            "refund_granted": "0",
        }
    ]
    second, _ = open_claim(store, adjudicator, case, SYSTEM)
    claim = get_claim(store, second.ref, STAFF).to_dict()
    assert claim["case"]["prior_claims"] == [
        {
            "claim_id": "C-1",
            "ground": "non_shipment",
            "status": "settled",
            "filed_at": "2024-04-20T10:00:00Z",
            "refund_granted": "5000.00",
        }
    ]
    assert claim["recommendation"]["cap"] == "15000.00"  # one cap for both claims


def test_a_whole_dispute_with_evidence_and_four_eyes(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    ref = opened(store, adjudicator)
    with pytest.raises(InvalidTransition) as early:
        act(store, adjudicator, ref, "escalate", {}, SYSTEM, party="buyer")
    assert "withdraw" in early.value.allowed and "escalate" not in early.value.allowed
    clock.move(timedelta(hours=80))
    act(store, adjudicator, ref, "escalate", {}, SYSTEM, party="buyer")
    due = (FILED + timedelta(days=20)).isoformat()
    act(
        store,
        adjudicator,
        ref,
        "request_evidence",
        {"party": "supplier", "what": "bill of lading", "due": due},
        STAFF_A,
    )
    with pytest.raises(InvalidCase) as invalid:
        act(
            store,
            adjudicator,
            ref,
            "submit_evidence",
            {"payments": [{"payment_id": "P2", "amount": "-1"}]},
            SYSTEM,
            party="supplier",
        )
    assert "payments.1.amount" in invalid.value.errors
    record, _ = act(
        store,
        adjudicator,
        ref,
        "submit_evidence",
        {"payments": [{"payment_id": "P2", "amount": "4000.00"}]},
        SYSTEM,
        party="supplier",
    )
    claim = record.to_dict()
    assert claim["status"] == "awaiting_staff" and claim["revision"] == 2
    assert claim["recommendation"]["cap"] == "10000.00"
    override = {
        "kind": "override",
        "outcome": "upheld_partial",
        "refund": {"amount": "8000.00"},
        "justification": "partial shipment agreed",
    }
    first, _ = act(store, adjudicator, ref, "propose", override, STAFF_A)
    assert first.state.proposal is not None
    reviewed = {"proposal_id": first.state.proposal["proposal_id"]}
    with pytest.raises(ActionForbidden):
        act(store, adjudicator, ref, "approve", reviewed, STAFF_A)
    act(store, adjudicator, ref, "submit_evidence", {"shipments": []}, SYSTEM, party="buyer")
    assert get_claim(store, ref, STAFF).state.proposal is None  # evidence cleared it
    second, _ = act(store, adjudicator, ref, "propose", override, STAFF_A)
    assert second.state.proposal is not None
    with pytest.raises(ReplacedProposal):  # an approval of the first does not grant the second
        act(store, adjudicator, ref, "approve", reviewed, STAFF_B)
    reviewed = {"proposal_id": second.state.proposal["proposal_id"]}
    record, _ = act(store, adjudicator, ref, "approve", reviewed, STAFF_B)
    claim = record.to_dict()
    assert claim["stage"] == "refund" and claim["status"] == "pending"
    determined = get_decision(store, claim["determination"]["decision_id"])
    assert determined.overrides == claim["recommendation"]["decision_id"]
    act(store, adjudicator, ref, "refund_initiated", {"payout_reference": "PAY-1"}, SYSTEM)
    record, _ = act(store, adjudicator, ref, "refund_completed", {}, SYSTEM)
    assert record.to_dict()["status"] == "refunded"
    types = [e.type for e in claim_events(store, ref, STAFF)]
    assert types == [
        "claim.opened",
        "claim.escalated",
        "claim.evidence_requested",
        "claim.evidence_submitted",
        "claim.proposed",
        "claim.evidence_submitted",
        "claim.proposed",
        "claim.approved",
        "claim.refund_initiated",
        "claim.refund_completed",
    ]
    assert count(store, OutboxRow) == len(types)
    assert verify_audit(store).ok


def test_approving_a_proposal_on_an_older_revision_is_stale(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    ref = opened(store, adjudicator)
    clock.move(timedelta(hours=80))
    act(store, adjudicator, ref, "escalate", {}, SYSTEM, party="buyer")
    override = {
        "kind": "override",
        "outcome": "denied",
        "refund": {"amount": "0"},
        "justification": "no",
    }
    proposed, _ = act(store, adjudicator, ref, "propose", override, STAFF_A)
    assert proposed.state.proposal is not None
    reviewed = {"proposal_id": proposed.state.proposal["proposal_id"]}
    with pytest.raises(StaleProposal):
        from adjudicator.claims.models import ClaimRow

        with store.db.write() as session:  # a revision that skipped the proposal's clearing
            row = session.get(ClaimRow, ref)
            assert row is not None
            row.state = {**row.state, "revision": row.state["revision"] + 1}
        act(store, adjudicator, ref, "approve", reviewed, STAFF_B)


def test_notes_are_internal_and_actions_are_idempotent(
    store: Store, adjudicator: Adjudicator
) -> None:
    ref = opened(store, adjudicator)
    _, created = act(
        store, adjudicator, ref, "note", {"text": "call them"}, STAFF_A, idempotency_key="n1"
    )
    _, again = act(
        store, adjudicator, ref, "note", {"text": "call them"}, STAFF_A, idempotency_key="n1"
    )
    assert created and not again
    with pytest.raises(ClaimIdempotencyConflict):
        act(store, adjudicator, ref, "note", {"text": "other"}, STAFF_A, idempotency_key="n1")
    assert [e.note for e in claim_events(store, ref, STAFF)] == [None, "call them"]
    system = Viewer(SYSTEM.key_id, "system")
    assert [e.type for e in claim_events(store, ref, system)] == ["claim.opened"]


def test_the_list_filters_and_sorts_by_next_due(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    early = opened(store, adjudicator, filed_at=FILED - timedelta(days=2))
    late = opened(store, adjudicator)
    other = Viewer("other-key", "system")
    assert list_claims(store, ClaimFilter(), other).items == []
    page = list_claims(store, ClaimFilter(), STAFF, limit=1)
    assert [c.ref for c in page.items] == [early]
    rest = list_claims(store, ClaimFilter(), STAFF, cursor=page.next_cursor)
    assert [c.ref for c in rest.items] == [late] and rest.next_cursor is None
    clock.move(timedelta(hours=60))  # early's supplier is overdue; late's due within 24 h
    assert [c.ref for c in list_claims(store, ClaimFilter(overdue=True), STAFF).items] == [early]
    assert [c.ref for c in list_claims(store, ClaimFilter(at_risk=True), STAFF).items] == [late]
    stage = ClaimFilter(stage="negotiation", status="awaiting_supplier", waiting_on="supplier")
    assert len(list_claims(store, stage, STAFF).items) == 2
    assert list_claims(store, ClaimFilter(stage="closed"), STAFF).items == []


class CountingDecider:
    """The real core, counting its decisions."""

    def __init__(self, inner: Adjudicator) -> None:
        self.inner = inner
        self.calls = 0

    def decide(self, case: Any, ruleset: Any = None, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.decide(case, ruleset, **kwargs)


def test_evidence_is_decided_once_before_the_lock_and_again_only_when_the_base_moved(
    store: Store, adjudicator: Adjudicator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adjudicator.claims import service as claims

    ref = opened(store, adjudicator)
    counting = CountingDecider(adjudicator)
    evidence = {"payments": [{"payment_id": "P2", "amount": "4000.00"}]}
    act(store, counting, ref, "submit_evidence", evidence, SYSTEM, party="buyer")
    assert counting.calls == 1  # the early decision was used under the lock

    real = claims._early_evidence

    def stale(*args: Any, **kwargs: Any) -> Any:
        revision, case, document = real(*args, **kwargs)
        return revision - 1, case, {**document, "outcome": "denied"}  # made on an older base

    monkeypatch.setattr(claims, "_early_evidence", stale)
    record, _ = act(store, counting, ref, "submit_evidence", evidence, SYSTEM, party="buyer")
    assert counting.calls == 3  # early (discarded) + decided again under the lock
    assert record.state.recommendation["outcome"] != "denied"
    assert record.state.revision == 3
