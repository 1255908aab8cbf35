"""Mutation testing of a version's data: is every boundary pinned by a fixture?

A *mutant* is the version with one small change: one comparison of a rule's
condition flipped (``<`` ↔ ``<=``, ``>`` ↔ ``>=``; ``==`` ↔ ``!=`` against a
number), or one operator of a formula (``+`` ↔ ``-``, ``*`` ↔ ``/``, ``min`` ↔
``max``). Each mutant is recompiled and decides the version's fixtures; a
fixture whose expected decision no longer holds *kills* it. So does a fixture
whose case, under the mutant, is matched by two rules of a stage where one
must win, or by none (the hit policy of :mod:`adjudicator.analysis.overlaps`:
such a mutant's decision would rest on the engine's firing order, and
``rules check`` would refuse it). A mutant that no fixture kills is a
*survivor*: a boundary nobody pinned, unless the change
cannot alter any decision, which the version declares in its ``rules.toml``::

    [[equivalent_mutants]]
    rule = "CAP-03"
    mutation = "refund > 0 -> refund >= 0"
    reason = "a prior refund of 0 adds nothing to the prior refunds"

Mutators form a registry (:data:`MUTATORS`): a function from a rule to its
mutants. :func:`comparison_mutants` reads the ``when`` conditions;
:func:`formula_mutants` reads the rule's formulas (``figures``, ``let``,
``quantities``, ``deadlines`` and each ``also`` entry's ``when``) and swaps
``+``/``-``, ``*``/``/`` and ``min``/``max``. A new kind of mutation is one
more function in the registry.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adjudicator.analysis.overlaps import OverlapSearch, VersionData
from adjudicator.analysis.regression import Decider, Fixture, check
from adjudicator.core.errors import AdjudicatorError
from adjudicator.core.loader import build_ruleset
from adjudicator.core.rules.model import Ruleset

Doc = dict[str, Any]

_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_ARITH_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
}
_CALL_SWAPS = {"min": "max", "max": "min"}
FORMULA_KEYS = ("let", "figures", "quantities", "deadlines", "also")
"""The arguments of a rule that hold formulas (:mod:`adjudicator.core.rules.formulas`)."""


@dataclass(frozen=True, slots=True)
class Mutation:
    """One change to one rule: where, what, and the rule as changed."""

    rule: str
    kind: str  # "comparison" (< <= > >=), "equality" (== != against a number) or "formula"
    mutation: str  # "ship_day > ship_by_day -> ship_day >= ship_by_day"
    changed: Doc = field(repr=False, compare=False)


Mutator = Callable[[Mapping[str, Any]], Iterator[Mutation]]


def _sites(tree: ast.AST, wanted: Callable[[ast.AST], bool]) -> list[ast.AST]:
    return [node for node in ast.walk(tree) if wanted(node)]


def _parse(text: str) -> ast.Expression | None:
    try:
        return ast.parse(f"({text.strip()})", mode="eval")
    except SyntaxError:
        return None


def _is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _flippable(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return False
    op = node.ops[0]
    if isinstance(op, _ORDERING):
        return True
    # == / != only where it is a boundary: against a number, not an enum or a flag
    return isinstance(op, ast.Eq | ast.NotEq) and _is_number(node.comparators[0])


def comparison_mutants(rule: Mapping[str, Any]) -> Iterator[Mutation]:
    """Each comparison of the rule's conditions flipped, one at a time."""
    for fact, text in dict(rule.get("when", {})).items():
        tree = _parse(str(text))
        if tree is None or not str(text).strip():
            continue
        for index in range(len(_sites(tree, _flippable))):
            mutated = copy.deepcopy(tree)
            site = _sites(mutated, _flippable)[index]
            assert isinstance(site, ast.Compare)
            before = ast.unparse(site)
            kind = "comparison" if isinstance(site.ops[0], _ORDERING) else "equality"
            site.ops = [_FLIPS[type(site.ops[0])]()]
            changed = copy.deepcopy(dict(rule))
            changed["when"] = {**dict(rule["when"]), fact: ast.unparse(mutated.body)}
            yield Mutation(str(rule["id"]), kind, f"{before} -> {ast.unparse(site)}", changed)


def _formula_site(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp):
        return type(node.op) in _ARITH_SWAPS
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _CALL_SWAPS
    )


Path = tuple[str | int, ...]


def _formula_texts(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            if path[:1] != ("also",) or key == "when":  # an also entry's formula is its when
                yield from _formula_texts(inner, (*path, str(key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _formula_texts(inner, (*path, index))


def _replace(doc: Any, path: Sequence[str | int], text: str) -> Any:
    if not path:
        return text
    if isinstance(doc, list):
        items = list(doc)
        index = int(path[0])
        items[index] = _replace(doc[index], path[1:], text)
        return items
    updated = dict(doc)
    updated[path[0]] = _replace(doc[path[0]], path[1:], text)
    return updated


def formula_mutants(rule: Mapping[str, Any]) -> Iterator[Mutation]:
    """Each arithmetic operator (``+ - * /``) and ``min``/``max`` of the rule's formulas swapped.

    The formulas are the rule's ``let``, ``figures``, ``quantities`` and
    ``deadlines`` tables and the ``when`` of each ``also`` entry; a formula
    without such an operator gives no mutant.
    """
    for key in FORMULA_KEYS:
        for path, text in _formula_texts(rule.get(key, {}), (key,)):
            tree = _parse(text)
            if tree is None:
                continue
            for index in range(len(_sites(tree, _formula_site))):
                mutated = copy.deepcopy(tree)
                site = _sites(mutated, _formula_site)[index]
                before = ast.unparse(site)
                if isinstance(site, ast.BinOp):
                    site.op = _ARITH_SWAPS[type(site.op)]()
                elif isinstance(site, ast.Call) and isinstance(site.func, ast.Name):
                    site.func.id = _CALL_SWAPS[site.func.id]
                changed = _replace(dict(rule), path, ast.unparse(mutated.body))
                yield Mutation(
                    str(rule["id"]), "formula", f"{before} -> {ast.unparse(site)}", changed
                )


MUTATORS: dict[str, Mutator] = {"comparison": comparison_mutants, "formula": formula_mutants}
"""Every kind of mutation, by name (the hook for new ones)."""


def mutations(
    rules_doc: Mapping[str, Any], kinds: Sequence[str] = tuple(MUTATORS)
) -> list[Mutation]:
    """Every mutation of the version's rules, in rule order."""
    out: list[Mutation] = []
    for rule in rules_doc.get("rules", []):
        for kind in kinds:
            out.extend(MUTATORS[kind](rule))
    return out


@dataclass(frozen=True, slots=True)
class Equivalent:
    """A mutation the version declares unable to change any decision, and why."""

    rule: str
    mutation: str
    reason: str


def declared_equivalents(rules_doc: Mapping[str, Any]) -> list[Equivalent]:
    """The ``[[equivalent_mutants]]`` of ``rules.toml``; each needs a rule, mutation, reason."""
    out = []
    for index, entry in enumerate(rules_doc.get("equivalent_mutants", [])):
        missing = [k for k in ("rule", "mutation", "reason") if not str(entry.get(k, "")).strip()]
        if missing:
            raise AdjudicatorError(f"equivalent_mutants #{index + 1}: missing {missing}")
        out.append(Equivalent(str(entry["rule"]), str(entry["mutation"]), str(entry["reason"])))
    return out


@dataclass(frozen=True, slots=True)
class MutantResult:
    """What the fixtures did to one mutant."""

    mutation: Mutation
    killed_by: str | None  # the first fixture that failed, None for a survivor
    equivalent: Equivalent | None = None
    how: str = ""  # "decision" or the hit-policy finding that killed it
    error: str | None = None  # the mutant does not load (counts as killed)

    @property
    def status(self) -> str:
        """killed, equivalent, or survived."""
        if self.killed_by is not None or self.error is not None:
            return "killed"
        return "equivalent" if self.equivalent is not None else "survived"


@dataclass(frozen=True, slots=True)
class MutationReport:
    """Every mutant's fate, and declarations that match no surviving mutant."""

    results: tuple[MutantResult, ...]
    stale: tuple[Equivalent, ...]

    def count(self, status: str, kind: str | None = None) -> int:
        """How many mutants (of ``kind``, or all) ended with ``status``."""
        return sum(
            1
            for r in self.results
            if r.status == status and (kind is None or r.mutation.kind == kind)
        )

    @property
    def survivors(self) -> list[MutantResult]:
        """Mutants no fixture killed and the version does not declare equivalent."""
        return [r for r in self.results if r.status == "survived"]


def run_mutants(
    *,
    name: str,
    version: str,
    rules_doc: Mapping[str, Any],
    parameters: Mapping[str, Any],
    aql_doc: Mapping[str, Any],
    reasons_doc: Mapping[str, Any] | None,
    fixtures: Sequence[Fixture],
    decider: Callable[[], Decider],
    kinds: Sequence[str] = tuple(MUTATORS),
    hit_policy: bool = True,
    only_rules: Collection[str] | None = None,
) -> MutationReport:
    """Build each mutant, decide the fixtures with it, and sort the mutants.

    ``decider`` makes the object that decides (an ``Adjudicator``; one per
    run, so the mutants' engine registrations go when it goes). A declared
    equivalent that a fixture kills is reported stale, as is one that names
    no mutation. ``only_rules`` mutates those rules alone (declarations about
    other rules are then not judged).
    """
    declared = {(e.rule, e.mutation): e for e in declared_equivalents(rules_doc)}
    adjudicator = decider()
    baseline: set[Any] = set()
    if hit_policy:  # what the version itself shows on its fixtures is not the mutant's doing
        original = OverlapSearch(VersionData(name, version, rules_doc, parameters, aql_doc))
        for fixture in fixtures:
            baseline.update(original.findings(dict(fixture.case)))
    results: list[MutantResult] = []
    used: set[tuple[str, str]] = set()
    candidates = mutations(rules_doc, kinds)
    if only_rules is not None:
        candidates = [m for m in candidates if m.rule in only_rules]
        declared = {k: e for k, e in declared.items() if e.rule in only_rules}
    for number, mutation in enumerate(candidates, start=1):
        rules = [
            mutation.changed if raw.get("id") == mutation.rule else raw
            for raw in rules_doc.get("rules", [])
        ]
        mutant_doc = {**rules_doc, "rules": rules}
        try:
            mutant: Ruleset = build_ruleset(
                name=name,
                version=f"{version}-mutant-{number}",
                digest=f"sha256:mutant-{number}",
                rules_doc=mutant_doc,
                parameters=parameters,
                aql_doc=aql_doc,
                reasons_doc=reasons_doc,
            )
        except AdjudicatorError as exc:
            results.append(MutantResult(mutation, None, error=str(exc)))
            continue
        killer = next((f.name for f in fixtures if not check(f, adjudicator, mutant).passed), None)
        how = "decision" if killer else ""
        if killer is None and hit_policy:
            probes = OverlapSearch(
                VersionData(name, f"{version}-mutant-{number}", mutant_doc, parameters, aql_doc)
            )
            for fixture in fixtures:
                found = [f for f in probes.findings(dict(fixture.case)) if f not in baseline]
                if found:
                    killer, how = fixture.name, found[0].sentence()
                    break
        key = (mutation.rule, mutation.mutation)
        equivalent = declared.get(key) if killer is None else None
        if key in declared and killer is None:
            used.add(key)
        results.append(MutantResult(mutation, killer, equivalent, how=how))
    stale = tuple(e for k, e in declared.items() if k not in used)
    return MutationReport(tuple(results), stale)
