"""Idempotency-Key: a retry gets the stored decision; a twin race stores exactly one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from servicekit import make_case
from sqlalchemy import func, select

from adjudicator import Adjudicator
from adjudicator.audit.log import list_audit
from adjudicator.db.actor import Actor
from adjudicator.db.errors import IdempotencyConflict, InvalidRequest
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.records import StoredDecision
from adjudicator.decisions.service import create_decision
from adjudicator.verification import verify_audit

SYSTEM = Actor(key_id="k-system", name="upstream", role="system")


def test_the_same_key_and_body_return_the_stored_decision(
    store: Store, adjudicator: Adjudicator
) -> None:
    case = make_case()
    del case["as_of"]  # filled with "now": a retry must still match
    first, created = create_decision(store, adjudicator, case, actor=SYSTEM, idempotency_key="k1")
    again, created_again = create_decision(
        store, adjudicator, case, actor=SYSTEM, idempotency_key="k1"
    )
    assert created and not created_again
    assert again.decision_id == first.decision_id
    assert again.document == first.document
    assert len(list_audit(store).items) == 1


def test_the_same_key_with_another_body_is_a_conflict(
    store: Store, adjudicator: Adjudicator
) -> None:
    first, _ = create_decision(store, adjudicator, make_case(), actor=SYSTEM, idempotency_key="k2")
    with pytest.raises(IdempotencyConflict) as raised:
        create_decision(store, adjudicator, make_case(), actor=SYSTEM, idempotency_key="k2")
    assert raised.value.decision_id == first.decision_id


def test_the_same_key_with_another_ruleset_pin_is_a_conflict(
    store: Store, adjudicator: Adjudicator
) -> None:
    case = make_case()
    create_decision(store, adjudicator, case, actor=SYSTEM, idempotency_key="k3")
    with pytest.raises(IdempotencyConflict):
        version = adjudicator.catalog.active.version
        create_decision(
            store, adjudicator, case, actor=SYSTEM, idempotency_key="k3", ruleset=version
        )


def test_the_same_key_with_an_invalid_body_is_a_conflict_not_a_422(
    store: Store, adjudicator: Adjudicator
) -> None:
    create_decision(store, adjudicator, make_case(), actor=SYSTEM, idempotency_key="k4")
    with pytest.raises(IdempotencyConflict):
        create_decision(store, adjudicator, {"order": 1}, actor=SYSTEM, idempotency_key="k4")


def test_an_overlong_key_is_refused(store: Store, adjudicator: Adjudicator) -> None:
    with pytest.raises(InvalidRequest):
        create_decision(store, adjudicator, make_case(), actor=SYSTEM, idempotency_key="k" * 256)


def test_twenty_threads_with_one_key_store_one_decision_and_one_entry(
    store: Store, adjudicator: Adjudicator
) -> None:
    case = make_case()
    start = threading.Barrier(20)

    def post(_: int) -> tuple[StoredDecision, bool]:
        start.wait()
        return create_decision(store, adjudicator, case, actor=SYSTEM, idempotency_key="race")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(post, range(20)))
    assert sum(created for _, created in results) == 1
    assert len({stored.decision_id for stored, _ in results}) == 1
    with store.db.read() as session:
        assert session.execute(select(func.count()).select_from(DecisionRow)).scalar_one() == 1
    assert [e.action for e in list_audit(store).items] == ["decision.created"]
    assert verify_audit(store).ok
