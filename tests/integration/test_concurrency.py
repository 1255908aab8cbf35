"""Several processes writing at once keep one unbroken audit chain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adjudicator.audit.log import list_audit
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.verification import verify_audit

HERE = Path(__file__).resolve().parent
PROCESSES, EACH = 4, 200


@pytest.mark.slow
def test_four_processes_times_two_hundred_decisions_make_one_chain(
    store: Store, database_url: str
) -> None:
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
    actors = {e.actor_name for e in list_audit(store, limit=200).items}
    assert len(actors) > 1  # the writers really interleaved
