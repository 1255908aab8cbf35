"""Replay jobs over stored decisions: the report's figures, drift, errors, sampling, workers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from claimkit import MovableClock
from governkit import CANDIDATE, CHANGED, SEEDER, UNCHANGED, make_rules_root, seed
from sqlalchemy import func, select, update

from adjudicator import Adjudicator, load_catalog, worker
from adjudicator.audit.models import AuditEntryRow
from adjudicator.core.errors import RulesetError, UnknownRuleset
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.overrides import Determination
from adjudicator.decisions.service import override_decision
from adjudicator.governance.replay_job import run_replay
from adjudicator.governance.replays import (
    ABANDONED_AFTER,
    ReplaySpec,
    create_replay,
    get_replay,
    replay_csv,
    report_digest,
    update_replay,
)
from adjudicator.settings import Settings

OPERATOR = Actor(key_id=None, name="cli:analyst", role="admin")


@pytest.fixture(scope="module")
def rules_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_rules_root(tmp_path_factory.mktemp("rules"))


@pytest.fixture(scope="module")
def governed(rules_root: Path) -> Iterator[Adjudicator]:
    yield Adjudicator(load_catalog(rules_root))


def _replay(store: Store, adjudicator: Adjudicator, spec: ReplaySpec, **kwargs: object) -> dict:
    active = adjudicator.catalog.get(None).version
    info = create_replay(store, adjudicator, spec, active=active, actor=OPERATOR)
    assert info.status == "queued"
    done = run_replay(store, info.replay_id, adjudicator, **kwargs)  # type: ignore[arg-type]
    assert done.status == "succeeded", done.error
    assert done.report is not None
    return done.report


def _counts(store: Store) -> tuple[int, int]:
    with store.db.read() as session:
        decisions = session.execute(select(func.count()).select_from(DecisionRow)).scalar_one()
        entries = session.execute(select(func.count()).select_from(AuditEntryRow)).scalar_one()
    return decisions, entries


def test_the_report_counts_transitions_refunds_and_rule_fires(
    store: Store, governed: Adjudicator
) -> None:
    seed(store, governed)
    before = _counts(store)
    report = _replay(store, governed, ReplaySpec(candidate=CANDIDATE))
    assert _counts(store) == before  # nothing written but the replay itself

    assert (report["total"], report["changed"], report["unchanged"]) == (
        len(CHANGED) + len(UNCHANGED),
        len(CHANGED),
        len(UNCHANGED),
    )
    assert (report["errors"], report["drifted"]) == (0, 0)
    assert report["candidate"]["digest"] == governed.catalog.get(CANDIDATE).digest
    assert report["baseline"]["version"] == governed.catalog.get(None).version
    assert report["oldest_decision"] < report["newest_decision"]
    assert report["transitions"]["denied"]["upheld_partial"] == 1
    assert report["transitions"]["upheld_full"]["not_eligible"] == 1
    usd = report["refund_change"]["by_currency"]["USD"]
    assert Decimal(usd["sum"]) == Decimal("1800.00") - Decimal("20000.00")
    assert (usd["refund_changed"], usd["increased"], usd["decreased"]) == (2, 1, 1)
    assert (usd["p50"], usd["p99"]) == ("-20000.00", "1800.00")
    assert report["refund_change"]["by_ground"]["quantity_shortage"]["USD"]["sum"] == "1800.00"
    fires = {entry["rule"]: entry for entry in report["rule_fires"]}
    assert fires["ELIG-08c"]["delta"] == 1 and fires["QTY-01b"]["delta"] == -1

    largest = report["largest_changes"]
    assert [c["refund"]["delta"] for c in largest] == ["-20000.00", "1800.00"]
    window = largest[0]
    assert window["outcome"] == {"before": "upheld_full", "after": "not_eligible"}
    assert window["trace"]["only_after"] == ["ELIG-08c"]
    assert {r["code"] for r in window["reasons"]["added"]} == {"E_OUTSIDE_CLAIM_WINDOW"}
    assert window["case"]["claim"]["ground"] == "late_shipment"
    assert window["before"]["ruleset"]["version"] != window["after"]["ruleset"]["version"]

    assert report["digest"] == report_digest(report)
    rows = list(csv.DictReader(io.StringIO(replay_csv(store, report["replay_id"]))))
    assert sorted((r["outcome_before"], r["outcome_after"]) for r in rows) == [
        ("denied", "upheld_partial"),
        ("upheld_full", "not_eligible"),
    ]
    assert get_replay(store, report["replay_id"]).digest == report["digest"]


def test_a_control_that_differs_from_the_stored_decision_is_drifted_and_kept_apart(
    store: Store, governed: Adjudicator
) -> None:
    ids = seed(store, governed)
    changed_id = ids[list(CHANGED).index("WIN-01a-30th-day-after-receipt")]
    with store.db.write() as session:  # as if an older engine had decided it otherwise
        row = session.get(DecisionRow, changed_id)
        assert row is not None
        document = dict(row.document)
        document["refund"] = {"amount": "19999.00", "currency": "USD"}
        session.execute(
            update(DecisionRow).where(DecisionRow.id == changed_id).values(document=document)
        )
    report = _replay(store, governed, ReplaySpec(candidate=CANDIDATE))
    assert (report["drifted"], report["changed"]) == (1, 1)
    assert report["drifted_cases"][0]["decision_id"] == changed_id
    assert report["drifted_cases"][0]["differs_in"] == ["refund"]
    assert "not_eligible" not in report["transitions"]["upheld_full"]  # not an impact


def test_overrides_are_not_replayed_and_unloaded_versions_are_errors(
    store: Store, governed: Adjudicator
) -> None:
    ids = seed(store, governed, ("WE-1-never-shipped", "WE-2-capped-at-ta-amount"))
    override_decision(
        store,
        ids[0],
        Determination(outcome="denied", refund="0", justification="Staff review."),
        actor=Actor(key_id=None, name="staff", role="staff"),
    )
    with store.db.write() as session:
        session.execute(
            update(DecisionRow).where(DecisionRow.id == ids[1]).values(ruleset_version="1999.9")
        )
    report = _replay(store, governed, ReplaySpec(candidate=CANDIDATE))
    assert (report["total"], report["errors"], report["unchanged"]) == (2, 1, 1)
    assert report["error_cases"][0]["decision_id"] == ids[1]
    assert "1999.9" in report["error_cases"][0]["error"]


def test_a_seeded_sample_picks_the_same_decisions_and_a_range_narrows(
    store: Store, governed: Adjudicator
) -> None:
    seed(store, governed)
    first = _replay(store, governed, ReplaySpec(candidate=CANDIDATE, sample=3, seed=7))
    again = _replay(store, governed, ReplaySpec(candidate=CANDIDATE, sample=3, seed=7))
    assert first["total"] == again["total"] == 3
    assert first["transitions"] == again["transitions"]
    assert (first["oldest_decision"], first["newest_decision"]) == (
        again["oldest_decision"],
        again["newest_decision"],
    )
    with store.db.read() as session:
        times = sorted(session.execute(select(DecisionRow.created_at)).scalars())
    narrowed = _replay(
        store, governed, ReplaySpec(candidate=CANDIDATE, since=times[1], until=times[3])
    )
    assert narrowed["total"] == 2


def test_a_baseline_selects_its_decisions(store: Store, governed: Adjudicator) -> None:
    seed(store, governed, ("WE-1-never-shipped",))
    report = _replay(store, governed, ReplaySpec(candidate=CANDIDATE, baseline=CANDIDATE))
    assert report["total"] == 0 and report["baseline"]["version"] == CANDIDATE


def test_bad_requests_are_refused_before_anything_runs(store: Store, governed: Adjudicator) -> None:
    with pytest.raises(UnknownRuleset):
        create_replay(store, governed, ReplaySpec(candidate="nope"), active="x", actor=SEEDER)
    active = governed.catalog.get(None).version
    with pytest.raises(InvalidRequest):
        create_replay(
            store, governed, ReplaySpec(candidate=CANDIDATE, sample=0), active=active, actor=SEEDER
        )


def test_worker_processes_give_the_same_figures(
    store: Store, governed: Adjudicator, rules_root: Path
) -> None:
    seed(store, governed)
    inline = _replay(store, governed, ReplaySpec(candidate=CANDIDATE))
    pooled = _replay(store, governed, ReplaySpec(candidate=CANDIDATE), jobs=2, rules_dir=rules_root)
    volatile = ("replay_id", "digest", "started_at", "finished_at")
    assert {k: v for k, v in inline.items() if k not in volatile} == {
        k: v for k, v in pooled.items() if k not in volatile
    }


def test_a_replay_fails_when_the_candidate_files_changed_since_it_was_filed(
    store: Store, governed: Adjudicator, tmp_path: Path
) -> None:
    seed(store, governed, ("WE-1-never-shipped",))
    active = governed.catalog.get(None).version
    info = create_replay(
        store, governed, ReplaySpec(candidate=CANDIDATE), active=active, actor=OPERATOR
    )
    edited = make_rules_root(tmp_path / "edited")
    with (edited / "trade_assurance" / CANDIDATE / "parameters.toml").open("a") as params:
        params.write("\n# edited after the replay was filed\n")
    with pytest.raises(RulesetError):
        run_replay(store, info.replay_id, Adjudicator(load_catalog(edited)))
    failed = get_replay(store, info.replay_id)
    assert failed.status == "failed" and "digest" in (failed.error or "")
    assert failed.report is None and failed.digest is None


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


def test_a_replay_whose_process_stopped_is_failed_by_the_worker_once(
    store: Store, governed: Adjudicator, clock: MovableClock
) -> None:
    """A replay runs in a thread of the process that took it: when that process stops,
    the worker fails it after ten minutes without a heartbeat, and leaves the rest alone."""
    seed(store, governed)
    active = governed.catalog.get(None).version
    spec = ReplaySpec(candidate=CANDIDATE, seed=1)
    stranded = create_replay(store, governed, spec, active=active, actor=OPERATOR).replay_id
    update_replay(store, stranded, status="running", started_at=clock())
    queued = create_replay(store, governed, spec, active=active, actor=OPERATOR).replay_id
    finished = create_replay(store, governed, spec, active=active, actor=OPERATOR).replay_id
    assert run_replay(store, finished, governed).status == "succeeded"
    abandon = {"replays.abandon": worker.all_jobs(Settings.from_env({}))["replays.abandon"]}

    clock.move(ABANDONED_AFTER - timedelta(seconds=5))
    assert worker.run_once(store, abandon) == {"replays.abandon": 0}
    lively = create_replay(store, governed, spec, active=active, actor=OPERATOR).replay_id
    clock.move(timedelta(seconds=10))
    assert worker.run_once(store, abandon) == {"replays.abandon": 2}
    assert worker.run_once(store, abandon) == {"replays.abandon": 0}
    for replay_id in (stranded, queued):
        info = get_replay(store, replay_id)
        assert info.status == "failed" and info.error is not None
        assert info.error.startswith("abandoned: no progress for 10 minutes")
    assert get_replay(store, finished).status == "succeeded"
    assert get_replay(store, lively).status == "queued"
    assert run_replay(store, lively, governed).status == "succeeded"  # a heartbeat per step
