"""The vocabulary of facts the rules may read, with each field's kind.

A rule condition may name only the fields listed here; the ruleset loader
checks that, so a typo in a rule is a load error, not a rule that silently
never fires. Kinds tell the trace how to show a value: ``day`` is an epoch day
(shown as a date), ``money`` integer minor units (shown as a decimal string).
"""

from __future__ import annotations

from typing import Final

NO_LIMIT: Final = 2**62
"""Stands for "no limit" in a money field (an absent ``amount_claimed``)."""

FACT_FIELDS: Final[dict[str, dict[str, str]]] = {
    "case": {
        "buyer_confirmed": "bool",
        "supplier_confirmed": "bool",
        "sample_order": "bool",
        "coverage": "str",
        "ground": "str",
        "remedy": "str",
        "incoterm": "str",
        "partial_allowed": "bool",
        "filed_day": "day",
        "has_ship_by": "bool",
        "ship_by_day": "day",
        "base_ship_by_day": "day",
        "accepted_off_platform": "bool",
        "has_ship_day": "bool",
        "ship_day": "day",
        "unshipped_qty": "int",
        "late_qty": "int",
        "has_complete_ship_day": "bool",
        "complete_ship_day": "day",
        "has_claimed_lines": "bool",
        "has_receipt": "bool",
        "receipt_day": "day",
        "has_customs": "bool",
        "customs_day": "day",
        "any_transit_loss": "bool",
        "has_inspection": "bool",
        "sample_in_table": "bool",
        "measurable_spec": "bool",
        "subjective_only": "bool",
        "defects_critical": "int",
        "defects_major": "int",
        "defects_minor": "int",
        "ac_critical": "int",
        "ac_major": "int",
        "ac_minor": "int",
        "inspection_fee": "money",
        "claim_limit": "money",
        "has_delay_clause": "bool",
        "assurance_amount": "money",
        "has_supplier_limit": "bool",
        "supplier_limit": "money",
    },
    "payment": {
        "payment_id": "str",
        "kind": "str",
        "credited": "bool",
        "credited_day": "day",
        "credited_by_filing": "bool",
        "filed_day": "day",
        "designated": "bool",
        "without_funds": "bool",
        "chargeback": "str",
        "amount": "money",
        "coverage": "str",
    },
    "prior": {
        "claim_id": "str",
        "status": "str",
        "ground": "str",
        "claim_ground": "str",
        "refund": "money",
    },
    "line": {
        "line_id": "str",
        "ground": "str",
        "ordered": "int",
        "received": "int",
        "received_scaled": "int",
        "floor_scaled": "int",
    },
}

STATE_FIELDS: Final[dict[str, tuple[str, object]]] = {
    # field: (kind, initial value)
    "inel": ("int", 0),
    "covered_count": ("int", 0),
    "covered": ("money", 0),
    "prior": ("money", 0),
    "assurance": ("money", 0),
    "cap": ("money", 0),
    "win_open": ("day", -(2**40)),
    "win_close": ("day", 2**40),
    "short_lines": ("int", 0),
    "finding": ("str", "none"),
    "breach": ("str", "none"),
    "scope": ("str", "none"),
    "outcome": ("str", "none"),
    "upheld": ("int", 0),
    "loss": ("money", 0),
    "refund": ("money", 0),
    "loss_ceil": ("money", 0),
    "reach": ("int", 0),
}
"""The session state the rules chain through; actions write it, rules read it."""

STATE_SEEDS: Final[dict[str, str]] = {"filed_day": "day", "claim_limit": "money"}
"""Case fields copied into the state when a session starts, so that state
conditions compare them as fields of their own fact (``win_close < filed_day``)."""

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
        "completed_on",
        "late_qty",
    }
)
"""Message values every decision fills while normalising the case (``facts.normalise``)."""

ITEM_DISPLAY: Final[dict[str, frozenset[str]]] = {
    "payment": frozenset({"payment_id"}),
    "prior": frozenset({"prior_claim_id", "prior_status"}),
    "line": frozenset({"line_id", "ordered", "received"}),
}
"""Values of the matched item, filled for the rule itself by actions that pass them on."""

FIGURE_DISPLAY_KEYS: Final = frozenset(
    {"window_open", "window_close", "short_lines", "loss", "refund", "cap", "assurance",
     "covered", "prior", "fee"}
)  # fmt: skip
"""Figures the rules compute, shown in messages under these names."""

DISPLAY_KEYS: Final = (
    NORMALISED_DISPLAY | FIGURE_DISPLAY_KEYS | frozenset().union(*ITEM_DISPLAY.values())
)
"""The values a rule's message may name (``{ship_date}``), filled while deciding."""
