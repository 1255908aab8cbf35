"""The decisions table is covered too: a changed, deleted or unrecorded decision is named.

The chain alone proves the log was not altered; ``verify_audit`` also checks
every stored decision against the digests of the entry that recorded it.
Tampering is done straight in the database.
"""

from __future__ import annotations

from servicekit import make_case
from sqlalchemy import delete, select, update

from adjudicator import Adjudicator
from adjudicator.audit.models import AuditEntryRow
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.service import create_decision
from adjudicator.verification import verify_audit

SYSTEM = Actor(key_id="k-system", name="upstream", role="system")


def _decide(store: Store, adjudicator: Adjudicator, count: int = 3) -> list[str]:
    return [
        create_decision(store, adjudicator, make_case(), actor=SYSTEM)[0].decision_id
        for _ in range(count)
    ]


def _entry_of(store: Store, decision_id: str) -> int:
    with store.db.read() as session:
        seq = session.execute(
            select(AuditEntryRow.seq).where(AuditEntryRow.subject == decision_id)
        ).scalar_one()
    return int(seq)


def test_stored_decisions_verify(store: Store, adjudicator: Adjudicator) -> None:
    _decide(store, adjudicator)
    assert verify_audit(store).ok


def test_a_changed_refund_in_a_stored_decision_is_named(
    store: Store, adjudicator: Adjudicator
) -> None:
    target = _decide(store, adjudicator)[1]
    with store.db.write() as session:
        row = session.get(DecisionRow, target)
        assert row is not None
        document = dict(row.document)
        document["refund"] = {"amount": "99999.00", "currency": "USD"}
        session.execute(
            update(DecisionRow).where(DecisionRow.id == target).values(document=document)
        )
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (_entry_of(store, target), "changed")
    assert target in report.broken.detail


def test_a_changed_case_document_is_named(store: Store, adjudicator: Adjudicator) -> None:
    target = _decide(store, adjudicator)[0]
    with store.db.write() as session:
        row = session.get(DecisionRow, target)
        assert row is not None
        case = dict(row.case_document)
        case["claim"] = {**case["claim"], "amount_claimed": "1.00"}
        session.execute(
            update(DecisionRow).where(DecisionRow.id == target).values(case_document=case)
        )
    report = verify_audit(store)
    assert report.broken is not None and report.broken.problem == "changed"
    assert target in report.broken.detail


def test_a_deleted_decision_is_named(store: Store, adjudicator: Adjudicator) -> None:
    target = _decide(store, adjudicator)[2]
    with store.db.write() as session:
        session.execute(delete(DecisionRow).where(DecisionRow.id == target))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (_entry_of(store, target), "deleted")


def test_a_decision_no_entry_recorded_is_named(store: Store, adjudicator: Adjudicator) -> None:
    target = _decide(store, adjudicator)[0]
    with store.db.write() as session:
        row = session.get(DecisionRow, target)
        assert row is not None
        forged = {c.name: getattr(row, c.name) for c in DecisionRow.__table__.columns}
        forged.update(id="00000000-0000-4000-8000-000000000001", idempotency_key=None)
        session.add(DecisionRow(**forged))
    report = verify_audit(store)
    assert report.broken is not None and report.broken.problem == "unrecorded"
    assert "00000000-0000-4000-8000-000000000001" in report.broken.detail
