"""A staff determination that overrides a decision, and the checks it must pass.

What is enforced (each failure is a 422 naming the field):

- ``outcome`` is a determination: ``not_eligible``, ``denied``, ``upheld_full``
  or ``upheld_partial`` (``manual_review`` is what an override resolves);
- ``refund`` and ``fee_reimbursement`` are non-negative decimal strings with no
  more decimals than the order's currency allows, in the original's currency;
- an upheld outcome refunds more than zero; any other outcome refunds nothing
  and reimburses no fee;
- the refund never exceeds the cap of the decision being overridden
  (``money.cap``: the assurance amount and covered payments less prior refunds);
- the fee reimbursed never exceeds the fee of the designated inspection the
  rules would read (FEE-01: the latest inspection by a designated inspector),
  and is 0 when the case has none;
- the justification is required: 1 to 2000 characters, not blank.

The new document keeps the original's case id, ``as_of``, money breakdown,
deadlines and ruleset, so a reader sees what the engine computed; its reasons
are the single manual-determination reason carrying the justification, and its
trace is empty (no rule fired).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from adjudicator.core.contract import load_case
from adjudicator.core.decide import load_catalog
from adjudicator.core.errors import AdjudicatorError
from adjudicator.core.facts import select_inspection
from adjudicator.core.money import fits_exponent, quantize
from adjudicator.core.rules.model import Catalog
from adjudicator.db.errors import InvalidRequest

DETERMINATIONS = ("not_eligible", "denied", "upheld_full", "upheld_partial")
UPHELD = ("upheld_full", "upheld_partial")
REASON_CODE = "M_MANUAL_DETERMINATION"
REASON_RULE = "MANUAL"
JUSTIFICATION_MAX = 2000
_AMOUNT = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,6})?")


@cache
def _catalog() -> Catalog:
    return load_catalog()


def designated_inspection_fee(
    case: Mapping[str, Any], ruleset_version: str, original: Mapping[str, Any]
) -> Decimal:
    """The fee of the case's designated inspection under its ruleset version (none: 0).

    When that version is no longer loaded, the fee the original decision reimbursed.
    """
    try:
        ruleset = _catalog().get(ruleset_version)
        loaded = load_case(case, aql_values=ruleset.aql_values)
    except AdjudicatorError:
        return Decimal(original["fee_reimbursement"]["amount"])
    inspection = select_inspection(loaded, ruleset.parameters)
    fee = inspection.get("fee") if inspection else None
    return Decimal(0) if fee is None else Decimal(fee)


@dataclass(frozen=True, slots=True)
class Determination:
    """What staff decided: outcome, refund, fee, conditions and why."""

    outcome: str
    refund: str
    justification: str
    currency: str | None = None
    fee_reimbursement: str | None = None
    conditions: tuple[str, ...] | None = None

    def document(
        self,
        original: dict[str, Any],
        case: Mapping[str, Any],
        decision_id: str,
        decided_at: str,
    ) -> dict[str, Any]:
        """The new decision document built on ``original`` (decided on ``case``).

        Every path that overrides (the decisions API, a claim's proposal, the
        console) comes here, so the fee limit is computed here, from the case,
        and cannot be left out. Raises :class:`InvalidRequest`.
        """
        fee_limit = designated_inspection_fee(case, str(original["ruleset"]["version"]), original)
        errors: dict[str, list[str]] = {}
        currency = str(original["refund"]["currency"])
        upheld = self.outcome in UPHELD
        if self.outcome not in DETERMINATIONS:
            errors["outcome"] = [f"Must be one of: {', '.join(DETERMINATIONS)}."]
        if self.currency is not None and self.currency != currency:
            errors["refund.currency"] = [f"Must be the order's currency, {currency}."]
        justification = self.justification.strip()
        if not justification or len(justification) > JUSTIFICATION_MAX or "\x00" in justification:
            errors["justification"] = [f"Required: 1 to {JUSTIFICATION_MAX} characters."]

        refund = _amount(errors, "refund.amount", self.refund, currency)
        fee_default = original["fee_reimbursement"]["amount"] if upheld else "0"
        fee = _amount(
            errors, "fee_reimbursement.amount", self.fee_reimbursement or fee_default, currency
        )
        cap = max(Decimal(original["money"]["cap"]), Decimal(0))
        if refund is not None:
            if upheld and refund <= 0:
                errors["refund.amount"] = ["An upheld outcome refunds more than zero."]
            elif not upheld and refund != 0:
                errors["refund.amount"] = ["Only an upheld outcome refunds anything."]
            elif refund > cap:
                errors["refund.amount"] = [f"Must not exceed the cap of the decision, {cap}."]
        if fee is not None and not upheld and fee != 0:
            errors["fee_reimbursement.amount"] = ["Only an upheld outcome reimburses a fee."]
        elif fee is not None and fee > fee_limit:
            errors["fee_reimbursement.amount"] = [
                f"Must not exceed the designated inspection's fee, {fee_limit}."
            ]
        if errors or refund is None or fee is None:
            raise InvalidRequest("invalid override", errors)

        if self.conditions is not None:
            conditions = list(self.conditions)
        else:
            conditions = list(original["conditions"]) if upheld else []
        return {
            "decision_id": decision_id,
            "case_id": original["case_id"],
            "as_of": original["as_of"],
            "decided_at": decided_at,
            "outcome": self.outcome,
            "refund": {"amount": str(quantize(refund, currency)), "currency": currency},
            "fee_reimbursement": {"amount": str(quantize(fee, currency)), "currency": currency},
            "money": dict(original["money"]),
            "conditions": conditions,
            "deadlines": dict(original["deadlines"]),
            "reasons": [{"code": REASON_CODE, "rule": REASON_RULE, "message": justification}],
            "trace": [],
            "ruleset": dict(original["ruleset"]),
        }


def _amount(errors: dict[str, list[str]], path: str, text: str, currency: str) -> Decimal | None:
    if _AMOUNT.fullmatch(text) is None:
        errors[path] = ['Must be a non-negative decimal string, e.g. "120.50".']
        return None
    value = Decimal(text)
    if not fits_exponent(value, currency):
        errors[path] = [f"Has more decimals than {currency} allows."]
        return None
    return value
