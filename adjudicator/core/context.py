"""What one decision accumulates while its rules fire.

The engine's session state holds only the few figures later rules test; the
findings a decision reports (reasons, trace, conditions, affected goods,
deadlines) are gathered here, on the Python side, one context per decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adjudicator.core import money
from adjudicator.core.dates import add_business_days, epoch_day, from_epoch_day
from adjudicator.core.decision import Reason, TraceStep
from adjudicator.core.fact_types import DISPLAY_KEYS
from adjudicator.core.facts import Normalised
from adjudicator.core.rules.model import Ruleset

_FIGURES = ("loss", "refund", "cap", "assurance", "covered", "prior", "fee")
"""Money figures a message may name before a rule has computed them: zero until then."""


@dataclass(slots=True)
class Context:
    """The findings of one decision in progress."""

    normalised: Normalised
    ruleset: Ruleset
    display: dict[str, str]
    reasons: list[Reason] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    affected: dict[str, int] | None = None
    shortfall: dict[str, int] = field(default_factory=dict)
    binding: str = "loss"
    fee: int = 0
    deadlines: dict[str, str] = field(default_factory=dict)
    refund_due: str | None = None

    @classmethod
    def start(cls, normalised: Normalised, ruleset: Ruleset) -> Context:
        """A fresh context, with the derived-date steps and reasons of normalisation."""
        zero = f"{money.format_minor(0, normalised.currency)} {normalised.currency}"
        display = {key: "not set" for key in DISPLAY_KEYS}
        display.update({key: zero for key in _FIGURES})
        display.update(normalised.display)
        ctx = cls(normalised=normalised, ruleset=ruleset, display=display)
        for rule_id, facts in normalised.derived:
            ctx.step(rule_id, facts)
        ctx.reasons.extend(normalised.reasons)
        return ctx

    def value_minor(self, quantities: dict[str, int]) -> Decimal:
        """Quantity x unit price summed over the lines, in (possibly fractional) minor units."""
        prices = self.normalised.prices
        total = sum((prices[k] * q for k, q in quantities.items()), Decimal(0))
        return total.scaleb(money.exponent(self.normalised.currency) or 0)

    def claimed(self) -> dict[str, int]:
        """The goods the claim names in ``affected_lines`` (empty when it names none)."""
        claimed: dict[str, int] = {}
        for item in self.normalised.case["claim"].get("affected_lines") or []:
            claimed[item["line_id"]] = claimed.get(item["line_id"], 0) + int(item["quantity"])
        return claimed

    def within_claim(self, goods: dict[str, int]) -> dict[str, int]:
        """Clarification 7: per line, the smaller of ``goods`` and what the claim names
        (``goods`` itself when the claim names no lines): narrows, never widens."""
        claimed = self.claimed()
        if not claimed:
            return dict(goods)
        narrowed = {k: min(q, goods.get(k, 0)) for k, q in claimed.items()}
        return {k: q for k, q in narrowed.items() if q > 0}

    @staticmethod
    def add_business_days(day: int, days: int) -> int:
        """The epoch day ``days`` business days (Monday to Friday) after ``day``."""
        return epoch_day(add_business_days(from_epoch_day(day), days))

    def step(self, rule_id: str, facts: dict[str, Any]) -> None:
        """Append one trace step."""
        self.trace.append(TraceStep(rule=rule_id, step=len(self.trace) + 1, facts=facts))

    def reason(self, code: str, rule_id: str, template: str | None, **values: str) -> None:
        """Record a reason with its readable message."""
        text = (template or code).format_map({**self.display, **values})
        self.reasons.append(Reason(code=code, rule=rule_id, message=text))
