"""The action vocabulary: five generic verbs a rule may name from the data.

- ``add_reason``: add a reason (``gate = true``: a failed eligibility gate);
- ``set``: set figures by formula (``figures = { cap = "max(0, ...)" }``),
  per-line quantities (``quantities``), and optionally a ``finding``, the
  ``binding`` figure of the refund and a reason;
- ``record_finding``: a breach is established: which goods it ``affects``
  (a goods measure of :mod:`adjudicator.core.measures`), its reason, figures;
- ``conclude``: settle the ``outcome`` (with figures, e.g. the ``loss``, a
  ``condition`` and a reason);
- ``schedule``: set deadlines by formula.

Every figure is a formula of the version's data (:mod:`adjudicator.core.rules.formulas`),
type-checked and compiled when the version loads; actions only run them. An
action never chooses an outcome on its own: the rule's condition decided that,
and the data names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adjudicator.core import money
from adjudicator.core.context import Context
from adjudicator.core.dates import from_epoch_day, rfc3339
from adjudicator.core.decision import UPHELD
from adjudicator.core.errors import RulesetError
from adjudicator.core.fact_types import DISPLAY_KEYS, STATE_FIELDS
from adjudicator.core.measures import MEASURES
from adjudicator.core.rules.model import RuleSpec

Facts = dict[str, dict[str, Any]]
"""The facts a firing matched, by fact type; ``state`` is the live session state."""

FIGURE_KINDS: Mapping[str, str] = {
    **{
        name: kind
        for name, (kind, _) in STATE_FIELDS.items()
        if name not in ("inel", "finding", "breach", "outcome", "upheld")
    },
    "fee": "money",
}
"""Figures a ``set`` may write, with the formula kind each must have: the state's
figures, and ``fee`` (FEE-01's reimbursement, outside the cap), which no rule
tests and so stays out of the engine's state."""

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
_ALSO = "also"
"""Further reasons the rule gives when a formula holds
(``also = [{ reason = "C_CAPPED_AT_PAID", when = "covered < assurance", message = "..." }]``):
one firing, one trace step, every reason that applies (clarifications 5, 10, 17)."""
_LET = "let"
"""Named intermediate values of one firing (``let.exact = "value(affected)"``), read
by the rule's later formulas by name; they live only while the rule fires."""


@dataclass(frozen=True, slots=True)
class Action:
    """One verb: the arguments the data may give it and the finding it writes.

    What a verb does is one code path for all five (:func:`bind`): the verbs
    differ in which arguments they take, so a rule says what it means.
    """

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
        if not isinstance(args.get(_LET, {}), Mapping):
            raise RulesetError(f"rule {rule_id}: let must be a table of formulas")
        for section, targets in _SECTIONS.items():
            given = args.get(section, {})
            if not isinstance(given, Mapping):
                raise RulesetError(f"rule {rule_id}: {section} must be a table of formulas")
            unknown = sorted(set(given) - set(targets))
            if unknown:
                raise RulesetError(
                    f"rule {rule_id}: {section} cannot set {unknown} (known: {sorted(targets)})"
                )
        for index, extra in enumerate(args.get(_ALSO, [])):
            if (
                not isinstance(extra, Mapping)
                or not {"reason", "when"} <= set(extra)
                or set(extra) - {"reason", "when", "message"}
            ):
                raise RulesetError(
                    f"rule {rule_id}: also[{index}] needs reason and when (and may give message)"
                )
        if "affects" in args and args["affects"] not in GOODS:
            raise RulesetError(
                f"rule {rule_id}: affects {args['affects']!r} is not one of {sorted(GOODS)}"
            )
        if "outcome" in args and args["outcome"] not in (*UPHELD, "denied", "manual_review"):
            raise RulesetError(f"rule {rule_id}: unknown outcome {args['outcome']!r}")

    def formulas(self, args: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
        """``(key, formula text, expected kind)`` for every formula in ``args``, in order:
        the ``let`` values first, then figures, quantities and deadlines."""
        found: list[tuple[str, str, str | None]] = [
            (f"{_LET}.{name}", str(text), None) for name, text in args.get(_LET, {}).items()
        ]
        for section, targets in _SECTIONS.items():
            for name, text in args.get(section, {}).items():
                found.append((f"{section}.{name}", str(text), targets[name]))
        for index, extra in enumerate(args.get(_ALSO, [])):
            found.append((f"{_ALSO}.{index}", str(extra["when"]), "bool"))
        return found


Step = Callable[[Context, Facts], None]


def written_fields(rule: RuleSpec) -> frozenset[str]:
    """The session-state fields ``rule``'s verb may change (what :func:`bind` writes)."""
    args = rule.args
    written = {key.split(".", 1)[1] for key in rule.formulas if key.startswith("figures.")}
    written.discard("fee")  # kept on the context, not in the engine's state
    if "affects" in args:
        written |= {"breach", "finding"}
    if "finding" in args:
        written.add("finding")
    if "outcome" in args:
        written |= {"outcome", "finding", "upheld"}
    if args.get("gate"):
        written.add("inel")
    return frozenset(written)


def bind(rule: RuleSpec) -> Step:
    """The effect of ``rule``'s verb as one closure, specialised to its arguments at load.

    What every verb does, in this order: the goods a finding affects, the
    formulas (each result visible to the next), the finding, the binding
    figure, the outcome, a condition, a failed gate, the reason.
    """
    args = rule.args
    steps: list[Step] = []
    if "affects" in args:
        goods, breach = MEASURES[args["affects"]][1], args["breach"]

        def affects(ctx: Context, facts: Facts) -> None:
            ctx.affected = dict(goods(ctx))
            facts["state"]["breach"] = breach
            facts["state"]["finding"] = "breach"

        steps.append(affects)
    for key, formula in rule.formulas.items():
        if not key.startswith(f"{_ALSO}."):
            steps.append(_formula_step(key, formula.run))
    if "finding" in args:
        finding = args["finding"]
        steps.append(lambda ctx, facts: facts["state"].__setitem__("finding", finding))
    if "binding" in args:
        binding = args["binding"]
        steps.append(lambda ctx, facts: setattr(ctx, "binding", binding))
    if "outcome" in args:
        outcome = args["outcome"]
        upheld = outcome in UPHELD
        concluded = "priced" if upheld else outcome

        def conclude(ctx: Context, facts: Facts) -> None:
            state = facts["state"]
            state["outcome"], state["finding"] = outcome, concluded
            if upheld:
                state["upheld"] = 1

        steps.append(conclude)
    if "condition" in args:
        condition = args["condition"]
        steps.append(lambda ctx, facts: ctx.conditions.append(condition))
    if args.get("gate"):
        steps.append(lambda ctx, facts: facts["state"].__setitem__("inel", 1))
    if "reason" in args:
        reason, rule_id, message = args["reason"], rule.id, rule.message
        steps.append(lambda ctx, facts: ctx.reason(reason, rule_id, message, **_item_values(facts)))
    for index, extra in enumerate(args.get(_ALSO, [])):
        steps.append(_also_step(rule, extra, rule.formulas[f"{_ALSO}.{index}"].run))
    if len(steps) == 1:
        return steps[0]
    chain = tuple(steps)

    def run(ctx: Context, facts: Facts) -> None:
        for step in chain:
            step(ctx, facts)

    return run


def _also_step(rule: RuleSpec, extra: Mapping[str, Any], holds: Callable[[Any, Any], Any]) -> Step:
    code, rule_id, message = str(extra["reason"]), rule.id, extra.get("message")

    def also(ctx: Context, facts: Facts) -> None:
        if holds(ctx, facts):
            ctx.reason(code, rule_id, message, **_item_values(facts))

    return also


def _formula_step(key: str, compute: Callable[[Any, Any], Any]) -> Step:
    section, name = key.split(".", 1)
    if section == _LET:
        return lambda ctx, facts: facts.setdefault(_LET, {}).__setitem__(name, compute(ctx, facts))
    if section == "figures":
        return lambda ctx, facts: _set_figure(ctx, facts["state"], name, compute(ctx, facts))
    if section == "quantities":

        def record(ctx: Context, facts: Facts) -> None:
            ctx.shortfall[str(facts["line"]["line_id"])] = int(compute(ctx, facts))

        return record
    if name == "refund_initiation_due":

        def due_day(ctx: Context, facts: Facts) -> None:
            ctx.refund_due = from_epoch_day(int(compute(ctx, facts))).isoformat()

        return due_day

    def deadline(ctx: Context, facts: Facts) -> None:
        ctx.deadlines[name] = rfc3339(compute(ctx, facts))

    return deadline


def _set_figure(ctx: Context, state: dict[str, Any], name: str, value: Any) -> None:
    kind = FIGURE_KINDS[name]
    if kind in ("money", "int", "day"):
        value = int(value)
    if name == "fee":
        ctx.fee = value
    else:
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


_FORMULAS = frozenset({"figures", _LET, _ALSO})

VOCABULARY: Mapping[str, Action] = {
    "add_reason": Action(frozenset({"reason"}), frozenset({"gate"})),
    "set": Action(
        frozenset({"figures"}),
        frozenset({"quantities", "finding", "binding", "reason", _LET, _ALSO}),
        finding=lambda args: args.get("finding"),
    ),
    "record_finding": Action(
        frozenset({"breach", "affects", "reason"}),
        _FORMULAS,
        finding=lambda args: "breach",
    ),
    "conclude": Action(
        frozenset({"outcome"}),
        frozenset({"reason", "condition"}) | _FORMULAS,
        finding=_concluded,
    ),
    "schedule": Action(frozenset({"deadlines"})),
}
"""Every verb a rule may name, by name."""
