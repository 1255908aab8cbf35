"""Gated activation: request, approval by another admin on fresh evidence, rollback, audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from governkit import ALICE, BOB, CANDIDATE, EXTRA, Clock, governed_adjudicator, seed
from servicekit import open_test_store, reset

from adjudicator import Adjudicator
from adjudicator.audit.log import list_audit
from adjudicator.db.errors import InvalidRequest
from adjudicator.db.store import Store
from adjudicator.governance.activation import (
    GovernanceConflict,
    SelfApproval,
    approve_activation,
    request_activation,
    rollback,
)
from adjudicator.governance.active import ActiveVersionCache, active_version
from adjudicator.governance.replay_job import run_replay
from adjudicator.governance.replays import ReplaySpec, create_replay
from adjudicator.verification import verify_audit


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Adjudicator:
    return governed_adjudicator(tmp_path_factory.mktemp("rules"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[Store]:
    opened = open_test_store(database_url, clock)
    reset(opened)
    yield opened
    opened.close()


def _report(store: Store, adjudicator: Adjudicator, candidate: str = CANDIDATE) -> str:
    active = active_version(store, adjudicator.catalog).version
    info = create_replay(
        store, adjudicator, ReplaySpec(candidate=candidate), active=active, actor=ALICE
    )
    return run_replay(store, info.replay_id, adjudicator).replay_id


def test_a_different_admin_approves_and_the_version_becomes_active(
    store: Store, governed: Adjudicator
) -> None:
    default = governed.catalog.get(None)
    assert active_version(store, governed.catalog).version == default.version
    seed(store, governed, ("WE-1-never-shipped",))
    report = _report(store, governed)
    filed = request_activation(
        store, governed.catalog, CANDIDATE, report=report, reason="tighter band", actor=ALICE
    )
    assert filed.status == "pending"
    with pytest.raises(SelfApproval):
        approve_activation(store, governed.catalog, filed.request_id, actor=ALICE)
    approved = approve_activation(store, governed.catalog, filed.request_id, actor=BOB)
    assert (approved.status, approved.approved_by) == ("approved", "bob")
    active = active_version(store, governed.catalog)
    assert (active.version, active.digest) == (CANDIDATE, governed.catalog.get(CANDIDATE).digest)
    with pytest.raises(GovernanceConflict) as closed:
        approve_activation(store, governed.catalog, filed.request_id, actor=BOB)
    assert closed.value.kind == "request-closed"

    entries = {e.action: e for e in list_audit(store, limit=100).items}
    activated = entries["ruleset.activated"].payload
    assert activated["report"] == report and activated["report_digest"] == filed.report_digest
    assert activated["requested_by"]["key_id"] == "k_alice"
    assert activated["approved_by"]["key_id"] == "k_bob"
    assert activated["previous"] == {"version": default.version, "digest": default.digest}
    assert "ruleset.activation_requested" in entries and "ruleset.activation_approved" in entries
    assert verify_audit(store).ok


def test_a_stale_or_mismatched_report_is_refused(
    store: Store, governed: Adjudicator, clock: Clock
) -> None:
    seed(store, governed, ("WE-1-never-shipped",))
    other = _report(store, governed, EXTRA)
    with pytest.raises(GovernanceConflict) as mismatch:
        request_activation(
            store, governed.catalog, CANDIDATE, report=other, reason="r", actor=ALICE
        )
    assert mismatch.value.kind == "report-mismatch"
    with pytest.raises(InvalidRequest):
        request_activation(
            store,
            governed.catalog,
            CANDIDATE,
            report="0" * 8 + "-0000-4000-8000-" + "0" * 12,
            reason="r",
            actor=ALICE,
        )

    report = _report(store, governed)
    old = request_activation(
        store, governed.catalog, CANDIDATE, report=report, reason="r", actor=ALICE
    )
    clock.now += timedelta(days=7, seconds=1)
    with pytest.raises(GovernanceConflict) as stale:
        approve_activation(store, governed.catalog, old.request_id, actor=BOB)
    assert stale.value.kind == "stale-report"

    # a fresh report, but the active version changes before the approval: stale again
    fresh = request_activation(
        store, governed.catalog, CANDIDATE, report=_report(store, governed), reason="r", actor=ALICE
    )
    extra = request_activation(
        store,
        governed.catalog,
        EXTRA,
        report=_report(store, governed, EXTRA),
        reason="r",
        actor=BOB,
    )
    approve_activation(store, governed.catalog, extra.request_id, actor=ALICE)
    with pytest.raises(GovernanceConflict) as moved:
        approve_activation(store, governed.catalog, fresh.request_id, actor=BOB)
    assert moved.value.kind == "stale-report"
    assert active_version(store, governed.catalog).version == EXTRA


def test_rollback_returns_to_the_version_before_with_a_reason(
    store: Store, governed: Adjudicator
) -> None:
    default = governed.catalog.get(None).version
    with pytest.raises(GovernanceConflict) as nothing:
        rollback(store, governed.catalog, reason="nothing yet", actor=ALICE)
    assert nothing.value.kind == "nothing-to-roll-back"
    seed(store, governed, ("WE-1-never-shipped",))
    filed = request_activation(
        store, governed.catalog, CANDIDATE, report=_report(store, governed), reason="r", actor=ALICE
    )
    approve_activation(store, governed.catalog, filed.request_id, actor=BOB)
    with pytest.raises(InvalidRequest):
        rollback(store, governed.catalog, reason="  ", actor=ALICE)
    back = rollback(store, governed.catalog, reason="refund spike in EUR", actor=ALICE)
    assert back.version == default == active_version(store, governed.catalog).version
    with pytest.raises(GovernanceConflict):
        rollback(store, governed.catalog, reason="again", actor=ALICE)
    entry = list_audit(store, limit=100, action="ruleset.rolled_back").items[0]
    assert entry.payload["reason"] == "refund spike in EUR"
    assert entry.payload["from"]["version"] == CANDIDATE
    assert entry.payload["report_digest"] == filed.report_digest
    assert verify_audit(store).ok


def test_the_cache_reads_the_database_again_after_its_ttl(
    store: Store, governed: Adjudicator
) -> None:
    ticks = [0.0]
    cache = ActiveVersionCache(store, governed.catalog, ttl=2.0, monotonic=lambda: ticks[0])
    default = governed.catalog.get(None).version
    assert cache.get() == default
    seed(store, governed, ("WE-1-never-shipped",))
    filed = request_activation(
        store, governed.catalog, CANDIDATE, report=_report(store, governed), reason="r", actor=ALICE
    )
    approve_activation(store, governed.catalog, filed.request_id, actor=BOB)
    ticks[0] = 1.9
    assert cache.get() == default
    ticks[0] = 2.0
    assert cache.get() == CANDIDATE
