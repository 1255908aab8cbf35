"""``make bench-instructions``: CPU instructions per decision, counted rather than timed.

Wall-clock medians on a shared 2-core machine drift by 10–20 % from run to
run, more than the differences worth knowing about. Instructions retired are
deterministic: this runs the same pipeline as ``make bench`` (validate,
normalise, engine, decision document) under Valgrind's cachegrind, once with
only the warm-up pass and once with ``--repeat`` more passes over the corpus,
and prints the difference per decision. Two trees compared this way differ
by what their code does, not by what the machine did meanwhile (repeat runs
agree to within 0.1 %). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.core import fixture_cases

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _decide(folder: Path, version: str | None, passes: int) -> None:
    """The measured process: one warm-up pass, then ``passes`` more."""
    from adjudicator.core.context import Context
    from adjudicator.core.contract import load_case
    from adjudicator.core.decide import Adjudicator, build_decision
    from adjudicator.core.facts import normalise

    adjudicator = Adjudicator()
    ruleset = adjudicator.catalog.get(version)
    engine = adjudicator.engine
    cases = fixture_cases(folder)
    for _ in range(1 + passes):
        for case in cases:
            loaded = load_case(case, aql_values=ruleset.aql_values)
            normalised = normalise(loaded, ruleset)
            ctx = Context.start(normalised, ruleset)
            state = engine.run(ruleset, ctx, normalised.facts)
            build_decision(ctx, state, ruleset, "bench", "bench", loaded["as_of"]).to_dict()


def _instructions(folder: Path, version: str | None, passes: int) -> int:
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--inner",
        str(passes),
        "--fixtures",
        str(folder),
    ]
    if version:
        command += ["--ruleset", version]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind run failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=None, help="default: the active version's")
    parser.add_argument("--ruleset", default=None, help="ruleset version (default: active)")
    parser.add_argument("--repeat", type=int, default=2, help="counted passes over the corpus")
    parser.add_argument("--inner", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        _decide(args.fixtures, args.ruleset, args.inner)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("make bench-instructions needs Valgrind: apt-get install valgrind")

    from adjudicator.core.decide import Adjudicator

    version = Adjudicator().catalog.get(args.ruleset).version
    folder = args.fixtures or Path("fixtures") / version
    count = len(fixture_cases(folder))
    base = _instructions(folder, version, 0)
    total = _instructions(folder, version, args.repeat)
    per = (total - base) / (args.repeat * count)
    print(
        f"ruleset {version}; fixture cases: {count} ({folder}); "
        f"counted decisions: {args.repeat * count}"
    )
    print(f"instructions per decision: {per:,.0f} (validation, engine, decision document)")


if __name__ == "__main__":
    main()
