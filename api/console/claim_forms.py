"""A console action form as the body of the lifecycle action it takes (and nothing more).

Each action's form fields are named after the API body's fields
(``refund.amount``, ``justification``, ``proposal_id``), so the lifecycle's
errors, keyed by the same paths, land at their fields. Which actions a claim
offers, and whether they are allowed, is the service's ``available_actions``;
the rules are the lifecycle's.

The refund steps move money out of the platform, so the console asks first:
a refund step's form shows a confirmation naming the amount and the payout
reference, and only the second POST, carrying ``confirm=yes``, takes the
action (:data:`CONFIRMED`, :func:`confirmed`).
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
    "settle": "Propose a settlement",
    "refund_initiated": "Refund initiated",
    "refund_completed": "Refund completed",
}
DONE = {
    "request_evidence": "Evidence requested.",
    "assign": "Assigned to you.",
    "note": "Note added (staff only).",
    "propose": "Proposal recorded: a colleague approves or declines it.",
    "approve": "Proposal approved.",
    "decline": "Proposal declined.",
    "settle": "Settlement proposed: a colleague approves or declines it.",
    "refund_initiated": "Refund marked as initiated.",
    "refund_completed": "Refund marked as completed.",
}
CONFIRMED_DONE = "Recommendation confirmed: it is the determination."
OUTCOMES = ("upheld_full", "upheld_partial", "denied", "not_eligible")
CONFIRMED = ("refund_initiated", "refund_completed")  # asked again before they are taken


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
        body = {"kind": "override", "outcome": _text(form, "outcome"),
                "refund": _amount(form, "refund.amount"),
                "justification": _text(form, "justification")}  # fmt: skip
        fee = _amount(form, "fee_reimbursement.amount")
        return body if fee is None else {**body, "fee_reimbursement": fee}
    if action == "settle":
        return {"refund": _amount(form, "refund.amount"), "terms": _text(form, "terms")}
    if action in ("approve", "decline"):
        return {"proposal_id": _text(form, "proposal_id")}
    if action == "refund_initiated":
        return {"payout_reference": _text(form, "payout_reference")}
    return {}


def done_message(action: str, body: Mapping[str, Any]) -> str:
    """What the user is told after ``action`` was taken."""
    if action == "propose" and body.get("kind") == "confirm":
        return CONFIRMED_DONE
    return DONE.get(action, "Done.")


def confirmed(action: str, form: Mapping[str, str]) -> bool:
    """True unless ``action`` is a refund step whose form was not yet confirmed."""
    return action not in CONFIRMED or form.get("confirm") == "yes"


def confirm_errors(action: str, body: Mapping[str, Any]) -> dict[str, list[str]]:
    """What must be filled in before a refund step can be confirmed (the API requires it too)."""
    if action == "refund_initiated" and not body.get("payout_reference"):
        return {"payout_reference": ["Required: the reference of the payout you started."]}
    return {}


def cap_left(action: str, body: Mapping[str, Any], left: str) -> dict[str, Any]:
    """Where a refund the order's cap cannot cover is shown: at the amount field of a proposal,
    else at the form (``refusal``), saying what the order has ``left``."""
    if action == "settle" or (action == "propose" and body.get("kind") == "override"):
        return {"errors": {"refund.amount": [f"The order has {left} left: propose that or less."]}}
    if action == "approve":
        return {"refusal": f"The order has {left} left: decline, and propose that or less."}
    return {"refusal": f"The order has {left} left: propose an override of that or less."}
