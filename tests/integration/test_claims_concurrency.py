"""Twenty threads acting on one claim at once: one event per accepted action, one state."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from claimkit import STAFF_A, SYSTEM, MovableClock, filed_case

from adjudicator import Adjudicator
from adjudicator.claims.service import Viewer, act, claim_events, get_claim, open_claim
from adjudicator.core.lifecycle import InvalidTransition
from adjudicator.db.store import Store
from adjudicator.verification import verify_audit

THREADS = 20


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


def test_twenty_threads_on_one_claim(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    record, _ = open_claim(store, adjudicator, filed_case(), SYSTEM)
    clock.move(timedelta(hours=80))
    start = threading.Barrier(THREADS)
    escalated: list[int] = []
    refused: list[int] = []
    failures: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            start.wait()
            act(store, adjudicator, record.ref, "note", {"text": f"n{i}"}, STAFF_A)
            try:
                act(
                    store,
                    adjudicator,
                    record.ref,
                    "escalate",
                    {},
                    SYSTEM,
                    party="buyer",
                    idempotency_key=f"esc-{i}",
                )
                escalated.append(i)
            except InvalidTransition:
                refused.append(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(escalated) == 1 and len(refused) == THREADS - 1
    staff = Viewer(STAFF_A.key_id, "staff")
    events = claim_events(store, record.ref, staff)
    assert [e.seq for e in events] == list(range(1, THREADS + 3))
    assert sum(e.action == "note" for e in events) == THREADS
    assert sum(e.action == "escalate" for e in events) == 1
    assert get_claim(store, record.ref, staff).state.status == "awaiting_staff"
    assert len({e.audit_seq for e in events}) == len(events)
    assert verify_audit(store).ok
