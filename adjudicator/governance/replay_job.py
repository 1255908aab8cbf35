"""Running a replay job: chunks by key range, worker processes, the report.

- The stored decisions are split into **chunks by key range** of their UUIDs
  (random, so ranges hold about the same number of rows), or for
  ``--sample N --seed S`` into lists of sampled ids. Each chunk is read in
  pages by key, so a worker holds one page of cases at a time, and returns a
  small tally (:class:`adjudicator.analysis.impact.ImpactTally`: its changed cases only).
- ``jobs == 1`` runs the chunks in this process with the caller's
  adjudicator; ``jobs > 1`` starts that many worker processes (``spawn``),
  each building its engine and its database connection once, in its
  initializer. The parent merges the tallies as chunks finish and records
  progress; at the end it stores the report, its digest and the CSV.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select

from adjudicator.analysis.impact import ImpactTally, changes_csv, finish
from adjudicator.core.canonical import sha256_hex
from adjudicator.core.dates import rfc3339
from adjudicator.core.errors import AdjudicatorError, RulesetError
from adjudicator.db.database import Database
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.governance.models import ReplayRow
from adjudicator.governance.replays import (
    REPORT_KIND,
    ReplayDecider,
    ReplayInfo,
    get_replay,
    replay_row,
    report_digest,
    update_replay,
)

PAGE = 500  # rows read at a time inside a chunk
CHUNK = 2000  # rows per chunk, roughly
MAX_CHUNKS = 4096
_SPACE = 16**8  # key ranges split the first 8 hex digits of the UUIDs
log = logging.getLogger("adjudicator.replay")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A key range ``[low, high)`` of decision ids, or an explicit list of sampled ids."""

    low: str | None = None
    high: str | None = None
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Task:
    chunk: Chunk
    candidate: str
    candidate_digest: str
    baseline: str | None
    since: datetime | None
    until: datetime | None


def _selected(query: Select[Any], task: _Task) -> Select[Any]:
    query = query.where(DecisionRow.overrides_id.is_(None))
    if task.baseline is not None:
        query = query.where(DecisionRow.ruleset_version == task.baseline)
    if task.since is not None:
        query = query.where(DecisionRow.created_at >= task.since)
    if task.until is not None:
        query = query.where(DecisionRow.created_at < task.until)
    return query


_COLUMNS = (
    DecisionRow.id,
    DecisionRow.case_id,
    DecisionRow.created_at,
    DecisionRow.ruleset_version,
    DecisionRow.document,
    DecisionRow.case_document,
)


def _rows(db: Database, task: _Task) -> Iterator[Any]:
    """The chunk's stored decisions, a page at a time, in key order."""
    chunk = task.chunk
    if chunk.ids:
        for start in range(0, len(chunk.ids), PAGE):
            wanted = chunk.ids[start : start + PAGE]
            query = _selected(select(*_COLUMNS), task).where(DecisionRow.id.in_(wanted))
            with db.read() as session:
                yield from session.execute(query.order_by(DecisionRow.id)).all()
        return
    last: str | None = None
    while True:
        query = _selected(select(*_COLUMNS), task)
        if last is not None:
            query = query.where(DecisionRow.id > last)
        elif chunk.low is not None:
            query = query.where(DecisionRow.id >= chunk.low)
        if chunk.high is not None:
            query = query.where(DecisionRow.id < chunk.high)
        with db.read() as session:
            page = session.execute(query.order_by(DecisionRow.id).limit(PAGE)).all()
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1].id


def _stamp(at: datetime) -> str:
    # Fixed width, so the report's oldest/newest compare as text.
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def replay_chunk(db: Database, decider: ReplayDecider, task: _Task) -> ImpactTally:
    """Decide one chunk's cases with the candidate and the control; tally the difference."""
    tally = ImpactTally()
    candidate = decider.catalog.get(task.candidate)
    if candidate.digest != task.candidate_digest:  # a worker loaded other rules files
        raise RulesetError(
            f"{task.candidate} has digest {candidate.digest} here, "
            f"not {task.candidate_digest} as when the replay was filed"
        )
    for found in _rows(db, task):
        row = {
            "decision_id": found.id,
            "case_id": found.case_id,
            "created_at": _stamp(found.created_at),
            "document": found.document,
            "case": found.case_document,
        }
        try:
            control_set = decider.catalog.get(found.ruleset_version)
            control = decider.decide(
                found.case_document, control_set, decision_id=found.id, decided_at=found.created_at
            ).to_dict()
            after = decider.decide(
                found.case_document, candidate, decision_id=found.id, decided_at=found.created_at
            ).to_dict()
        except AdjudicatorError as exc:
            tally.add_error(row, f"{type(exc).__name__}: {exc}")
            continue
        tally.add(row, control, after)
    return tally


def _reservoir(store: Store, task: _Task, size: int, seed: int) -> list[str]:
    """A uniform sample of ``size`` decision ids (Algorithm R over the ids in key order).

    Streams the id column, so memory holds the sample, not every id; the same
    seed and the same rows give the same sample.
    """
    chosen: list[str] = []
    rng = random.Random(seed)
    query = _selected(select(DecisionRow.id), task).order_by(DecisionRow.id)
    with store.db.read() as session:
        ids = session.execute(query, execution_options={"yield_per": 10_000}).scalars()
        for seen, ident in enumerate(ids):
            if seen < size:
                chosen.append(ident)
            else:
                slot = rng.randint(0, seen)
                if slot < size:
                    chosen[slot] = ident
    return chosen


def plan_chunks(
    store: Store, task: _Task, sample: int | None, seed: int, jobs: int
) -> tuple[int, list[Chunk]]:
    """How many cases the replay covers, and its chunks."""
    if sample is not None:
        picked = sorted(_reservoir(store, task, sample, seed))
        size = max(1, min(CHUNK, math.ceil(len(picked) / max(1, jobs * 4))))
        return len(picked), [
            Chunk(ids=tuple(picked[i : i + size])) for i in range(0, len(picked), size)
        ]
    with store.db.read() as session:
        total = int(
            session.execute(
                _selected(select(func.count()).select_from(DecisionRow), task)
            ).scalar_one()
        )
    count = min(MAX_CHUNKS, max(jobs * 4 if jobs > 1 else 1, math.ceil(total / CHUNK)))
    bounds = [f"{i * _SPACE // count:08x}" for i in range(count)]
    chunks = [
        Chunk(low=None if i == 0 else bounds[i], high=bounds[i + 1] if i + 1 < count else None)
        for i in range(count)
    ]
    return total, chunks


# Worker processes: each builds its engine and its database connection once.
_worker: tuple[Database, ReplayDecider] | None = None


def _init_worker(rules_dir: str | None, database_url: str) -> None:
    global _worker
    from adjudicator.core.decide import Adjudicator, load_catalog

    catalog = load_catalog(Path(rules_dir) if rules_dir else None)
    _worker = (Database(database_url), Adjudicator(catalog))


def _run_in_worker(task: _Task) -> ImpactTally:
    assert _worker is not None, "the worker was not initialised"
    return replay_chunk(_worker[0], _worker[1], task)


def run_replay(
    store: Store,
    replay_id: str,
    decider: ReplayDecider,
    *,
    jobs: int = 1,
    rules_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayInfo:
    """Execute a queued replay and store its report; the job's row says how it ended.

    With ``jobs > 1`` the worker processes load the catalog from ``rules_dir``
    (the default rules when ``None``); a chunk whose process finds another
    candidate digest than the one filed fails the job (``RulesetError``).
    ``progress(done, total)`` is called after each chunk (the CLI's bar).
    """
    row = replay_row(store, replay_id)
    params = row.parameters
    task = _Task(
        chunk=Chunk(),
        candidate=row.candidate_version,
        candidate_digest=row.candidate_digest,
        baseline=params.get("baseline"),
        since=datetime.fromisoformat(params["from"]) if params.get("from") else None,
        until=datetime.fromisoformat(params["to"]) if params.get("to") else None,
    )
    started = store.clock()
    try:
        update_replay(store, replay_id, heartbeat_at=started)
        total, chunks = plan_chunks(
            store, task, params.get("sample"), params.get("seed") or 0, jobs
        )
        update_replay(
            store, replay_id, status="running", started_at=started, total=total,
            heartbeat_at=store.clock(),
        )  # fmt: skip
        tally = ImpactTally()
        done = 0
        for part in _execute(store, decider, task, chunks, jobs, rules_dir):
            tally.merge(part)
            done += part.total
            update_replay(store, replay_id, done=done, heartbeat_at=store.clock())
            if progress is not None:
                progress(done, total)
        finished = store.clock()
        csv_text = changes_csv(tally)
        report = _report(row, tally, csv_text, started, finished)
        digest = report_digest(report)
        update_replay(
            store, replay_id, status="succeeded", finished_at=finished, done=done,
            report={**report, "digest": digest}, digest=digest, csv=csv_text,
        )  # fmt: skip
    except Exception as exc:
        update_replay(
            store,
            replay_id,
            status="failed",
            finished_at=store.clock(),
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    return get_replay(store, replay_id)


def _execute(
    store: Store,
    decider: ReplayDecider,
    task: _Task,
    chunks: Sequence[Chunk],
    jobs: int,
    rules_dir: Path | None,
) -> Iterator[ImpactTally]:
    tasks = [replace(task, chunk=c) for c in chunks]
    if jobs <= 1:
        for one in tasks:
            yield replay_chunk(store.db, decider, one)
        return
    url = store.db.engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(str(rules_dir) if rules_dir else None, url),
    ) as pool:
        futures = [pool.submit(_run_in_worker, one) for one in tasks]
        for future in as_completed(futures):
            yield future.result()


def _report(
    row: ReplayRow, tally: ImpactTally, csv_text: str, started: datetime, finished: datetime
) -> dict[str, Any]:
    figures = finish(tally)
    return {
        "kind": REPORT_KIND,
        "replay_id": row.id,
        "candidate": {"version": row.candidate_version, "digest": row.candidate_digest},
        "baseline": {"version": row.baseline_version, "digest": row.baseline_digest},
        "parameters": row.parameters,
        "started_at": rfc3339(started),
        "finished_at": rfc3339(finished),
        **figures,
        "csv": {"rows": tally.changed, "sha256": sha256_hex(csv_text.encode())},
    }


def start_replay(
    store: Store,
    replay_id: str,
    decider: ReplayDecider,
    *,
    jobs: int = 1,
    rules_dir: Path | None = None,
) -> threading.Thread:
    """Run a queued replay in a background thread (the API's way); failures are logged."""

    def work() -> None:
        try:
            run_replay(store, replay_id, decider, jobs=jobs, rules_dir=rules_dir)
        except Exception:
            log.exception("replay %s failed", replay_id)

    thread = threading.Thread(target=work, name=f"replay-{replay_id[:8]}", daemon=True)
    thread.start()
    return thread
