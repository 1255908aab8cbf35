"""The decision document: what the rules concluded about one claim.

:class:`Decision` is the value ``decide()`` returns; :meth:`Decision.to_dict`
is exactly the decision document of the contract (``spec/contract.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OUTCOMES = ("not_eligible", "denied", "upheld_full", "upheld_partial", "manual_review")
UPHELD = ("upheld_full", "upheld_partial")
BINDINGS = ("loss", "assurance_amount", "covered_payments", "prior_refunds", "amount_claimed")


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code, the rule that produced it and a sentence a buyer can read."""

    code: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One rule that fired (or one derived date computed), in firing order."""

    rule: str
    step: int
    facts: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "step": self.step, "facts": self.facts}


@dataclass(frozen=True, slots=True)
class Money:
    """The money breakdown, as contract strings in the order's currency."""

    loss: str
    assurance_amount: str
    covered_payments: str
    prior_refunds: str
    cap: str
    binding: str

    def to_dict(self) -> dict[str, str]:
        return {
            "loss": self.loss,
            "assurance_amount": self.assurance_amount,
            "covered_payments": self.covered_payments,
            "prior_refunds": self.prior_refunds,
            "cap": self.cap,
            "binding": self.binding,
        }


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The claim's timers (TIME-01, TIME-02) as RFC 3339 strings and a date."""

    supplier_response_due: str
    escalation_allowed_from: str
    auto_escalation_at: str
    refund_initiation_due: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "supplier_response_due": self.supplier_response_due,
            "escalation_allowed_from": self.escalation_allowed_from,
            "auto_escalation_at": self.auto_escalation_at,
            "refund_initiation_due": self.refund_initiation_due,
        }


@dataclass(frozen=True, slots=True)
class RulesetRef:
    """Which ruleset version decided, and the digest of its files."""

    name: str
    version: str
    digest: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "digest": self.digest}


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision on one claim. Immutable; ``to_dict()`` is the wire document."""

    decision_id: str
    case_id: str
    as_of: str
    decided_at: str
    outcome: str
    currency: str
    refund: str
    fee_reimbursement: str
    money: Money
    conditions: tuple[str, ...]
    deadlines: Deadlines
    reasons: tuple[Reason, ...]
    trace: tuple[TraceStep, ...]
    ruleset: RulesetRef

    @property
    def reason_codes(self) -> list[str]:
        """The reason codes in the order they were produced."""
        return [r.code for r in self.reasons]

    @property
    def fired_rules(self) -> list[str]:
        """The ids of every rule in the trace, in order."""
        return [t.rule for t in self.trace]

    def to_dict(self) -> dict[str, Any]:
        """The decision document of contract.md, JSON-ready."""
        return {
            "decision_id": self.decision_id,
            "case_id": self.case_id,
            "as_of": self.as_of,
            "decided_at": self.decided_at,
            "outcome": self.outcome,
            "refund": {"amount": self.refund, "currency": self.currency},
            "fee_reimbursement": {"amount": self.fee_reimbursement, "currency": self.currency},
            "money": self.money.to_dict(),
            "conditions": list(self.conditions),
            "deadlines": self.deadlines.to_dict(),
            "reasons": [r.to_dict() for r in self.reasons],
            "trace": [t.to_dict() for t in self.trace],
            "ruleset": self.ruleset.to_dict(),
        }
