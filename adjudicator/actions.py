"""The action vocabulary: five generic verbs a rule may name from the data.

- ``add_reason``: add a reason (``gate = true``: a failed eligibility gate);
- ``set``: set figures by formula (``figures = { cap = "max(0, ...)" }``),
  per-line quantities (``quantities``), and optionally a ``finding``, the
  ``binding`` figure of the refund and a reason;
- ``record_finding``: a breach is established: which goods it ``affects``
  (a goods measure of :mod:`adjudicator.measures`), its reason, figures;
- ``conclude``: settle the ``outcome`` (with figures, e.g. the ``loss``, a
  ``condition`` and a reason);
- ``schedule``: set deadlines by formula.

Every figure is a formula of the version's data (:mod:`adjudicator.rules.formulas`),
type-checked and compiled when the version loads; actions only run them. An
action never chooses an outcome on its own: the rule's condition decided that,
and the data names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adjudicator import money
from adjudicator.context import Context
from adjudicator.dates import from_epoch_day, rfc3339
from adjudicator.decision import UPHELD
from adjudicator.errors import RulesetError
from adjudicator.fact_types import DISPLAY_KEYS, STATE_FIELDS
from adjudicator.measures import MEASURES
from adjudicator.rules.model import RuleSpec

Facts = dict[str, dict[str, Any]]
"""The facts a firing matched, by fact type; ``state`` is the live session state."""

FIGURE_KINDS: Mapping[str, str] = {
    name: kind
    for name, (kind, _) in STATE_FIELDS.items()
    if name not in ("inel", "finding", "breach", "outcome", "upheld")
}
"""State figures a ``set`` may write, with the formula kind each must have."""

QUANTITY_TARGETS: Mapping[str, str] = {"shortfall": "int"}
"""Per-line quantities a rule on a ``line`` fact may record."""

DEADLINE_KINDS: Mapping[str, str] = {
    "supplier_response_due": "instant",
    "escalation_allowed_from": "instant",
    "auto_escalation_at": "instant",
    "refund_initiation_due": "day",
}
"""Deadlines ``schedule`` may set: the instants of TIME-01, the day of TIME-02."""

GOODS = frozenset(name for name, (kind, _) in MEASURES.items() if kind == "quantities")
"""Goods measures a finding may say it ``affects``."""

_DISPLAY_AS = {"win_open": "window_open", "win_close": "window_close"}
_SECTIONS = {"figures": FIGURE_KINDS, "quantities": QUANTITY_TARGETS, "deadlines": DEADLINE_KINDS}


@dataclass(frozen=True, slots=True)
class Action:
    """One verb: what it runs, the arguments the data may give it, the finding it writes."""

    run: Callable[[Context, RuleSpec, Facts], None]
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    finding: Callable[[Mapping[str, Any]], str | None] = field(default=lambda args: None)
    """The ``finding`` the action leaves in the state with these arguments; a
    rule that tests another ``finding`` cannot match again after it."""

    def finding_written(self, args: Mapping[str, Any]) -> str | None:
        """The value this action writes to ``state.finding`` with these arguments."""
        return self.finding(args)

    def check_args(
        self, rule_id: str, args: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> None:
        """Fail loading when the data gives this action arguments it does not take."""
        missing = self.required - set(args)
        extra = set(args) - self.required - self.optional
        if missing or extra:
            raise RulesetError(
                f"rule {rule_id}: action args missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        for section, targets in _SECTIONS.items():
            given = args.get(section, {})
            if not isinstance(given, Mapping):
                raise RulesetError(f"rule {rule_id}: {section} must be a table of formulas")
            unknown = sorted(set(given) - set(targets))
            if unknown:
                raise RulesetError(
                    f"rule {rule_id}: {section} cannot set {unknown} (known: {sorted(targets)})"
                )
        if "affects" in args and args["affects"] not in GOODS:
            raise RulesetError(
                f"rule {rule_id}: affects {args['affects']!r} is not one of {sorted(GOODS)}"
            )
        if "outcome" in args and args["outcome"] not in (*UPHELD, "denied", "manual_review"):
            raise RulesetError(f"rule {rule_id}: unknown outcome {args['outcome']!r}")

    def formulas(self, args: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """``(key, formula text, expected kind)`` for every formula in ``args``, in order."""
        found = []
        for section, targets in _SECTIONS.items():
            for name, text in args.get(section, {}).items():
                found.append((f"{section}.{name}", str(text), targets[name]))
        return found


def _apply(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """What every verb does, in this order: goods, formulas, finding, outcome, reason."""
    state, args = facts["state"], rule.args
    if "affects" in args:
        ctx.affected = dict(MEASURES[args["affects"]][1](ctx))
        state["breach"] = args["breach"]
        state["finding"] = "breach"
    for key, formula in rule.formulas.items():
        section, name = key.split(".", 1)
        value = formula(ctx, facts)
        if section == "figures":
            _set_figure(ctx, state, name, value)
        elif section == "quantities":
            ctx.shortfall[str(facts["line"]["line_id"])] = int(value)
        elif name == "refund_initiation_due":
            ctx.refund_due = from_epoch_day(int(value)).isoformat()
        else:
            ctx.deadlines[name] = rfc3339(value)
    if "finding" in args:
        state["finding"] = args["finding"]
    if "binding" in args:
        ctx.binding = args["binding"]
    if "outcome" in args:
        outcome = args["outcome"]
        state["outcome"] = outcome
        if outcome in UPHELD:
            state["finding"], state["upheld"] = "priced", 1
        else:
            state["finding"] = outcome
    if "condition" in args:
        ctx.conditions.append(args["condition"])
    if args.get("gate"):
        state["inel"] = 1
    if "reason" in args:
        ctx.reason(args["reason"], rule.id, rule.message, **_item_values(facts))


def _set_figure(ctx: Context, state: dict[str, Any], name: str, value: Any) -> None:
    kind = FIGURE_KINDS[name]
    if kind in ("money", "int", "day"):
        value = int(value)
    state[name] = value
    shown = _DISPLAY_AS.get(name, name)
    if shown not in DISPLAY_KEYS:
        return
    if kind == "money":
        currency = ctx.normalised.currency
        ctx.display[shown] = f"{money.format_minor(value, currency)} {currency}"
    elif kind == "day":
        ctx.display[shown] = from_epoch_day(value).isoformat()
    else:
        ctx.display[shown] = str(value)


def _item_values(facts: Facts) -> dict[str, str]:
    values: dict[str, str] = {}
    if "payment" in facts:
        values["payment_id"] = str(facts["payment"]["payment_id"])
    if "prior" in facts:
        values["prior_claim_id"] = str(facts["prior"]["claim_id"])
        values["prior_status"] = str(facts["prior"]["status"]).replace("_", " ")
    if "line" in facts:
        line = facts["line"]
        values.update(
            line_id=str(line["line_id"]),
            ordered=str(line["ordered"]),
            received=str(line["received"]),
        )
    return values


def _concluded(args: Mapping[str, Any]) -> str:
    outcome = str(args["outcome"])
    return "priced" if outcome in UPHELD else outcome


_FORMULAS = frozenset({"figures"})

VOCABULARY: Mapping[str, Action] = {
    "add_reason": Action(_apply, frozenset({"reason"}), frozenset({"gate"})),
    "set": Action(
        _apply,
        frozenset({"figures"}) | frozenset(),
        frozenset({"quantities", "finding", "binding", "reason"}),
        finding=lambda args: args.get("finding"),
    ),
    "record_finding": Action(
        _apply,
        frozenset({"breach", "affects", "reason"}),
        _FORMULAS,
        finding=lambda args: "breach",
    ),
    "conclude": Action(
        _apply,
        frozenset({"outcome"}),
        frozenset({"reason", "condition"}) | _FORMULAS,
        finding=_concluded,
    ),
    "schedule": Action(_apply, frozenset({"deadlines"})),
}
"""Every verb a rule may name, by name."""
