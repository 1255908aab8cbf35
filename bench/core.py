"""``make bench``: how fast the decision core is, and whether its memory stays flat.

Decides every fixture case repeatedly on one core and prints, per decision,
the median and p99 of validation, engine and total time, decisions per second,
and the resident memory at intervals up to 200,000 decisions. A benchmark, not
a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from adjudicator.core.context import Context
from adjudicator.core.contract import load_case
from adjudicator.core.decide import Adjudicator, build_decision
from adjudicator.core.facts import normalise
from adjudicator.core.rules.model import Catalog, Ruleset

Evaluation = tuple[Callable[[Any, Any], Any], Any, Any]


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def fixture_cases(folder: Path) -> list[dict[str, Any]]:
    cases = [orjson.loads(p.read_bytes())["case"] for p in sorted(folder.glob("*.json"))]
    if not cases:
        raise SystemExit(f"no fixtures in {folder}")
    return cases


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _recording(ruleset: Ruleset, log: list[Evaluation]) -> Ruleset:
    """A copy of ``ruleset`` whose formulas log (closure, ctx, facts) of each evaluation."""

    def wrap(run: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def recorded(ctx: Any, facts: Any) -> Any:
            log.append((run, ctx, copy.deepcopy(facts)))
            return run(ctx, facts)

        return recorded

    rules = tuple(
        dataclasses.replace(
            spec,
            formulas={
                key: dataclasses.replace(f, run=wrap(f.run)) for key, f in spec.formulas.items()
            },
        )
        for spec in ruleset.rules
    )
    return dataclasses.replace(ruleset, rules=rules)


def formula_cost(ruleset: Ruleset, cases: list[dict[str, Any]], repeat: int) -> tuple[float, float]:
    """Per decision: the median seconds spent evaluating formulas, and how many it evaluates.

    Each case is decided once with recording formulas; then exactly the
    evaluations it made are timed again, alone, ``repeat`` times.
    """
    log: list[Evaluation] = []
    recording = _recording(ruleset, log)
    adjudicator = Adjudicator(
        Catalog(recording.name, recording.version, {recording.version: recording})
    )
    per_case: list[list[Evaluation]] = []
    for case in cases:
        log.clear()
        adjudicator.decide(case, recording)
        per_case.append(list(log))
    clock = time.perf_counter
    times: list[float] = []
    for _ in range(repeat):
        for evaluations in per_case:
            t0 = clock()
            for run, ctx, facts in evaluations:
                run(ctx, facts)
            times.append(clock() - t0)
    count = statistics.mean(len(e) for e in per_case)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=None, help="default: the active version's")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--repeat", type=int, default=40, help="corpus repeats per pass")
    parser.add_argument("--soak", type=int, default=200_000, help="decisions for the RSS check")
    parser.add_argument("--ruleset", default=None, help="ruleset version (default: active)")
    args = parser.parse_args()

    adjudicator = Adjudicator()
    ruleset = adjudicator.catalog.get(args.ruleset)
    cases = fixture_cases(args.fixtures or Path("fixtures") / ruleset.version)
    engine = adjudicator.engine
    for case in cases:  # warm up
        adjudicator.decide(case, ruleset)

    validation: list[float] = []
    engine_time: list[float] = []
    total: list[float] = []
    throughput: list[float] = []
    clock = time.perf_counter
    gc.collect()
    for _ in range(args.rounds):
        started = clock()
        count = 0
        for _ in range(args.repeat):
            for case in cases:
                t0 = clock()
                loaded = load_case(case, aql_values=ruleset.aql_values)
                t1 = clock()
                normalised = normalise(loaded, ruleset)
                ctx = Context.start(normalised, ruleset)
                t2 = clock()
                state = engine.run(ruleset, ctx, normalised.facts)
                t3 = clock()
                build_decision(ctx, state, ruleset, "bench", "bench", loaded["as_of"]).to_dict()
                t4 = clock()
                validation.append(t1 - t0)
                engine_time.append(t3 - t2)
                total.append(t4 - t0)
                count += 1
        throughput.append(count / (clock() - started))

    def row(name: str, values: list[float]) -> str:
        return (
            f"{name:<12} median {statistics.median(values) * 1e6:8.1f} µs"
            f"   p99 {_pct(values, 0.99) * 1e6:8.1f} µs"
        )

    print(
        f"ruleset {ruleset.version}; fixture cases: {len(cases)}; timed decisions: {len(total)} "
        f"({args.rounds} rounds × {args.repeat} × {len(cases)})"
    )
    print(row("validation", validation))
    print(row("engine", engine_time))
    print(row("total", total))
    print(
        f"decisions/s on one core: median of rounds {statistics.median(throughput):,.0f} "
        f"(min {min(throughput):,.0f}, max {max(throughput):,.0f})"
    )
    print(
        f"engine share of total (same run): "
        f"{statistics.median(engine_time) / statistics.median(total):.0%}"
    )

    cost, count = formula_cost(ruleset, cases, args.repeat * args.rounds)
    print(
        f"formulas     median {cost * 1e6:8.1f} µs per decision "
        f"({count:.1f} formulas evaluated per decision, "
        f"{cost / max(count, 1) * 1e9:,.0f} ns each; included in engine above)"
    )

    rss = [(0, _rss_mib())]
    step = max(1, args.soak // 4)
    done = 0
    while done < args.soak:
        for _ in range(step):
            adjudicator.decide(cases[done % len(cases)], ruleset)
            done += 1
        rss.append((done, _rss_mib()))
    print("RSS: " + ", ".join(f"{n:,} → {mib:.1f} MiB" for n, mib in rss))


if __name__ == "__main__":
    main()
