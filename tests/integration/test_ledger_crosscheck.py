"""``verify_audit`` holds the order ledger's entries and accounts to the ``ledger.*`` entries.

Two claims on one order (assurance 20,000.00 USD): the first is granted
5,000.00 and paid, the second granted 3,000.00 and not yet paid. Then the
ledger's rows are changed with plain SQL: each change is named.
"""

from __future__ import annotations

import pytest
from claimkit import SYSTEM, MovableClock, filed_case
from sqlalchemy import delete, insert, select, update

from adjudicator import Adjudicator
from adjudicator.audit.log import list_audit
from adjudicator.claims.service import act, open_claim
from adjudicator.db.store import Store
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow
from adjudicator.verification import verify_audit

ORDER = "PO-L1"


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


def _granted(store: Store, adjudicator: Adjudicator, claim_id: str, amount: str) -> str:
    """A claim on ORDER whose supplier offered ``amount`` and whose buyer accepted it."""
    record, _ = open_claim(
        store, adjudicator, filed_case(order_id=ORDER, claim_id=claim_id), SYSTEM
    )
    offer = {"kind": "refund", "refund": {"amount": amount}}
    act(store, adjudicator, record.ref, "respond", offer, SYSTEM, party="supplier")
    act(store, adjudicator, record.ref, "accept", {}, SYSTEM, party="buyer")
    return record.ref


def _ledger(store: Store, adjudicator: Adjudicator) -> tuple[str, str]:
    first = _granted(store, adjudicator, "C-1", "5000.00")
    act(store, adjudicator, first, "refund_initiated", {"payout_reference": "PAY-1"}, SYSTEM)
    act(store, adjudicator, first, "refund_completed", {}, SYSTEM)
    second = _granted(store, adjudicator, "C-2", "3000.00")
    return first, second


def _entries(store: Store) -> list[tuple[int, str, str, int, int]]:
    with store.db.read() as session:
        rows = session.execute(
            select(
                LedgerEntryRow.id, LedgerEntryRow.claim_ref, LedgerEntryRow.kind,
                LedgerEntryRow.amount, LedgerEntryRow.audit_seq,
            ).order_by(LedgerEntryRow.id)
        ).all()  # fmt: skip
    return [(row.id, row.claim_ref, row.kind, row.amount, row.audit_seq) for row in rows]


def _account(store: Store) -> tuple[int, int, int]:
    with store.db.read() as session:
        row = session.execute(
            select(OrderAccountRow.cap, OrderAccountRow.held, OrderAccountRow.paid).where(
                OrderAccountRow.order_id == ORDER
            )
        ).one()
    return row.cap, row.held, row.paid


def _broken(store: Store) -> tuple[int, str, str]:
    report = verify_audit(store)
    assert report.broken is not None, "verify said ok"
    return report.broken.seq, report.broken.problem, report.broken.detail


def test_an_untouched_ledger_verifies(store: Store, adjudicator: Adjudicator) -> None:
    first, second = _ledger(store, adjudicator)
    kinds = [(ref, kind, amount) for _, ref, kind, amount, _ in _entries(store)]
    assert kinds == [
        (first, "hold", 500000), (first, "payout", 500000), (second, "hold", 300000)
    ]  # fmt: skip
    assert _account(store) == (2000000, 300000, 500000)
    assert verify_audit(store).ok


def test_a_ledger_entrys_amount_edited_is_named(store: Store, adjudicator: Adjudicator) -> None:
    _, second = _ledger(store, adjudicator)
    entry_id, _, _, _, seq = _entries(store)[-1]
    with store.db.write() as session:
        session.execute(
            update(LedgerEntryRow).where(LedgerEntryRow.id == entry_id).values(amount=100)
        )
    assert _broken(store) == (
        seq,
        "changed",
        f"ledger entry {entry_id} (hold for claim {second}) was changed in the database after "
        f"entry {seq} recorded it: amount 1.00 USD in the database, 3000.00 USD in the log",
    )


def test_an_accounts_held_edited_is_named(store: Store, adjudicator: Adjudicator) -> None:
    _ledger(store, adjudicator)
    last = _entries(store)[-1][-1]
    with store.db.write() as session:
        session.execute(
            update(OrderAccountRow).where(OrderAccountRow.order_id == ORDER).values(held=0)
        )
    assert _broken(store) == (
        last,
        "changed",
        f"order {ORDER}'s USD account was changed in the database after entry {last} "
        "recorded it: held 0.00 USD in the database, its entries add up to 3000.00 USD",
    )


def test_an_accounts_cap_raised_is_named(store: Store, adjudicator: Adjudicator) -> None:
    _ledger(store, adjudicator)
    (cap_entry, *_) = list_audit(store, action="ledger.cap", subject=f"order:{ORDER}").items
    assert cap_entry.payload["cap"] == "20000.00"
    with store.db.write() as session:
        session.execute(
            update(OrderAccountRow).where(OrderAccountRow.order_id == ORDER).values(cap=9000000)
        )
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (cap_entry.seq, "changed")
    assert detail.startswith(
        f"order {ORDER}'s USD account was changed in the database after entry {seq} recorded "
        "its cap: cap 90000.00 USD in the database, 20000.00 USD in the log"
    )


def test_a_deleted_payout_is_named(store: Store, adjudicator: Adjudicator) -> None:
    first, _ = _ledger(store, adjudicator)
    entry_id, _, kind, _, seq = _entries(store)[1]
    assert kind == "payout"
    with store.db.write() as session:
        session.execute(delete(LedgerEntryRow).where(LedgerEntryRow.id == entry_id))
    assert _broken(store) == (
        seq,
        "deleted",
        f"ledger entry {entry_id} (ledger.payout of 5000.00 USD for claim {first}), recorded "
        f"by entry {seq}, is missing",
    )


def test_a_ledger_entry_inserted_by_hand_is_named(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    _, second = _ledger(store, adjudicator)
    hold_seq = _entries(store)[-1][-1]
    planted = {"order_id": ORDER, "currency": "USD", "claim_ref": second, "kind": "release",
               "amount": 300000, "at": clock()}  # fmt: skip
    with store.db.write() as session:
        stray = session.execute(
            insert(LedgerEntryRow).values(audit_seq=0, **planted).returning(LedgerEntryRow.id)
        ).scalar_one()
    seq, problem, detail = _broken(store)
    assert problem == "unrecorded"
    assert (
        detail == f"ledger entry {stray} (release for claim {second}) has no audit entry (entry 0)"
    )
    with store.db.write() as session:  # now passed off as the hold's entry
        session.execute(
            update(LedgerEntryRow).where(LedgerEntryRow.id == stray).values(audit_seq=hold_seq)
        )
    seq, problem, detail = _broken(store)
    assert (seq, problem) == (hold_seq, "changed")
    assert detail.startswith(
        f"ledger entry {stray} (release for claim {second}) was changed in the database "
        f"after entry {hold_seq} recorded it: kind 'ledger.release' in the database, "
        "'ledger.hold' in the log; entry id "
    )
