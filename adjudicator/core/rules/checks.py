"""Static checks of a ruleset version's data: what the loader refuses beyond syntax.

The compiler already refuses unknown fields, unparseable conditions and
``params.x`` names in conditions that do not exist. These checks read the
version's rules as a whole, against the contract and the version's own reason
catalogue (``reasons.toml``), and report every problem at once, each naming
its rule and saying in one sentence what is wrong:

- an ``outcome`` argument outside the contract's outcome enum;
- a reason code (its own or an ``also`` one) not declared in ``reasons.toml``,
  or declared with a kind that does not fit what the rule does (a gate's
  reason must be ``not_eligible``);
- a parameter an argument names (``params.x`` inside a formula, a ``let``
  or an ``also`` entry) that ``parameters.toml`` does not define;
- a literal compared with an enum field that is not one of its values
  (``ground == 'not_recieved'``): enum values come from the contract's
  schemas, and for the session state from what this version's rules write;
- a message placeholder nothing fills for that rule (``{window_open}`` when no
  rule of the version opens a window, ``{payment_id}`` on a case rule).

Pure functions over the parsed TOML: no I/O, no engine.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from adjudicator.core.contract.order import COVERAGES, INCOTERMS
from adjudicator.core.contract.records import (
    CHARGEBACK_STATUSES,
    CLAIM_GROUNDS,
    PAYMENT_KINDS,
    PRIOR_CLAIM_STATUSES,
    REMEDIES,
)
from adjudicator.core.decision import OUTCOMES
from adjudicator.core.fact_types import DISPLAY_KEYS, ITEM_DISPLAY, NORMALISED_DISPLAY

REASON_KINDS: Final = frozenset(
    {"not_eligible", "denied", "manual_review", "breach", "cap", "warning", "notice"}
)
"""The kinds a reason of ``reasons.toml`` may declare."""

CONTRACT_ENUMS: Final[dict[str, dict[str, frozenset[str]]]] = {
    "case": {
        "ground": frozenset(CLAIM_GROUNDS),
        "remedy": frozenset(REMEDIES),
        "coverage": frozenset(COVERAGES),
        "incoterm": frozenset(INCOTERMS),
    },
    "payment": {
        "kind": frozenset(PAYMENT_KINDS),
        "chargeback": frozenset(CHARGEBACK_STATUSES) | {"none"},
        "coverage": frozenset(COVERAGES),
    },
    "prior": {
        "status": frozenset(PRIOR_CLAIM_STATUSES),
        "ground": frozenset(CLAIM_GROUNDS),
        "claim_ground": frozenset(CLAIM_GROUNDS),
    },
    "line": {"ground": frozenset(CLAIM_GROUNDS)},
}
"""Fact fields whose values are a contract enum (``chargeback`` is ``none`` without one)."""

RULE_KEYS: Final = frozenset(
    {"id", "title", "source", "stage", "when", "action", "message", "overrides"}
)
"""A rule's own keys; every other key of a rule is an argument of its verb."""

FIGURE_DISPLAY: Final = {"win_open": "window_open", "win_close": "window_close"}
"""Figures shown in messages under another name."""


_PARAM_REF = re.compile(r"\bparams\.([A-Za-z_][A-Za-z0-9_]*)")


def rule_args(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The verb's arguments of a rule: its keys other than :data:`RULE_KEYS`."""
    return {k: v for k, v in raw.items() if k not in RULE_KEYS}


def reason_kind(action: str, args: Mapping[str, Any]) -> str | None:
    """The kind a reason given by this verb with these arguments must have (``None``: any).

    A gate's reason is ``not_eligible``, another ``add_reason`` a ``warning``; a
    finding's reasons are ``breach``; a ``set`` that names the ``binding`` figure
    gives ``cap`` reasons; ``conclude`` gives the kind of its outcome.
    """
    if action == "add_reason":
        return "not_eligible" if args.get("gate") else "warning"
    if action == "record_finding":
        return "breach"
    if action == "set" and "binding" in args:
        return "cap"
    outcome = args.get("outcome")
    if action == "conclude" and outcome in REASON_KINDS:
        return str(outcome)
    return None


def supplied_display(action: str, args: Mapping[str, Any]) -> frozenset[str]:
    """The message values a rule with this verb and these arguments fills for later rules:
    the display names of the figures its formulas set."""
    figures = args.get("figures", {})
    if not isinstance(figures, Mapping):
        return frozenset()
    shown = {FIGURE_DISPLAY.get(str(name), str(name)) for name in figures}
    return frozenset(name for name in shown if name in DISPLAY_KEYS)


def _reasons_given(args: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(reason code, message) of the rule's own reason and of each ``also`` entry."""
    given: list[tuple[Any, Any]] = []
    also = args.get("also", [])
    for extra in also if isinstance(also, list) else []:
        if isinstance(extra, Mapping) and "reason" in extra:
            given.append((extra["reason"], extra.get("message")))
    return given


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a version's data: the rule it is in and a sentence."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.message}"


def static_problems(
    rules: Iterable[Mapping[str, Any]],
    parameters: Mapping[str, Any],
    reasons: Mapping[str, Mapping[str, Any]] | None,
    findings: Mapping[str, Callable[[Mapping[str, Any]], str | None]],
) -> list[Problem]:
    """Every problem of the version's rules; ``reasons`` None skips the catalogue checks.

    ``findings`` maps each verb to what it writes to ``state.finding`` given its
    arguments (the loader passes the action vocabulary's).
    """
    rules = [raw for raw in rules if isinstance(raw, Mapping)]
    problems: list[Problem] = []
    if reasons is not None:
        problems += _catalogue_problems(reasons)
    state_shown, state_accepted = _state_enums(rules, findings)
    supplied = set(NORMALISED_DISPLAY)
    for raw in rules:
        supplied |= supplied_display(str(raw.get("action", "")), rule_args(raw))
    for raw in rules:
        rule_id = str(raw.get("id", "?"))
        args = rule_args(raw)
        action = str(raw.get("action", ""))
        problems += [Problem(rule_id, m) for m in _arg_problems(action, args, parameters, reasons)]
        for fact, expression in _table(raw, "when").items():
            if fact == "state":
                found = _literal_problems(str(expression), state_accepted, state_shown)
            else:
                enums = CONTRACT_ENUMS.get(fact, {})
                found = _literal_problems(str(expression), enums, enums)
            problems += [Problem(rule_id, m) for m in found]
            problems += [
                Problem(
                    rule_id,
                    f"the condition names params.{name}, which parameters.toml does not define",
                )
                for name in sorted(set(_PARAM_REF.findall(str(expression))))
                if name not in parameters
            ]
        fills = supplied | _item_fills(_table(raw, "when"))
        messages = [raw.get("message")] + [m for _, m in _reasons_given(args)]
        for message in (m for m in messages if m is not None):
            unfilled = [
                name
                for name in _placeholders(str(message))
                if name not in fills and name in DISPLAY_KEYS  # unknown names: the loader's
            ]
            problems += [
                Problem(rule_id, f"the message names {{{n}}}, which no rule of this version fills")
                for n in unfilled
            ]
    return problems


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A rule's ``when`` table; a malformed one is the compiler's to report."""
    value = raw.get(key, {})
    return value if isinstance(value, Mapping) else {}


def _catalogue_problems(reasons: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    problems = []
    for code, entry in reasons.items():
        kind = entry.get("kind") if isinstance(entry, Mapping) else None
        sentence = entry.get("sentence") if isinstance(entry, Mapping) else None
        if kind not in REASON_KINDS:
            problems.append(
                Problem(
                    "reasons.toml",
                    f"reason {code} has kind {kind!r}; the kinds are {sorted(REASON_KINDS)}",
                )
            )
        if not isinstance(sentence, str) or not sentence.strip():
            problems.append(Problem("reasons.toml", f"reason {code} has no default sentence"))
    return problems


def _arg_problems(
    action: str,
    args: Mapping[str, Any],
    parameters: Mapping[str, Any],
    reasons: Mapping[str, Mapping[str, Any]] | None,
) -> list[str]:
    problems: list[str] = []
    outcome = args.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        problems.append(
            f"outcome {outcome!r} is not one of the contract's outcomes ({', '.join(OUTCOMES)})"
        )
    codes = [args["reason"]] if "reason" in args else []
    codes += [code for code, _ in _reasons_given(args)]
    wanted = reason_kind(action, args)
    for code in codes if reasons is not None else []:
        entry = reasons.get(str(code)) if reasons is not None else None
        if not isinstance(entry, Mapping):
            problems.append(f"reason code {code} is not declared in the version's reasons.toml")
        elif wanted is not None and entry.get("kind") != wanted:
            problems.append(
                f"reason code {code} is declared as {entry.get('kind')!r} in reasons.toml, "
                f"but {action} gives a {wanted!r} reason"
            )
    for key, value in args.items():
        names = {name for text in _strings(value) for name in _PARAM_REF.findall(text)}
        problems += [
            f"argument {key} names the parameter {name!r}, which parameters.toml does not define"
            for name in sorted(names)
            if name not in parameters
        ]
    return problems


def _state_enums(
    rules: list[Mapping[str, Any]],
    findings: Mapping[str, Callable[[Mapping[str, Any]], str | None]],
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """The values the version's own rules can write to the enum-like state fields.

    ``finding`` and ``breach`` take what the verbs write (the vocabulary's
    ``finding`` of the arguments, a ``breach`` argument) and, so that a version
    whose rules set them by formula still checks, every string its rules'
    arguments hold (a quoted literal inside a formula too). A
    typo no rule writes anywhere is still refused. Returns the values to show in
    a refusal (what the actions write) and the values accepted.
    """
    written, anywhere = {"none"}, {"none"}
    breach = {"none"}
    for raw in rules:
        action, args = str(raw.get("action", "")), rule_args(raw)
        of = findings.get(action)
        try:
            finding = None if of is None else of(args)
        except (KeyError, TypeError, ValueError):  # malformed arguments: the verb's check
            finding = None
        if isinstance(finding, str):
            written.add(finding)
        if isinstance(args.get("breach"), str):
            breach.add(args["breach"])
        anywhere.update(_strings(args))
    shown = {"finding": frozenset(written), "breach": frozenset(breach)}
    accepted = {"finding": frozenset(written | anywhere), "breach": frozenset(breach | anywhere)}
    fixed = {
        "scope": frozenset({"none", "whole", "part"}),
        "outcome": frozenset({"none", *OUTCOMES}),
    }
    return {**shown, **fixed}, {**accepted, **fixed}


def _strings(value: Any) -> set[str]:
    """Every string leaf of a table, and the string literals of those that parse."""
    if isinstance(value, Mapping):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    if not isinstance(value, str):
        return set()
    found = {value}
    try:
        tree = ast.parse(value.strip(), mode="eval")
    except SyntaxError:
        return found
    found.update(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )
    return found


def _literal_problems(
    expression: str,
    enums: Mapping[str, frozenset[str]],
    shown: Mapping[str, frozenset[str]],
) -> list[str]:
    try:
        tree = ast.parse(f"({expression.strip() or 'True'})", mode="eval")
    except SyntaxError:
        return []  # the compiler reports it with its own sentence
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Name)):
            continue
        allowed = enums.get(node.left.id)
        if allowed is None:
            continue
        for right in node.comparators:
            values = right.elts if isinstance(right, ast.List | ast.Tuple) else [right]
            for value in values:
                if isinstance(value, ast.Constant) and value.value not in allowed:
                    problems.append(
                        f"{node.left.id} is compared with {value.value!r}, which is not one of "
                        f"its values ({', '.join(sorted(shown[node.left.id]))})"
                    )
    return problems


def _item_fills(when: Mapping[str, Any]) -> frozenset[str]:
    keys: set[str] = set()
    for fact in when:
        keys |= ITEM_DISPLAY.get(fact, frozenset())
    return frozenset(keys)


def _placeholders(message: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(message))
    except ValueError:
        return []
    return [name for _, name, _, _ in parsed if name]
