"""``verify_audit`` holds the ruleset activation history and requests to the ``ruleset.*`` entries.

The newest activation row is the ruleset every new decision is made with: a
row inserted by hand switches the rules with no approval. Each row inserted,
edited or deleted, and a request set back to pending, is named.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from governkit import ALICE, BOB, CANDIDATE, EXTRA, Clock, governed_adjudicator, seed
from servicekit import open_test_store, reset
from sqlalchemy import delete, insert, select, update

from adjudicator import Adjudicator
from adjudicator.audit.log import list_audit
from adjudicator.db.store import Store
from adjudicator.governance.activation import approve_activation, request_activation, rollback
from adjudicator.governance.active import active_version
from adjudicator.governance.models import ActivationRequestRow, RulesetActivationRow
from adjudicator.governance.replay_job import run_replay
from adjudicator.governance.replays import ReplaySpec, create_replay
from adjudicator.verification import verify_audit


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Adjudicator:
    return governed_adjudicator(tmp_path_factory.mktemp("rules"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_test_store(database_url, Clock())
    reset(opened)
    yield opened
    opened.close()


def _activated(store: Store, governed: Adjudicator) -> str:
    """The candidate activated (request by alice, approval by bob); returns the request id."""
    seed(store, governed, ("WE-1-never-shipped",))
    active = active_version(store, governed.catalog).version
    info = create_replay(
        store, governed, ReplaySpec(candidate=CANDIDATE), active=active, actor=ALICE
    )
    report = run_replay(store, info.replay_id, governed).replay_id
    filed = request_activation(
        store, governed.catalog, CANDIDATE, report=report, reason="tighter band", actor=ALICE
    )
    approve_activation(store, governed.catalog, filed.request_id, actor=BOB)
    return filed.request_id


def _seq(store: Store, action: str) -> int:
    (entry,) = list_audit(store, action=action, limit=200).items
    return entry.seq


def _rows(store: Store) -> list[tuple[int, str, str]]:
    with store.db.read() as session:
        rows = session.execute(
            select(
                RulesetActivationRow.id, RulesetActivationRow.kind, RulesetActivationRow.version
            ).order_by(RulesetActivationRow.id)
        ).all()
    return [(row.id, row.kind, row.version) for row in rows]


def test_an_untouched_history_verifies(store: Store, governed: Adjudicator) -> None:
    _activated(store, governed)
    rollback(store, governed.catalog, reason="refund spike", actor=ALICE)
    default = governed.catalog.get(None).version
    assert [(kind, version) for _, kind, version in _rows(store)] == [
        ("initial", default), ("activation", CANDIDATE), ("rollback", default)
    ]  # fmt: skip
    assert verify_audit(store).ok


def test_an_activation_inserted_by_hand_is_named(store: Store, governed: Adjudicator) -> None:
    _activated(store, governed)
    extra = governed.catalog.get(EXTRA)
    newest = _rows(store)[-1][0]
    with store.db.write() as session:
        planted = session.execute(
            insert(RulesetActivationRow)
            .values(
                version=EXTRA, digest=extra.digest, kind="activation", previous_id=newest,
                request_id=None, reason="quiet fix", activated_at=store.clock(),
                actor_key_id="k_bob", actor_name="bob",
            )
            .returning(RulesetActivationRow.id)
        ).scalar_one()  # fmt: skip
    assert active_version(store, governed.catalog).version == EXTRA  # the intruder's rules rule
    report = verify_audit(store)
    assert report.broken is not None and report.broken.problem == "unrecorded"
    assert report.broken.detail == (
        f"ruleset activation {planted} (activation of extra {extra.digest}) has no ruleset.* entry"
    )


def test_an_activation_edited_to_another_version_is_named(
    store: Store, governed: Adjudicator
) -> None:
    _activated(store, governed)
    extra = governed.catalog.get(EXTRA)
    candidate = governed.catalog.get(CANDIDATE)
    row_id = _rows(store)[-1][0]
    with store.db.write() as session:
        session.execute(
            update(RulesetActivationRow)
            .where(RulesetActivationRow.id == row_id)
            .values(version=EXTRA, digest=extra.digest)
        )
    report = verify_audit(store)
    assert report.broken is not None
    seq = _seq(store, "ruleset.activated")
    assert (report.broken.seq, report.broken.problem) == (seq, "changed")
    assert report.broken.detail == (
        f"ruleset activation {row_id} was changed in the database after entry {seq} "
        f"recorded it: version 'extra' in the database, 'candidate' in the log; "
        f"digest {extra.digest!r} in the database, {candidate.digest!r} in the log"
    )


def test_a_deleted_rollback_is_named(store: Store, governed: Adjudicator) -> None:
    _activated(store, governed)
    rollback(store, governed.catalog, reason="refund spike", actor=ALICE)
    default = governed.catalog.get(None)
    with store.db.write() as session:
        session.execute(delete(RulesetActivationRow).where(RulesetActivationRow.kind == "rollback"))
    assert active_version(store, governed.catalog).version == CANDIDATE
    report = verify_audit(store)
    assert report.broken is not None
    seq = _seq(store, "ruleset.rolled_back")
    assert (report.broken.seq, report.broken.problem) == (seq, "deleted")
    assert report.broken.detail == (
        f"the ruleset activation (rollback of {default.version} {default.digest}) "
        f"recorded by entry {seq} is missing"
    )


def test_a_request_set_back_to_pending_is_named(store: Store, governed: Adjudicator) -> None:
    request_id = _activated(store, governed)
    with store.db.write() as session:
        session.execute(
            update(ActivationRequestRow)
            .where(ActivationRequestRow.id == request_id)
            .values(status="pending", approved_at=None, approved_by_key_id=None,
                    approved_by_name=None)
        )  # fmt: skip
    report = verify_audit(store)
    assert report.broken is not None
    seq = _seq(store, "ruleset.activation_requested")
    approved = _seq(store, "ruleset.activation_approved")
    assert (report.broken.seq, report.broken.problem) == (seq, "changed")
    assert report.broken.detail == (
        f"activation request {request_id} was changed in the database after entry {seq} "
        f"recorded it: it is 'pending' (by None) in the database, approved by 'bob' in entry "
        f"{approved}"
    )


def test_a_row_slipped_in_before_a_later_rollback_is_the_one_named(
    store: Store, governed: Adjudicator
) -> None:
    _activated(store, governed)
    extra = governed.catalog.get(EXTRA)
    newest = _rows(store)[-1][0]
    with store.db.write() as session:
        planted = session.execute(
            insert(RulesetActivationRow)
            .values(
                version=EXTRA, digest=extra.digest, kind="activation", previous_id=newest,
                request_id=None, reason="quiet fix", activated_at=store.clock(),
                actor_key_id="k_bob", actor_name="bob",
            )
            .returning(RulesetActivationRow.id)
        ).scalar_one()  # fmt: skip
    rollback(store, governed.catalog, reason="undo the quiet fix", actor=ALICE)  # a real entry
    report = verify_audit(store)
    assert report.broken is not None and report.broken.problem == "unrecorded"
    assert report.broken.detail == (
        f"ruleset activation {planted} (activation of extra {extra.digest}) has no ruleset.* entry"
    )
