"""``money reconcile``: the claim events, the ledger rows and the claim rows agree, or each
disagreement is named; the migration carries old claims in; the worker's hourly run and its gauge.

Worked example 1: assurance 20,000.00 USD, covered payments 20,000.00, so the order's
cap is 20,000.00. The amounts below are chosen by hand against it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from claimkit import SYSTEM, MovableClock, filed_case
from click.testing import CliRunner
from servicekit import KEY_SECRET, open_test_store
from sqlalchemy import delete, select, update

from adjudicator import Adjudicator
from adjudicator.claims import service as claims
from adjudicator.claims.models import ClaimRow
from adjudicator.claims.reconcile import last_run, reconcile, reconcile_job
from adjudicator.claims.service import act, open_claim
from adjudicator.cli import main
from adjudicator.db.store import Store
from adjudicator.ledger.carry import carry_over
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow, ReconcileRunRow

ORDER = "PO-RECON-1"


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


def offer_accepted(store: Store, adjudicator: Adjudicator, amount: str, **kwargs: Any) -> str:
    """A claim on ORDER whose supplier offered ``amount`` and the buyer accepted it."""
    record, _ = open_claim(store, adjudicator, filed_case(order_id=ORDER, **kwargs), SYSTEM)
    body = {"kind": "refund", "refund": {"amount": amount}, "message": "sorry"}
    act(store, adjudicator, record.ref, "respond", body, SYSTEM, party="supplier")
    act(store, adjudicator, record.ref, "accept", {}, SYSTEM, party="buyer")
    return record.ref


def two_claims(store: Store, adjudicator: Adjudicator) -> tuple[str, str]:
    """Claim 1: 15,000.00 refunded; claim 2: 4,000.00 agreed, not yet paid."""
    first = offer_accepted(store, adjudicator, "15000.00")
    act(store, adjudicator, first, "refund_initiated", {"payout_reference": "PAY-1"}, SYSTEM)
    act(store, adjudicator, first, "refund_completed", {}, SYSTEM)
    second = offer_accepted(store, adjudicator, "4000.00")
    return first, second


def messages(store: Store) -> list[str]:
    return [d.message() for d in reconcile(store).discrepancies]


def test_a_clean_ledger_reconciles(store: Store, adjudicator: Adjudicator) -> None:
    two_claims(store, adjudicator)
    report = reconcile(store)
    assert report.ok, messages(store)
    assert (report.orders, report.claims) == (1, 2)
    with store.db.read() as session:
        account = session.get(OrderAccountRow, (ORDER, "USD"))
        assert account is not None
        assert (account.cap, account.held, account.paid) == (2_000_000, 400_000, 1_500_000)


def test_a_claims_refund_edited_in_the_database_is_named(
    store: Store, adjudicator: Adjudicator
) -> None:
    _, second = two_claims(store, adjudicator)
    with store.db.write() as session:
        row = session.get(ClaimRow, second)
        assert row is not None
        refund = {**row.state["refund"], "amount": "12345.00"}
        row.state = {**row.state, "refund": refund}
    assert messages(store) == [
        f"order {ORDER} (USD), claim {second}: held by the claim row: "
        "expected 4000.00, found 12345.00"
    ]


def test_a_ledger_entry_and_an_account_edited_are_named(
    store: Store, adjudicator: Adjudicator
) -> None:
    first, _ = two_claims(store, adjudicator)
    with store.db.write() as session:
        session.execute(
            update(LedgerEntryRow)
            .where(LedgerEntryRow.claim_ref == first, LedgerEntryRow.kind == "payout")
            .values(amount=1_000_000)
        )
        session.execute(update(OrderAccountRow).values(held=0))
    assert messages(store) == [
        f"order {ORDER} (USD), claim {first}: held by its ledger entries: "
        "expected 0.00, found 5000.00",
        f"order {ORDER} (USD), claim {first}: paid by its ledger entries: "
        "expected 15000.00, found 10000.00",
        f"order {ORDER} (USD): held on the account: expected 4000.00, found 0.00",
    ]


def test_an_account_with_a_cap_moved_by_hand_is_named(
    store: Store, adjudicator: Adjudicator
) -> None:
    two_claims(store, adjudicator)
    with store.db.write() as session:
        session.execute(update(OrderAccountRow).values(decided_cap=1_800_000, cap=2_000_000))
    found = messages(store)
    assert len(found) == 2
    assert found[0].startswith(f"order {ORDER} (USD): the cap of decision ")
    assert found[0].endswith(": expected 20000.00, found 18000.00")
    assert found[1] == (
        f"order {ORDER} (USD): held + paid within the decided cap: "
        "expected 18000.00, found 19000.00"
    )


def test_the_migration_carries_old_claims_in_and_reports_an_order_over_its_cap(
    store: Store, adjudicator: Adjudicator, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two claims granted 20,000.00 each by v1.0 (no ledger): the bug the ledger ends."""
    monkeypatch.setattr(claims, "ledger_extra", lambda *_: {"remaining": None})
    monkeypatch.setattr(claims, "move_ledger", lambda *a: (None, dict(a[-1])))
    first, _ = open_claim(store, adjudicator, filed_case(order_id=ORDER), SYSTEM)
    second, _ = open_claim(store, adjudicator, filed_case(order_id=ORDER), SYSTEM)
    for record in (first, second):
        body = {"kind": "refund", "refund": {"amount": "20000.00"}, "message": "sorry"}
        act(store, adjudicator, record.ref, "respond", body, SYSTEM, party="supplier")
        act(store, adjudicator, record.ref, "accept", {}, SYSTEM, party="buyer")
    act(store, adjudicator, first.ref, "refund_initiated", {"payout_reference": "P-1"}, SYSTEM)
    act(store, adjudicator, first.ref, "refund_completed", {}, SYSTEM)
    monkeypatch.undo()
    with store.db.write() as session:  # v1.0 had no ledger: only the accounts opened remain
        session.execute(delete(LedgerEntryRow))
        session.execute(delete(OrderAccountRow))
    with store.db.write() as session:
        assert carry_over(session, clock()) == 1
    with store.db.read() as session:
        account = session.get(OrderAccountRow, (ORDER, "USD"))
        assert account is not None
        # carried as it is: 20,000.00 paid, 20,000.00 held; never "fixed"
        assert (account.decided_cap, account.held, account.paid) == (
            2_000_000,
            2_000_000,
            2_000_000,
        )
        assert account.cap == 4_000_000  # nothing more can be granted
        kinds = session.execute(
            select(LedgerEntryRow.claim_ref, LedgerEntryRow.kind).order_by(LedgerEntryRow.id)
        ).all()
        assert [tuple(k) for k in kinds] == [
            (first.ref, "hold"),
            (first.ref, "payout"),
            (second.ref, "hold"),
        ]
    assert messages(store) == [
        f"order {ORDER} (USD): held + paid within the decided cap: "
        "expected 20000.00, found 40000.00"
    ]


def test_the_worker_runs_it_hourly_and_metrics_read_the_last_run(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    _, second = two_claims(store, adjudicator)
    assert last_run(store) is None
    assert reconcile_job(store) == 0
    with store.db.write() as session:
        session.execute(update(OrderAccountRow).values(paid=0))
    assert reconcile_job(store) == 0  # within the hour: not run again
    clock.move(timedelta(hours=1))
    assert reconcile_job(store) == 1
    latest = last_run(store)
    assert latest is not None and latest.discrepancies == 1 and latest.orders == 1
    with store.db.read() as session:
        assert len(session.execute(select(ReconcileRunRow)).all()) == 2


def test_the_cli_exits_1_naming_each_discrepancy(tmp_path: Path, adjudicator: Adjudicator) -> None:
    url = f"sqlite:///{tmp_path / 'money.db'}"
    env = {"DATABASE_URL": url, "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode()}
    store = open_test_store(url, MovableClock())
    store.db.migrate()
    try:
        _, second = two_claims(store, adjudicator)
        result = CliRunner().invoke(main, ["money", "reconcile"], env=env)
        assert result.exit_code == 0, result.output
        assert "1 orders, 2 claims: all agree" in result.stderr
        with store.db.write() as session:
            session.execute(update(OrderAccountRow).values(held=1))
        result = CliRunner().invoke(main, ["money", "reconcile", "--json"], env=env)
        assert result.exit_code == 1
        assert '"what": "held on the account"' in result.stdout
        assert '"expected": "4000.00"' in result.stdout and '"found": "0.01"' in result.stdout
    finally:
        store.close()
