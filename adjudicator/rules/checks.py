"""Static checks of a ruleset version's data: what the loader refuses beyond syntax.

The compiler already refuses unknown fields, unparseable conditions and
``params.x`` names in conditions that do not exist. These checks read the
version's rules as a whole, against the contract and the version's own reason
catalogue (``reasons.toml``), and report every problem at once, each naming
its rule and saying in one sentence what is wrong:

- an ``outcome`` argument outside the contract's outcome enum;
- a reason code not declared in ``reasons.toml``, or declared with a kind that
  does not fit what the rule does (a gate's reason must be ``not_eligible``);
- a parameter an argument names (``close_days = "receipt_window_days"`` or
  ``params.x`` inside an argument) that ``parameters.toml`` does not define;
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from adjudicator.contract.order import COVERAGES, INCOTERMS
from adjudicator.contract.records import (
    CHARGEBACK_STATUSES,
    CLAIM_GROUNDS,
    PAYMENT_KINDS,
    PRIOR_CLAIM_STATUSES,
    REMEDIES,
)
from adjudicator.decision import OUTCOMES
from adjudicator.fact_types import DISPLAY_KEYS

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

NORMALISED_DISPLAY: Final = frozenset(
    {
        "order_id",
        "claim_id",
        "ground",
        "remedy",
        "incoterm",
        "coverage",
        "currency",
        "filed_on",
        "ship_by",
        "base_ship_by",
        "ship_date",
        "days_late",
        "receipt",
        "unshipped_qty",
        "inspection_id",
        "inspection_company",
        "sample_size",
        "defects",
        "acceptance",
        "claimed",
    }
)
"""Message values every decision fills while normalising the case (``facts.normalise``)."""

ITEM_DISPLAY: Final[dict[str, frozenset[str]]] = {
    "payment": frozenset({"payment_id"}),
    "prior": frozenset({"prior_claim_id", "prior_status"}),
    "line": frozenset({"line_id", "ordered", "received"}),
}
"""Values of the matched item, filled for the rule itself by actions that pass them on."""

ITEM_ACTIONS: Final = frozenset({"warn", "fail_gate"})
"""Actions whose message receives the matched item's values."""

REASON_KIND_OF_ACTION: Final[dict[str, str]] = {
    "warn": "warning",
    "fail_gate": "not_eligible",
    "find_breach": "breach",
    "bind_refund": "cap",
}
"""The kind a reason must have for the action that gives it (``conclude``: its outcome)."""

PARAMETER_ARGS: Final = frozenset({"open_days", "close_days"})
"""Action arguments whose string value names a parameter."""

_PARAM_REF = re.compile(r"\bparams\.([A-Za-z_][A-Za-z0-9_]*)")


def supplied_display(action: str, args: Mapping[str, Any]) -> frozenset[str]:
    """The message values a rule with this action and these arguments fills for later rules."""
    if action == "set_window":
        keys = {"window_open"} if "open_from" in args else set()
        return frozenset(keys | ({"window_close"} if "close_from" in args else set()))
    if action == "count_payment":
        return frozenset({"covered"}) if args.get("toward_cap") else frozenset()
    return _SUPPLIED.get(action, frozenset())


_SUPPLIED: Final[dict[str, frozenset[str]]] = {
    "set_post_delivery_window": frozenset({"window_close"}),
    "record_shortfall": frozenset({"short_lines"}),
    "price_loss": frozenset({"loss"}),
    "bind_refund": frozenset({"refund"}),
    "compute_cap": frozenset({"cap"}),
    "set_assurance": frozenset({"assurance"}),
    "add_prior_refund": frozenset({"prior"}),
    "reimburse_fee": frozenset({"fee"}),
}


ACTION_DISPLAY: Final = frozenset(
    {"window_open", "window_close", "covered"}.union(*_SUPPLIED.values())
)
"""Every message value some action fills."""

KNOWN_FILLERS: Final = frozenset(
    {*_SUPPLIED, "set_window", "count_payment", "warn", "fail_gate", "find_breach", "conclude"}
    | {"set_deadlines", "set_refund_due"}
)
"""Actions whose filled values :func:`supplied_display` knows exactly."""


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
    findings: Mapping[str, str | None],
) -> list[Problem]:
    """Every problem of the version's rules; ``reasons`` None skips the catalogue checks.

    ``findings`` maps each action name to the ``state.finding`` it writes (the
    loader derives it from the action vocabulary).
    """
    rules = [raw for raw in rules if isinstance(raw, Mapping)]
    problems: list[Problem] = []
    if reasons is not None:
        problems += _catalogue_problems(reasons)
    state_shown, state_accepted = _state_enums(rules, findings)
    supplied = set(NORMALISED_DISPLAY)
    for raw in rules:
        action = str(raw.get("action", ""))
        if action in KNOWN_FILLERS:
            supplied |= supplied_display(action, _table(raw, "args"))
        else:  # an action this table does not know: it may set any figure or window
            supplied |= ACTION_DISPLAY
    for raw in rules:
        rule_id = str(raw.get("id", "?"))
        args = _table(raw, "args")
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
        message = raw.get("message")
        if message is not None:
            fills = supplied | (
                _item_fills(_table(raw, "when")) if action in ITEM_ACTIONS else frozenset()
            )
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
    """A rule's ``when``/``args`` table; a malformed one is the compiler's to report."""
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
    code = args.get("reason")
    if code is not None and reasons is not None:
        entry = reasons.get(str(code))
        if not isinstance(entry, Mapping):
            problems.append(f"reason code {code} is not declared in the version's reasons.toml")
        else:
            wanted = REASON_KIND_OF_ACTION.get(action)
            if action == "conclude" and outcome in OUTCOMES:
                wanted = str(outcome)
            if wanted is not None and entry.get("kind") != wanted:
                problems.append(
                    f"reason code {code} is declared as {entry.get('kind')!r} in reasons.toml, "
                    f"but {action} gives a {wanted!r} reason"
                )
    for key, value in args.items():
        if not isinstance(value, str):
            continue
        names = set(_PARAM_REF.findall(value))
        if key in PARAMETER_ARGS:
            names.add(value.removeprefix("params."))
        problems += [
            f"argument {key} names the parameter {name!r}, which parameters.toml does not define"
            for name in sorted(names)
            if name not in parameters
        ]
    return problems


def _state_enums(
    rules: list[Mapping[str, Any]], findings: Mapping[str, str | None]
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """The values the version's own rules can write to the enum-like state fields.

    ``finding`` and ``breach`` take what the actions write (the vocabulary's
    ``finding``, an ``outcome`` or ``breach`` argument) and, so that a version
    whose actions set them by formula still checks, every string its rules'
    ``args``/``set`` tables hold (a quoted literal inside a formula too). A
    typo no rule writes anywhere is still refused. Returns the values to show in
    a refusal (what the actions write) and the values accepted.
    """
    written, anywhere = {"none"}, {"none"}
    breach = {"none"}
    for raw in rules:
        action, args = str(raw.get("action", "")), _table(raw, "args")
        finding = findings.get(action)
        if finding is not None and finding.startswith("@"):
            finding = args.get(finding[1:])
        if isinstance(finding, str):
            written.add(finding)
        if isinstance(args.get("breach"), str):
            breach.add(args["breach"])
        for key in ("args", "set"):
            anywhere.update(_strings(_table(raw, key)))
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
