"""Replay jobs as records: what to replay, its status, its report (rules-governance.md §5).

A replay reads the case documents of stored engine decisions (never
overrides), decides each with the candidate version and, as a control, with
the version recorded on the stored decision, and reports the difference. This
module stores and reads the jobs: :func:`create_replay` checks the versions and
stores a ``queued`` job; :func:`get_replay` and :func:`replay_csv` read one
back. :mod:`adjudicator.governance.replay_job` runs a job, beating its heart as it
goes; :func:`abandon_stale_replays` fails one whose process stopped. The only
row a replay writes is its own in ``replays``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update

from adjudicator.core.canonical import canonical_json, sha256_hex
from adjudicator.core.dates import rfc3339
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.store import Store
from adjudicator.decisions.records import is_decision_id
from adjudicator.governance.models import ReplayRow

log = logging.getLogger("adjudicator.replay")
REPORT_KIND = "adjudicator.replay-report/v1"
MAX_SAMPLE = 1_000_000


class ReplayDecider(Protocol):
    """What a replay needs of the core: ``Adjudicator.decide`` and its catalog."""

    catalog: Any

    def decide(
        self,
        case: Mapping[str, Any],
        ruleset: Any = None,
        *,
        decision_id: str | None = None,
        decided_at: datetime | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ReplaySpec:
    """What to replay: ``since`` inclusive, ``until`` exclusive, an optional seeded sample."""

    candidate: str
    baseline: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sample: int | None = None
    seed: int = 0

    def parameters(self) -> dict[str, Any]:
        """JSON form, stored with the job and named in its report."""
        return {
            "candidate": self.candidate,
            "baseline": self.baseline,
            "from": rfc3339(self.since) if self.since else None,
            "to": rfc3339(self.until) if self.until else None,
            "sample": self.sample,
            "seed": self.seed if self.sample is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ReplayInfo:
    """A replay job as the API and the CLI show it."""

    replay_id: str
    status: str
    candidate: dict[str, str]
    baseline: dict[str, str]
    parameters: dict[str, Any]
    total: int | None
    done: int
    digest: str | None
    report: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: str

    def to_dict(self, *, with_report: bool = True) -> dict[str, Any]:
        """JSON form; ``progress`` is the share of cases done (``None`` before counting)."""
        out = asdict(self)
        for name in ("created_at", "started_at", "finished_at"):
            out[name] = rfc3339(out[name]) if out[name] is not None else None
        out["progress"] = (
            (self.done / self.total if self.total else 1.0) if self.total is not None else None
        )
        if not with_report:
            out.pop("report")
        return out


def _info(row: ReplayRow) -> ReplayInfo:
    return ReplayInfo(
        replay_id=row.id,
        status=row.status,
        candidate={"version": row.candidate_version, "digest": row.candidate_digest},
        baseline={"version": row.baseline_version, "digest": row.baseline_digest},
        parameters=row.parameters,
        total=row.total,
        done=row.done,
        digest=row.digest,
        report=row.report,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        requested_by=row.actor_name,
    )


def create_replay(
    store: Store, decider: ReplayDecider, spec: ReplaySpec, *, active: str, actor: Actor
) -> ReplayInfo:
    """Store a queued replay of ``spec``; ``active`` is the version active now.

    The baseline is ``spec.baseline`` (then only decisions made with it are
    replayed) or else the active version, which the report names as what the
    candidate is measured against. Raises ``UnknownRuleset`` for a version
    that is not loaded and :class:`InvalidRequest` for a bad sample or range.
    """
    candidate = decider.catalog.get(spec.candidate)
    baseline = decider.catalog.get(spec.baseline or active)
    errors: dict[str, list[str]] = {}
    if spec.sample is not None and not 1 <= spec.sample <= MAX_SAMPLE:
        errors["sample"] = [f"Must be between 1 and {MAX_SAMPLE}."]
    if spec.since and spec.until and spec.since >= spec.until:
        errors["to"] = ["Must be after 'from'."]
    if errors:
        raise InvalidRequest("invalid replay", errors)
    row = ReplayRow(
        id=str(uuid.uuid4()),
        status="queued",
        candidate_version=candidate.version,
        candidate_digest=candidate.digest,
        baseline_version=baseline.version,
        baseline_digest=baseline.digest,
        parameters=spec.parameters(),
        total=None,
        done=0,
        report=None,
        digest=None,
        csv=None,
        error=None,
        created_at=(now := store.clock()),
        started_at=None,
        finished_at=None,
        heartbeat_at=now,
        actor_key_id=actor.key_id,
        actor_name=actor.name,
    )
    with store.db.write() as session:
        session.add(row)
    return _info(row)


def get_replay(store: Store, replay_id: str) -> ReplayInfo:
    """The replay with that id (its report once it succeeded)."""
    return _info(replay_row(store, replay_id))


def replay_csv(store: Store, replay_id: str) -> str:
    """The CSV of every changed case of a succeeded replay."""
    row = replay_row(store, replay_id)
    if row.csv is None:
        raise NotFound("replay report", replay_id)
    return row.csv


def replay_row(store: Store, replay_id: str) -> ReplayRow:
    """The stored job (for the runner)."""
    if not is_decision_id(replay_id):
        raise NotFound("replay", replay_id[:40])
    with store.db.autocommit() as session:
        row = session.get(ReplayRow, replay_id)
    if row is None:
        raise NotFound("replay", replay_id)
    return row


def update_replay(store: Store, replay_id: str, **values: Any) -> None:
    """Set columns of a job's row (status, progress, report): the only write a replay makes."""
    with store.db.write() as session:
        session.execute(update(ReplayRow).where(ReplayRow.id == replay_id).values(**values))


ABANDONED_AFTER = timedelta(minutes=10)
"""A queued or running replay whose heartbeat is older than this has no process left
(a chunk of about 2,000 decisions takes seconds)."""
_SILENCE = f"no progress for {ABANDONED_AFTER.seconds // 60} minutes"


def abandon_stale_replays(store: Store) -> int:
    """Fail every queued or running replay without a heartbeat for ``ABANDONED_AFTER``.

    A replay runs in a thread of the process that accepted it; when that
    process stops (a restart, a crash) the row would say ``running`` for
    ever. One conditional UPDATE: several workers fail each row once. The
    job of ``adjudicator worker``; returns how many it failed.
    """
    now = store.clock()
    abandon = (
        update(ReplayRow)
        .where(
            ReplayRow.status.in_(("queued", "running")),
            ReplayRow.heartbeat_at < now - ABANDONED_AFTER,
        )
        .values(
            status="failed",
            finished_at=now,
            error=f"abandoned: {_SILENCE}, the process running it stopped; start the replay again",
        )
        .returning(ReplayRow.id)
    )
    with store.db.write() as session:
        stale = session.execute(abandon).scalars().all()
    for replay_id in stale:
        log.warning("replay %s abandoned: %s", replay_id, _SILENCE)
    return len(stale)


def report_digest(report: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the report's canonical JSON, without its ``digest`` member."""
    body = {key: value for key, value in report.items() if key != "digest"}
    return "sha256:" + sha256_hex(canonical_json(body))
