"""``make bench-sync``: what ``synchronous=FULL`` costs a SQLite decision write.

Stores the same number of decisions (worked example 1, one writer, one after
another) into a fresh SQLite file with ``PRAGMA synchronous`` set to NORMAL
and to FULL, in alternating rounds, and prints the median and p99 time per
stored decision and decisions per second for each. A benchmark, not a test:
it asserts nothing. The numbers depend on the disk's fsync.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from adjudicator import Adjudicator
from adjudicator.db import database as database_module
from adjudicator.db.actor import Actor
from adjudicator.db.config import StoreConfig
from adjudicator.db.store import open_store
from adjudicator.decisions.service import create_decision
from api.examples import WORKED_EXAMPLE_1

ACTOR = Actor(key_id="bench", name="bench", role="system")


def _round(setting: str, count: int, adjudicator: Adjudicator) -> list[float]:
    database_module.SQLITE_SYNCHRONOUS = setting
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'sync.db'}"
        store = open_store(StoreConfig(database_url=url, key_secret=b"b" * 32))
        store.db.migrate()
        times = []
        for _ in range(count):
            case = {**WORKED_EXAMPLE_1, "case_id": None}
            started = time.perf_counter()
            create_decision(store, adjudicator, case, actor=ACTOR)
            times.append(time.perf_counter() - started)
        store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500, help="decisions per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    adjudicator = Adjudicator()
    results: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
    for _ in range(args.rounds):
        for setting in results:
            results[setting] += _round(setting, args.count, adjudicator)
    for setting, times in results.items():
        times.sort()
        median = statistics.median(times) * 1000
        p99 = times[int(len(times) * 0.99)] * 1000
        rate = len(times) / sum(times)
        print(f"synchronous={setting:6}  median {median:.2f} ms  p99 {p99:.2f} ms  {rate:.0f}/s")


if __name__ == "__main__":
    main()
