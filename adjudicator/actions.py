"""The action vocabulary: the small things a rule may do when it fires.

A rule in the data names one of these (``action = "fail_gate"``) with its
arguments (``args = { reason = "E_PO_NOT_CONFIRMED" }``). An action records a
finding in the decision's :class:`~adjudicator.context.Context` and sets the
few session-state figures that later rules test. Actions never choose an
outcome on their own: the rule's condition decided that, the data names it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from adjudicator import money
from adjudicator.context import Context
from adjudicator.dates import add_business_days, from_epoch_day, rfc3339
from adjudicator.errors import RulesetError
from adjudicator.rules.model import RuleSpec

Facts = dict[str, dict[str, Any]]
"""The facts a firing matched, by fact type; ``state`` is the live session state."""


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of the vocabulary: a function and the arguments the data may give it."""

    run: Callable[[Context, RuleSpec, Facts], None]
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    finding: str | None = None
    """The ``finding`` the action always leaves in the state (``"@outcome"``: its
    ``outcome`` argument); a rule that tests another ``finding`` cannot match again."""

    def finding_written(self, args: Mapping[str, Any]) -> str | None:
        """The value this action writes to ``state.finding`` with these arguments."""
        if self.finding is not None and self.finding.startswith("@"):
            return str(args[self.finding[1:]])
        return self.finding

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
        absent = self.params - set(parameters)
        if absent:
            raise RulesetError(f"rule {rule_id}: parameters {sorted(absent)} are not defined")


def _money(ctx: Context, minor: int) -> str:
    currency = ctx.normalised.currency
    return f"{money.format_minor(minor, currency)} {currency}"


def _value(ctx: Context, quantities: Mapping[str, int]) -> Decimal:
    prices = ctx.normalised.prices
    return sum((prices[k] * q for k, q in quantities.items()), Decimal(0))


def _set_figure(state: dict[str, Any], ctx: Context, name: str, minor: int) -> None:
    state[name] = minor
    ctx.display[name] = _money(ctx, minor)


# -- gates and warnings ------------------------------------------------------


def warn(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """Add a reason that does not change the outcome."""
    ctx.reason(rule.args["reason"], rule.id, rule.message, **_item_values(facts))


def fail_gate(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """An eligibility gate failed: the claim is not eligible."""
    warn(ctx, rule, facts)
    facts["state"]["inel"] = 1


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


# -- money figures (CAP-01 to CAP-04) ----------------------------------------


def set_assurance(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """The assurance figure, taken from the case field the rule names."""
    _set_figure(facts["state"], ctx, "assurance", int(facts["case"][rule.args["source"]]))


def count_payment(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """A covered payment: counts for eligibility, and toward the cap when the rule says so."""
    state = facts["state"]
    state["covered_count"] += 1
    if rule.args["toward_cap"]:
        _set_figure(state, ctx, "covered", state["covered"] + int(facts["payment"]["amount"]))


def add_prior_refund(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """A refund already granted on this order uses up part of the shared cap."""
    state = facts["state"]
    _set_figure(state, ctx, "prior", state["prior"] + int(facts["prior"]["refund"]))


def compute_cap(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """cap = max(0, min(assurance, covered payments) - prior refunds)."""
    state = facts["state"]
    cap = max(0, min(state["assurance"], state["covered"]) - state["prior"])
    _set_figure(state, ctx, "cap", cap)


def bind_refund(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """The refund is the figure the rule found binding; a reason says which cap bound."""
    state, binding = facts["state"], rule.args["binding"]
    if binding == "loss":
        refund = state["loss"]
    elif binding == "amount_claimed":
        refund = int(facts["case"]["claim_limit"])
    else:
        refund = state["cap"]
    _set_figure(state, ctx, "refund", refund)
    ctx.binding = binding
    state["finding"] = "bound"
    if "reason" in rule.args:
        ctx.reason(rule.args["reason"], rule.id, rule.message)


def reimburse_fee(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """The designated inspection's fee is reimbursed, outside the cap."""
    ctx.fee = int(facts["case"]["inspection_fee"])
    ctx.display["fee"] = _money(ctx, ctx.fee)


# -- claim windows (WIN-*) ---------------------------------------------------


def _days(rule: RuleSpec, key: str, parameters: Mapping[str, Any]) -> int:
    value = rule.args.get(key, 0)
    return int(parameters[value]) if isinstance(value, str) else int(value)


def set_window(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """Open and/or close the claim window relative to dates of the case."""
    state, case, params = facts["state"], facts["case"], ctx.ruleset.parameters
    if "open_from" in rule.args:
        state["win_open"] = int(case[rule.args["open_from"]]) + _days(rule, "open_days", params)
        ctx.display["window_open"] = from_epoch_day(state["win_open"]).isoformat()
    if "close_from" in rule.args:
        state["win_close"] = int(case[rule.args["close_from"]]) + _days(rule, "close_days", params)
        ctx.display["window_close"] = from_epoch_day(state["win_close"]).isoformat()


def set_post_delivery_window(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """Close the window at the earlier (or later, by parameter) of customs + N and shipment + M."""
    state, case, params = facts["state"], facts["case"], ctx.ruleset.parameters
    bounds = []
    if case["has_customs"]:
        bounds.append(int(case["customs_day"]) + int(params["post_delivery_customs_days"]))
    if case["has_ship_day"]:
        bounds.append(int(case["ship_day"]) + int(params["post_delivery_shipment_days"]))
    if bounds:
        pick = min if params["post_delivery_window"] == "earlier" else max
        state["win_close"] = pick(bounds)
        ctx.display["window_close"] = from_epoch_day(state["win_close"]).isoformat()


# -- breach, loss and outcome ------------------------------------------------


def record_shortfall(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """A line received short of its tolerance band: its shortfall is affected."""
    line, params = facts["line"], ctx.ruleset.parameters
    if params["shortage_basis"] == "beyond_band":
        short = math.ceil(Decimal(int(line["floor_scaled"])) / 10000) - int(line["received"])
    else:
        short = int(line["ordered"]) - int(line["received"])
    ctx.shortfall[str(line["line_id"])] = max(short, 0)
    facts["state"]["short_lines"] += 1
    ctx.display["short_lines"] = str(facts["state"]["short_lines"])


def find_breach(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """A covered breach is established; the goods it affects are remembered for the loss.

    ``state.scope`` says whether the breach reaches everything the remedy asks
    for (``whole``: the whole order, or the lines the claim names) or only part.
    """
    state, n = facts["state"], ctx.normalised
    state["finding"] = "breach"
    state["breach"] = rule.args["breach"]
    affects = rule.args["affects"]
    chosen: dict[str, int] = {
        "order": n.ordered,
        "unshipped": n.unshipped,
        "late_shipments": n.late,
        "lost_shipments": n.lost,
        "shortfall": ctx.shortfall,
    }[affects]
    ctx.affected = dict(chosen)
    whole = sum(chosen.values()) >= sum(n.ordered.values())
    state["scope"] = "whole" if whole or n.case["claim"].get("affected_lines") else "part"
    ctx.reason(rule.args["reason"], rule.id, rule.message)


def conclude(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """The rule settles the outcome without a refund (denied, or manual review)."""
    state = facts["state"]
    state["finding"] = state["outcome"] = rule.args["outcome"]
    ctx.reason(rule.args["reason"], rule.id, rule.message)


def price_loss(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """What the breach cost under the remedy asked for, by the method the rule names."""
    state, n = facts["state"], ctx.normalised
    method = rule.args["method"]
    claim_lines = n.case["claim"].get("affected_lines")
    affected = (
        {item["line_id"]: int(item["quantity"]) for item in claim_lines}
        if claim_lines
        else ctx.affected or n.ordered
    )
    if method == "affected_value":
        loss = _value(ctx, affected)
    elif method == "unshipped_value":
        loss = _value(ctx, n.unshipped)
    elif method == "shortfall_value":
        loss = _value(ctx, ctx.shortfall)
    elif method == "defect_ratio":
        loss = _defect_ratio_loss(ctx, affected)
    else:
        loss = _delay_compensation(ctx, facts["case"])
    _set_figure(state, ctx, "loss", money.to_minor(loss, n.currency))
    state["outcome"] = rule.args["outcome"]
    state["finding"] = "priced"
    state["upheld"] = 1
    if "condition" in rule.args:
        ctx.conditions.append(rule.args["condition"])


def _defect_ratio_loss(ctx: Context, affected: Mapping[str, int]) -> Decimal:
    inspection = ctx.normalised.inspection
    assert inspection is not None, "a quality breach always has its inspection"
    defects = inspection["defects"]
    found = Decimal(defects["critical"] + defects["major"] + defects["minor"])
    ratio = min(found / Decimal(inspection["sample_size"]), Decimal(1))
    return _value(ctx, affected) * ratio


def _delay_compensation(ctx: Context, case: Mapping[str, Any]) -> Decimal:
    clause = ctx.normalised.case["order"]["delay_compensation"]
    days_late = int(case["ship_day"]) - int(case["ship_by_day"])
    percent = min(Decimal(days_late) * clause["percent_per_day"], clause["max_percent"])
    compensation: Decimal = _value(ctx, ctx.normalised.ordered) * percent / 100
    return compensation


# -- timers (TIME-*) -----------------------------------------------------------


def set_deadlines(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """The supplier-response and escalation timers, from the claim's filing."""
    params, filed = ctx.ruleset.parameters, ctx.normalised.case["claim"]["filed_at"]
    ctx.deadlines = {
        "supplier_response_due": rfc3339(
            filed + timedelta(hours=params["supplier_response_hours"])
        ),
        "escalation_allowed_from": rfc3339(
            filed + timedelta(hours=params["escalation_after_hours"])
        ),
        "auto_escalation_at": rfc3339(filed + timedelta(hours=params["auto_escalation_hours"])),
    }


def set_refund_due(ctx: Context, rule: RuleSpec, facts: Facts) -> None:
    """An upheld refund is initiated within N business days of the decision date."""
    days = int(ctx.ruleset.parameters["refund_initiation_business_days"])
    ctx.refund_due = add_business_days(ctx.normalised.as_of, days).isoformat()


VOCABULARY: Mapping[str, Action] = {
    "warn": Action(warn, frozenset({"reason"})),
    "fail_gate": Action(fail_gate, frozenset({"reason"})),
    "set_assurance": Action(set_assurance, frozenset({"source"})),
    "count_payment": Action(count_payment, frozenset({"toward_cap"})),
    "add_prior_refund": Action(add_prior_refund),
    "compute_cap": Action(compute_cap),
    "bind_refund": Action(
        bind_refund, frozenset({"binding"}), frozenset({"reason"}), finding="bound"
    ),
    "reimburse_fee": Action(reimburse_fee),
    "set_window": Action(
        set_window, optional=frozenset({"open_from", "open_days", "close_from", "close_days"})
    ),
    "set_post_delivery_window": Action(
        set_post_delivery_window,
        params=frozenset(
            {"post_delivery_customs_days", "post_delivery_shipment_days", "post_delivery_window"}
        ),
    ),
    "record_shortfall": Action(record_shortfall, params=frozenset({"shortage_basis"})),
    "find_breach": Action(
        find_breach, frozenset({"breach", "affects", "reason"}), finding="breach"
    ),
    "conclude": Action(conclude, frozenset({"outcome", "reason"}), finding="@outcome"),
    "price_loss": Action(
        price_loss, frozenset({"method", "outcome"}), frozenset({"condition"}), finding="priced"
    ),
    "set_deadlines": Action(
        set_deadlines,
        params=frozenset(
            {"supplier_response_hours", "escalation_after_hours", "auto_escalation_hours"}
        ),
    ),
    "set_refund_due": Action(set_refund_due, params=frozenset({"refund_initiation_business_days"})),
}
"""Every action a rule may name, by name."""
