"""``make bench-replay``: replay rate over 20,000 stored decisions, 1 and 2 worker processes.

Builds a temporary rules root (the packaged versions plus ``candidate``, a
copy of the default version with a tighter "about" tolerance), decides each
fixture case once and stores 20,000 decisions cycling through them (bulk
insert, fresh ids and times) in a SQLite file (or ``--database-url``), then
runs the same replay with ``--jobs 1`` and ``--jobs 2`` and prints cases per
second for each, the ratio, the ratio the machine itself gives two processes of
pure CPU work right now (on a shared machine the ceiling), the parent's peak
RSS, and the sizing it implies.
Each case is decided twice per replay (the candidate and the control). A
benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert

from adjudicator import Adjudicator, load_catalog
from adjudicator.core.canonical import case_digest
from adjudicator.db.actor import Actor
from adjudicator.db.config import StoreConfig
from adjudicator.db.store import open_store
from adjudicator.decisions.models import DecisionRow
from adjudicator.governance.replay_job import run_replay
from adjudicator.governance.replays import ReplaySpec, create_replay

CANDIDATE = "candidate"
ANALYST = Actor(key_id=None, name="bench", role="admin")


def _rules_root(dest: Path) -> Path:
    from adjudicator.core.loader import DEFAULT_RULES_DIR

    shutil.copytree(DEFAULT_RULES_DIR, dest, dirs_exist_ok=True)
    base = load_catalog(Path(DEFAULT_RULES_DIR)).get(None).version
    folder = dest / "trade_assurance" / CANDIDATE
    shutil.copytree(dest / "trade_assurance" / base, folder)
    params = folder / "parameters.toml"
    text = re.sub(
        r"^(about_tolerance_percent\s*=\s*)(\d+)",
        lambda m: f"{m.group(1)}{int(m.group(2)) // 2}",
        params.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    params.write_text(text, encoding="utf-8")
    return dest


def _seed(url: str, adjudicator: Adjudicator, fixtures: Path, count: int) -> None:
    decided = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for path in sorted(fixtures.rglob("*.json")):
        case = orjson.loads(path.read_bytes())["case"]
        case.setdefault("as_of", "2024-06-01T00:00:00Z")
        case.setdefault("case_id", path.stem)
        decided.append((case, adjudicator.decide(case).to_dict()))
    store = open_store(StoreConfig(database_url=url, key_secret=b"bench"))
    store.db.migrate()
    rows: list[dict[str, Any]] = []
    for i in range(count):
        case, document = decided[i % len(decided)]
        ident = str(uuid.uuid4())
        rows.append(
            {
                "id": ident,
                "case_id": case["case_id"],
                "order_id": case["order"]["order_id"],
                "claim_id": case["claim"]["claim_id"],
                "outcome": document["outcome"],
                "ruleset_version": document["ruleset"]["version"],
                "ruleset_digest": document["ruleset"]["digest"],
                "case_digest": case_digest(case),
                "idempotency_key": None,
                "request_digest": None,
                "document": {**document, "decision_id": ident},
                "case_document": case,
                "overrides_id": None,
                "justification": None,
                "created_at": start + timedelta(seconds=i),
                "actor_key_id": None,
                "actor_name": "bench",
            }
        )
        if len(rows) == 1000:
            with store.db.write() as session:
                session.execute(insert(DecisionRow), rows)
            rows = []
    if rows:
        with store.db.write() as session:
            session.execute(insert(DecisionRow), rows)
    store.close()


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the pool's workers)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run(url: str, root: Path, adjudicator: Adjudicator, jobs: int) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (all processes) and cases of one replay."""
    store = open_store(StoreConfig(database_url=url, key_secret=b"bench"))
    try:
        active = adjudicator.catalog.get(None).version
        spec = ReplaySpec(candidate=CANDIDATE)
        info = create_replay(store, adjudicator, spec, active=active, actor=ANALYST)
        began, cpu = time.perf_counter(), _cpu()
        done = run_replay(store, info.replay_id, adjudicator, jobs=jobs, rules_dir=root)
        elapsed, used = time.perf_counter() - began, _cpu() - cpu
    finally:
        store.close()
    assert done.report is not None and done.status == "succeeded", done.error
    return elapsed, used, int(done.report["total"])


def _burn(n: int) -> float:
    began, total = time.perf_counter(), 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - began


def _machine_ratio(n: int = 20_000_000) -> float:
    """What 2 processes of pure CPU work get over 1 on this machine right now (the ceiling)."""
    one = _burn(n)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        began = time.perf_counter()
        pool.map(_burn, [n, n])
        two = time.perf_counter() - began
    return 2 * one / two


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=Path("fixtures"))
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        root = _rules_root(Path(tmp) / "rules")
        url = args.database_url or f"sqlite:///{tmp}/replay.db"
        adjudicator = Adjudicator(load_catalog(root))
        began = time.perf_counter()
        _seed(url, adjudicator, args.fixtures, args.decisions)
        print(
            f"stored {args.decisions} decisions in {time.perf_counter() - began:.1f} s "
            f"({os.cpu_count()} cores visible, load {os.getloadavg()[0]:.1f})"
        )
        before = _machine_ratio()
        rates = {}
        per_cpu = 0.0
        for jobs in (1, 2):
            elapsed, used, total = _run(url, root, adjudicator, jobs)
            rates[jobs] = total / elapsed
            print(
                f"jobs={jobs}: {total} cases in {elapsed:.1f} s = {rates[jobs]:,.0f} cases/s "
                f"({used:.1f} CPU-s, {total / used:,.0f} cases per CPU-second)"
            )
            per_cpu = max(per_cpu, total / used) if jobs == 1 else per_cpu
        ratio = rates[2] / rates[1]
        after = _machine_ratio()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"2-process / 1-process ratio: {ratio:.2f} (target >= 1.7; "
            f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        print(
            f"the machine's own 2/1 ratio for pure CPU work, before and after: "
            f"{before:.2f} and {after:.2f} (an idle 2-core machine gives ~2)"
        )
        print(f"peak RSS of the parent: {peak:.0f} MiB")
        for n in (1_000_000, 100_000_000):
            for cores in (1, 8, 64):
                print(
                    f"sizing at {per_cpu:,.0f} cases per core-second: {n:>11,} decisions "
                    f"on {cores:>2} cores ~ {_duration(n / (per_cpu * cores))}"
                )


if __name__ == "__main__":
    main()
