"""``make test`` ends by naming the tiers it skipped and what runs them (issue 10, point 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_without_postgresql_says_the_tier_was_skipped_and_why() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ADJUDICATOR_TEST_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/integration/test_migrations.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    summary = done.stdout.split("skipped tiers", 1)[1]
    assert "PostgreSQL tier skipped: set ADJUDICATOR_TEST_DATABASE_URL" in summary
    count = int(summary.split("tests  PostgreSQL")[0].split()[-1])
    assert count == 2  # the two migration tests, once per backend
