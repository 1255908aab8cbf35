"""Several processes writing at once keep one unbroken audit chain.

Four processes start together and store 50 decisions each, so the chain changes
hands about a hundred times; more decisions would add time (most of it goes to
starting the processes), not a kind of contention these do not already meet."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adjudicator.audit.log import list_audit
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.verification import verify_audit

HERE = Path(__file__).resolve().parent
PROCESSES, EACH = 4, 50


@pytest.mark.slow
def test_four_processes_writing_at_once_make_one_chain(store: Store, database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent / "support"), str(HERE)])}
    writers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "writer.py"), database_url, str(EACH), f"w{i}"],
            stdin=subprocess.PIPE,
            env=env,
        )
        for i in range(PROCESSES)
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write(b"go\n")
        writer.stdin.close()
    for writer in writers:
        assert writer.wait(timeout=240) == 0

    report = verify_audit(store)
    assert report.ok, report
    assert report.entries == report.head_seq == PROCESSES * EACH
    with store.db.read() as session:
        stored = session.execute(select(func.count()).select_from(DecisionRow)).scalar_one()
    assert stored == PROCESSES * EACH
    names = [e.actor_name for e in list_audit(store, limit=PROCESSES * EACH).items]
    turns = sum(a != b for a, b in pairwise(names))
    assert turns > PROCESSES - 1, turns  # interleaved, not one writer after another
