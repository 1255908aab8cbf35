"""Suite-wide hooks: at the end of a run, say which tiers were skipped and why.

Without PostgreSQL, dozens of tests skip with nothing but an ``s`` in the
progress line; a newcomer should read which tier did not run and what turns
it on. Skips are grouped by tier (the ``postgres`` marker) or else by reason.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

PG_HINT = (
    "set ADJUDICATOR_TEST_DATABASE_URL=postgresql+psycopg://USER@HOST:5432/DB "
    "(`.ci/run` starts the local PostgreSQL and sets it)"
)


def _reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def skipped_tiers(reports: list[pytest.TestReport]) -> list[str]:
    """One line per skipped tier or reason, with its count and how to run it."""
    tiers: Counter[str] = Counter()
    for report in reports:
        if "postgres" in report.keywords:
            tiers[f"PostgreSQL tier skipped: {PG_HINT}"] += 1
        else:
            tiers[f"skipped: {_reason(report)}"] += 1
    return [f"{count:4d} tests  {line}" for line, count in sorted(tiers.items())]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """After the run: the skipped tiers (nothing when nothing was skipped)."""
    reports = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
    if not reports:
        return
    terminalreporter.section("skipped tiers")
    for line in skipped_tiers(reports):
        terminalreporter.write_line(line)
