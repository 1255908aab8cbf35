"""``verify_audit`` holds claims, their events and their case revisions to the chain.

A claim is made through the service (opened, new evidence, a supplier's
refund offer, a staff note, the buyer's acceptance), then its rows are changed
with plain SQL as an intruder with database access would: each change is
named, with the entry it contradicts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from claimkit import STAFF_A, SYSTEM, MovableClock, filed_case
from sqlalchemy import delete, select, update

from adjudicator import Adjudicator
from adjudicator.audit.log import VerifyReport, list_audit
from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow, ClaimRow
from adjudicator.claims.service import act, open_claim
from adjudicator.db.store import Store
from adjudicator.verification import verify_audit


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


def _seq(store: Store, action: str, subject: str) -> int:
    """The seq of the one ``action`` entry about ``subject``."""
    (entry,) = list_audit(store, action=action, subject=subject, limit=200).items
    return entry.seq


def _agreed_claim(store: Store, adjudicator: Adjudicator) -> str:
    """A claim in the refund stage: 5000.00 USD offered by the supplier, accepted by the buyer."""
    record, _ = open_claim(store, adjudicator, filed_case(order_id="PO-X1"), SYSTEM)
    ref = record.ref
    evidence = {"payments": [{"payment_id": "P2", "amount": "4000.00"}]}
    act(store, adjudicator, ref, "submit_evidence", evidence, SYSTEM, party="supplier")
    offer = {"kind": "refund", "refund": {"amount": "5000.00"}}
    act(store, adjudicator, ref, "respond", offer, SYSTEM, party="supplier")
    act(store, adjudicator, ref, "note", {"text": "buyer called"}, STAFF_A)
    record, _ = act(store, adjudicator, ref, "accept", {}, SYSTEM, party="buyer")
    assert record.to_dict()["status"] == "pending"
    return ref


def _broken(store: Store) -> tuple[int, str, str]:
    report: VerifyReport = verify_audit(store)
    assert report.broken is not None, "verify said ok"
    return report.broken.seq, report.broken.problem, report.broken.detail


def _state(store: Store, ref: str) -> dict[str, Any]:
    with store.db.read() as session:
        state = session.execute(select(ClaimRow.state).where(ClaimRow.ref == ref)).scalar_one()
    assert isinstance(state, dict)
    return state


def test_an_untouched_claim_verifies(store: Store, adjudicator: Adjudicator) -> None:
    _agreed_claim(store, adjudicator)
    assert verify_audit(store).ok


def test_a_refund_amount_edited_in_the_state_is_named(
    store: Store, adjudicator: Adjudicator
) -> None:
    ref = _agreed_claim(store, adjudicator)
    state = _state(store, ref)
    assert state["refund"]["amount"] == "5000.00"
    state["refund"] = {**state["refund"], "amount": "50000.00"}
    with store.db.write() as session:
        session.execute(update(ClaimRow).where(ClaimRow.ref == ref).values(state=state))
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "claim.accepted", ref), "changed")
    assert f"claim {ref} (order PO-X1) was changed in the database after entry {seq}" in detail
    assert "no longer matches the entry's state_digest" in detail
    assert "refund 50000.00 USD" in detail


def test_a_status_edited_in_the_column_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.write() as session:
        session.execute(update(ClaimRow).where(ClaimRow.ref == ref).values(status="refunded"))
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "claim.accepted", ref), "changed")
    assert "status 'refunded' in the database, 'refund_pending' in the log" in detail
    assert "its status column says 'refunded', its state 'refund_pending'" in detail


def test_a_status_edited_in_the_column_and_the_state_is_named(
    store: Store, adjudicator: Adjudicator
) -> None:
    ref = _agreed_claim(store, adjudicator)
    state = {**_state(store, ref), "status": "refunded"}
    with store.db.write() as session:
        session.execute(
            update(ClaimRow).where(ClaimRow.ref == ref).values(status="refunded", state=state)
        )
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "claim.accepted", ref), "changed")
    assert "status 'refunded' in the database, 'refund_pending' in the log" in detail
    assert "state_digest (status 'refunded', refund 5000.00 USD)" in detail


def test_an_event_whose_data_was_edited_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.write() as session:
        session.execute(
            update(ClaimEventRow)
            .where(ClaimEventRow.claim_ref == ref, ClaimEventRow.seq == 3)
            .values(data={"kind": "refund", "refund": {"amount": "50000.00"}})
        )
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "claim.responded", ref), "changed")
    assert detail == (
        f"claim {ref} event 3 (claim.responded) was changed in the database after entry {seq} "
        "recorded it: its data or note no longer match the entry's data_digest"
    )


def test_an_event_whose_status_was_edited_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.write() as session:
        session.execute(
            update(ClaimEventRow)
            .where(ClaimEventRow.claim_ref == ref, ClaimEventRow.seq == 5)
            .values(to_status="settled")
        )
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "claim.accepted", ref), "changed")
    assert "to_status 'settled' in the database, 'refund_pending' in the log" in detail


def test_a_deleted_event_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.write() as session:
        session.execute(
            delete(ClaimEventRow).where(ClaimEventRow.claim_ref == ref, ClaimEventRow.seq == 4)
        )
    seq, problem, detail = _broken(store)
    noted = _seq(store, "claim.noted", ref)
    assert (seq, problem) == (noted, "deleted")
    assert detail == f"claim {ref} event 4 (claim.noted), recorded by entry {noted}, is missing"


def test_an_edited_case_revision_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.read() as session:
        revision = session.get(ClaimRevisionRow, (ref, 2))
        assert revision is not None
        case, decision_id = dict(revision.case_document), revision.decision_id
    case["payments"] = [{**p, "amount": "1.00"} for p in case["payments"]]
    with store.db.write() as session:
        session.execute(
            update(ClaimRevisionRow)
            .where(ClaimRevisionRow.claim_ref == ref, ClaimRevisionRow.revision == 2)
            .values(case_document=case)
        )
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "decision.created", decision_id), "changed")
    assert detail == (
        f"claim {ref} revision 2: its case document was changed in the database after entry "
        f"{seq} recorded its digest (decision {decision_id})"
    )


def test_a_deleted_case_revision_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.write() as session:
        session.execute(
            delete(ClaimRevisionRow).where(
                ClaimRevisionRow.claim_ref == ref, ClaimRevisionRow.revision == 2
            )
        )
    seq, problem, detail = _broken(store)
    submitted = _seq(store, "claim.evidence_submitted", ref)
    assert (seq, problem) == (submitted, "deleted")
    assert detail == f"claim {ref} revision 2, recorded with entry {submitted}, is missing"


def test_a_determinations_refund_edited_is_named(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    record, _ = open_claim(store, adjudicator, filed_case(order_id="PO-X2"), SYSTEM)
    ref = record.ref
    clock.move(timedelta(hours=80))
    act(store, adjudicator, ref, "escalate", {}, SYSTEM, party="buyer")
    record, _ = act(store, adjudicator, ref, "propose", {"kind": "confirm"}, STAFF_A)
    claim = record.to_dict()
    decision_id = claim["determination"]["decision_id"]
    assert claim["determination"]["refund"] == {"amount": "20000.00", "currency": "USD"}
    assert verify_audit(store).ok
    state = _state(store, ref)
    state["determination"]["refund"]["amount"] = "2.00"
    state["refund"]["amount"] = "2.00"
    with store.db.write() as session:
        session.execute(update(ClaimRow).where(ClaimRow.ref == ref).values(state=state))
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (_seq(store, "decision.created", decision_id), "changed")
    assert detail == (
        f"claim {ref}: its determination (upheld_full, refund 2.00 USD) differs from decision "
        f"{decision_id} as entry {seq} recorded it (upheld_full, refund 20000.00 USD)"
    )


def test_a_claim_row_inserted_by_hand_is_named(store: Store, adjudicator: Adjudicator) -> None:
    ref = _agreed_claim(store, adjudicator)
    with store.db.read() as session:
        row = session.get(ClaimRow, ref)
        assert row is not None
        values = {c.name: getattr(row, c.key) for c in ClaimRow.__table__.columns}
    planted = "00000000-0000-4000-8000-000000000001"
    values.update(ref=planted, open_key=None, idempotency_key=None, claim_id="C-planted")
    with store.db.write() as session:
        session.execute(ClaimRow.__table__.insert().values(values))
    seq, problem, detail = _broken(store)
    assert problem == "unrecorded"
    assert detail == f"claim {planted} (order PO-X1) has no claim-event entry"
