"""Hit-policy checking: overlaps and gaps in the stages where one finding must win.

In the ``breach``, ``loss`` and ``refund`` stages exactly one rule may decide
a case: two rules whose conditions both hold for one valid case (an
**overlap**) would be resolved by whichever the engine happens to fire
first, and a valid case for which none holds (a **gap**) reaches no outcome.

The search decides generated valid cases (:mod:`adjudicator.analysis.casegen`)
with *probe* rulesets: for a stage S, the version's rules of earlier stages
run as written, each rule of S is replaced by a probe with the same
condition whose action only notes that it matched (``add_reason`` with the reason
``PROBE``, so it changes no state and every matching rule of S gets its
turn), and later stages are left out. The probes that matched are the rules
of S whose conditions hold for that case. Hypothesis looks for a case with an
overlap or gap not reported yet and shrinks it to the smallest example it can
find; the search repeats until rounds in a row turn up no new one (after a
round that finds nothing, the next ones draw with fresh seeds). A gap is the
defect spec v1.2 (clarification 22) rules out: a valid case that reaches no
outcome (2024.2's lost shipment listing nothing).

An overlap the version intends is declared in the data: a rule that lists
the other in ``overrides = ["LATE-02"]`` wins it (the loader gives it the
higher priority), and the search does not report the pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from adjudicator.analysis.casegen import valid_cases
from adjudicator.core.context import Context
from adjudicator.core.contract import load_case
from adjudicator.core.engine import RulesEngine
from adjudicator.core.errors import AdjudicatorError
from adjudicator.core.facts import normalise
from adjudicator.core.loader import build_ruleset, read_version_files
from adjudicator.core.rules.checks import RULE_KEYS
from adjudicator.core.rules.model import WAITING, Ruleset

PROBE = "PROBE"
SINGLE_WINNER_STAGES: tuple[str, ...] = ("breach", "loss", "refund")
"""The stages where exactly one rule must decide (the states a case waits for
each in: :data:`adjudicator.core.rules.model.WAITING`)."""

Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Finding:
    """One overlap or gap: its stage, the rules involved, the smallest example found."""

    kind: str  # "overlap" or "gap"
    stage: str
    rules: tuple[str, ...]
    example: Doc = field(repr=False, compare=False)

    def sentence(self) -> str:
        """The finding in one sentence."""
        if self.kind == "gap":
            return f"stage {self.stage}: a valid case waiting for this stage matches no rule"
        return (
            f"stage {self.stage}: {' and '.join(self.rules)} both hold for one valid case "
            "(declare `overrides` on the rule that must win, or make them exclusive)"
        )


@dataclass(frozen=True, slots=True)
class VersionData:
    """The parsed files of one version folder, as the loader reads them."""

    name: str
    version: str
    rules_doc: Mapping[str, Any]
    parameters: Mapping[str, Any]
    aql_doc: Mapping[str, Any]
    reasons_doc: Mapping[str, Any] | None = None
    digest: str = ""

    @classmethod
    def read(cls, folder: Path, name: str = "trade_assurance") -> VersionData:
        """Read a version folder (``rules/trade_assurance/2024.1``)."""
        digest, files = read_version_files(folder)
        return cls(
            name=name,
            version=folder.name,
            rules_doc=files["rules.toml"],
            parameters=files["parameters.toml"],
            aql_doc=files["aql.toml"],
            reasons_doc=files["reasons.toml"],
            digest=digest,
        )


def probe_ruleset(data: VersionData, stage: str) -> Ruleset:
    """The version with the rules of ``stage`` replaced by probes and later stages dropped."""
    stages = list(data.rules_doc["stages"])
    cut = stages.index(stage)
    rules = []
    for raw in data.rules_doc.get("rules", []):
        position = stages.index(raw["stage"])
        if position > cut:
            continue
        if position == cut:
            raw = {
                key: value
                for key, value in raw.items()
                if key in RULE_KEYS and key not in ("message", "overrides", "action")
            } | {"action": "add_reason", "reason": PROBE}
        rules.append(raw)
    return build_ruleset(
        name=data.name,
        version=f"{data.version}-probe-{stage}",
        digest="sha256:probe",
        rules_doc={"stages": stages[: cut + 1], "rules": rules},
        parameters=data.parameters,
        aql_doc=data.aql_doc,
    )


class OverlapSearch:
    """Probes one version's single-winner stages over generated valid cases."""

    def __init__(self, data: VersionData, stages: tuple[str, ...] = SINGLE_WINNER_STAGES):
        present = set(data.rules_doc.get("stages", []))
        self.stages = tuple(s for s in stages if s in present)
        self.probes = {stage: probe_ruleset(data, stage) for stage in self.stages}
        self.engine = RulesEngine(self.probes.values())
        self.declared: set[frozenset[str]] = set()
        for raw in data.rules_doc.get("rules", []):
            for other in raw.get("overrides", []):
                self.declared.add(frozenset({str(raw["id"]), str(other)}))

    def findings(self, case: Doc) -> list[Finding]:
        """The overlaps and gaps this one case shows (none for a case the contract refuses)."""
        out: list[Finding] = []
        for stage in self.stages:
            ruleset = self.probes[stage]
            try:
                loaded = load_case(case, aql_values=ruleset.aql_values)
                normalised = normalise(loaded, ruleset)
            except AdjudicatorError:
                return []
            ctx = Context.start(normalised, ruleset)
            state = self.engine.run(ruleset, ctx, normalised.facts)
            matched = tuple(dict.fromkeys(r.rule for r in ctx.reasons if r.code == PROBE))
            key, value = WAITING.get(stage, ("finding", "none"))
            waiting = not state.get("inel") and state.get(key) == value
            if waiting and not matched:
                out.append(Finding("gap", stage, (), case))
            for index, first in enumerate(matched):
                for second in matched[index + 1 :]:
                    if frozenset({first, second}) not in self.declared:
                        out.append(Finding("overlap", stage, (first, second), case))
        return out

    def search(self, max_examples: int = 300, rounds: int = 12, patience: int = 3) -> list[Finding]:
        """Every overlap and gap hypothesis finds, each with the smallest example found.

        Each round is one hypothesis search for a case with a finding not reported
        yet, which it shrinks. The rounds are derandomized (the same data gives the
        same report) until one finds nothing new; that does not end the search: the
        next rounds draw other cases (seeded with their number), so a rare combination
        one round missed (a lost shipment listing nothing under a D-term) gets another
        chance. The search ends after ``patience`` rounds in a row found nothing new,
        or after ``rounds``.
        """
        reported: list[Finding] = []
        seen: set[tuple[str, str, tuple[str, ...]]] = set()

        def new(case: Doc) -> list[Finding]:
            return [f for f in self.findings(case) if (f.kind, f.stage, f.rules) not in seen]

        quiet = 0
        seed: Random | None = None  # None: the seed hypothesis derives (derandomize)
        for index in range(rounds):
            try:
                example = find(
                    valid_cases(),
                    lambda case: bool(new(case)),
                    settings=settings(
                        max_examples=max_examples,
                        database=None,
                        derandomize=True,
                        deadline=None,
                        suppress_health_check=list(HealthCheck),
                    ),
                    random=seed,
                )
            except NoSuchExample:
                quiet += 1
                if quiet >= patience:
                    break
                seed = Random(index + 1)
                continue
            quiet = 0
            for finding in new(example):
                seen.add((finding.kind, finding.stage, finding.rules))
                reported.append(finding)
        return reported
