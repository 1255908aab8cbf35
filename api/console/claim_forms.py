"""A console action form as the body of the lifecycle action it takes (and nothing more).

Each action's form fields are named after the API body's fields
(``refund.amount``, ``justification``), so the lifecycle's errors, keyed by
the same paths, land at their fields. Which actions a claim offers, and
whether they are allowed, is the service's ``available_actions``; the rules
are the lifecycle's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LABELS = {
    "request_evidence": "Request evidence",
    "assign": "Assign to me",
    "note": "Add a note",
    "propose": "Propose a determination",
    "approve": "Approve",
    "decline": "Decline",
    "settle": "Record a settlement",
    "refund_initiated": "Refund initiated",
    "refund_completed": "Refund completed",
}
DONE = {
    "request_evidence": "Evidence requested.",
    "assign": "Assigned to you.",
    "note": "Note added (staff only).",
    "propose": "Proposal recorded.",
    "approve": "Proposal approved: it is the determination.",
    "decline": "Proposal declined.",
    "settle": "Settlement recorded.",
    "refund_initiated": "Refund marked as initiated.",
    "refund_completed": "Refund marked as completed.",
}
OUTCOMES = ("upheld_full", "upheld_partial", "denied", "not_eligible")


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _amount(form: Mapping[str, str], name: str) -> dict[str, Any] | None:
    amount = _text(form, name)
    return None if amount is None else {"amount": amount}


def action_body(action: str, form: Mapping[str, str], user_name: str) -> dict[str, Any]:
    """The API body of ``action`` from the console's form (``assign`` assigns to the user)."""
    if action == "request_evidence":
        return {"party": _text(form, "party"), "what": _text(form, "what"),
                "due": _text(form, "due")}  # fmt: skip
    if action == "assign":
        return {"assignee": user_name}
    if action == "note":
        return {"text": _text(form, "text") or ""}
    if action == "propose":
        if form.get("kind") == "confirm":
            return {"kind": "confirm"}
        return {"kind": "override", "outcome": _text(form, "outcome"),
                "refund": _amount(form, "refund.amount"),
                "justification": _text(form, "justification")}  # fmt: skip
    if action == "settle":
        return {"refund": _amount(form, "refund.amount"), "terms": _text(form, "terms")}
    if action == "refund_initiated":
        return {"payout_reference": _text(form, "payout_reference")}
    return {}
