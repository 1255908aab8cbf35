"""What each action does to a claim's state, once the table has allowed it.

One small function per action, all of the same shape
``(state, acting, body, extra) -> new state``. ``body`` is the action's
request (already of the right shape); what the checks here refuse is about
meaning (a refund above the cap, a due time in the past), raised as
:class:`InvalidAction` with field paths. ``extra`` carries what only the
service can know: the new recommendation after evidence (the engine ran),
the checked override document of a proposal, the id of a new decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adjudicator.core.dates import add_business_days, rfc3339
from adjudicator.core.lifecycle.errors import CapExhausted, InvalidAction, ReplacedProposal
from adjudicator.core.lifecycle.state import ClaimState, parse_time
from adjudicator.core.lifecycle.table import Acting
from adjudicator.core.money import fits_exponent, quantize

REFUND_INITIATION_BUSINESS_DAYS = 7  # TIME-02
_AMOUNT = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,6})?")

Step = Callable[[ClaimState, Acting, Mapping[str, Any], Mapping[str, Any]], ClaimState]


def add_business_time(at: datetime, days: int) -> datetime:
    """``at`` plus ``days`` business days (its UTC date moved on, same time of day)."""
    moment = at.astimezone(UTC)
    day = add_business_days(moment.date(), days)
    return datetime.combine(day, moment.timetz())


def money(
    errors: dict[str, list[str]],
    path: str,
    value: Mapping[str, Any] | None,
    state: ClaimState,
    *,
    positive: bool = False,
) -> Decimal | None:
    """A ``{"amount", "currency"?}`` in the claim's currency, not above the recommendation's cap."""
    if value is None:
        errors[path] = ["Required."]
        return None
    currency = value.get("currency")
    if currency is not None and currency != state.currency:
        errors[f"{path}.currency"] = [f"Must be the order's currency, {state.currency}."]
        return None
    text = str(value.get("amount", ""))
    if _AMOUNT.fullmatch(text) is None:
        errors[f"{path}.amount"] = ['Must be a non-negative decimal string, e.g. "120.50".']
        return None
    amount = Decimal(text)
    if not fits_exponent(amount, state.currency):
        errors[f"{path}.amount"] = [f"Has more decimals than {state.currency} allows."]
        return None
    cap = max(Decimal(str(state.recommendation["cap"])), Decimal(0))
    if amount > cap:
        errors[f"{path}.amount"] = [f"Must not exceed the cap of the recommendation, {cap}."]
        return None
    if positive and amount <= 0:
        errors[f"{path}.amount"] = ["Must be more than zero."]
        return None
    return quantize(amount, state.currency)


def within_ledger(amount: Decimal, state: ClaimState, extra: Mapping[str, Any]) -> None:
    """Refuse ``amount`` when the order's ledger (``extra["remaining"]``) cannot cover it."""
    left = extra.get("remaining")
    if left is not None and amount > Decimal(str(left)):
        raise CapExhausted(str(amount), str(left), state.currency, str(extra.get("order_id")))


def _reviewed(state: ClaimState, body: Mapping[str, Any]) -> dict[str, Any]:
    """The pending proposal, when it is the one ``body["proposal_id"]`` reviewed."""
    proposal = state.proposal
    named = body.get("proposal_id")
    pending = None if proposal is None else proposal.get("proposal_id")
    if proposal is None or named is None or named != pending:
        raise ReplacedProposal(None if named is None else str(named), pending)
    return proposal


def _refund_stage(
    state: ClaimState, acting: Acting, amount: Decimal, closed_as: str, **changes: Any
) -> ClaimState:
    """The refund stage when ``amount`` > 0 (its clock starts now), else closed as ``closed_as``."""
    if amount <= 0:
        return state.moved(closed_as, **changes)
    refund = {
        "amount": str(amount),
        "currency": state.currency,
        "agreed_at": rfc3339(acting.now),
        "due": rfc3339(add_business_time(acting.now, REFUND_INITIATION_BUSINESS_DAYS)),
        "payout_reference": None,
        "initiated_at": None,
        "completed_at": None,
    }
    return state.moved("refund_pending", refund=refund, **changes)


def _raise(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        raise InvalidAction(f"invalid {what}", errors)


def respond(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], extra: Mapping[str, Any]
) -> ClaimState:
    """The supplier's proposal: a refund (never above the cap or what the order has left),
    a replacement, or a refusal."""
    errors: dict[str, list[str]] = {}
    kind = body.get("kind")
    refund: Decimal | None = None
    if kind == "refund":
        refund = money(errors, "refund", body.get("refund"), state, positive=True)
    elif body.get("refund") is not None:
        errors["refund"] = ["Only a refund proposal names a refund."]
    _raise(errors, "response")
    if refund is not None:
        within_ledger(refund, state, extra)
    offer = {
        "kind": kind,
        "refund": None if refund is None else {"amount": str(refund), "currency": state.currency},
        "message": body.get("message"),
        "at": rfc3339(acting.now),
    }
    return state.moved("awaiting_buyer", offer=offer)


def accept(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """The buyer accepts the supplier's proposal: settled, or the agreed refund is paid."""
    offer = state.offer or {}
    refund = offer.get("refund")
    amount = Decimal(refund["amount"]) if refund else Decimal(0)
    agreement = {"kind": "offer_accepted", "offer": offer, "at": rfc3339(acting.now)}
    return _refund_stage(state, acting, amount, "settled", agreement=agreement)


def reject(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """The buyer rejects the proposal; the supplier answers again."""
    return state.moved("awaiting_supplier")


def escalate(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """The buyer (or the timer) asks the platform to determine."""
    return state.moved("awaiting_staff", escalated_at=rfc3339(acting.now))


def withdraw(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """The buyer withdraws the claim before a determination."""
    return state.moved("withdrawn", proposal=None, evidence_request=None)


def submit_evidence(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], extra: Mapping[str, Any]
) -> ClaimState:
    """A new case revision with its recommendation; back to staff when it was awaited.

    Evidence clears a pending proposal (it was made on what is now old).
    """
    changes: dict[str, Any] = {
        "revision": int(extra["revision"]),
        "recommendation": dict(extra["recommendation"]),
    }
    request = state.evidence_request
    if state.status == "awaiting_evidence" and request and request["party"] == acting.party:
        return state.moved("awaiting_staff", evidence_request=None, **changes)
    if state.status == "pending_approval":
        return state.moved("awaiting_staff", proposal=None, **changes)
    return state.moved(state.status, **changes)


def request_evidence(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any
) -> ClaimState:
    """Staff ask a party for evidence, due at a time in the future."""
    errors: dict[str, list[str]] = {}
    party = body.get("party")
    if party not in ("buyer", "supplier"):
        errors["party"] = ["Must be one of: buyer, supplier."]
    due = body.get("due")
    if isinstance(due, str):
        try:
            due = parse_time(due)
        except ValueError:
            due = None
    if not isinstance(due, datetime) or due.tzinfo is None:
        errors["due"] = ["Must be a timestamp with an offset."]
    elif due <= acting.now:
        errors["due"] = ["Must be in the future."]
    _raise(errors, "evidence request")
    assert isinstance(due, datetime)
    request = {"party": party, "what": body.get("what"), "due": rfc3339(due),
               "requested_at": rfc3339(acting.now)}  # fmt: skip
    return state.moved("awaiting_evidence", evidence_request=request)


def lapse_evidence(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any
) -> ClaimState:
    """Late evidence: a buyer's request is cancelled; a supplier's is decided on what is there."""
    request = state.evidence_request or {}
    if request.get("party") == "buyer":
        return state.moved("cancelled", evidence_request=None)
    return state.moved("awaiting_staff", evidence_request=None)


def assign(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """Give the claim to a staff member (or to nobody)."""
    assignee = body.get("assignee")
    return state.moved(state.status, assignee=None if assignee is None else str(assignee))


def note(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """An internal note: recorded as an event, the state does not change."""
    return state


def _determination(
    state: ClaimState, acting: Acting, source: Mapping[str, Any], decision_id: str, kind: str
) -> ClaimState:
    refund = Decimal(str(source["refund"]["amount"]))
    determination = {
        "kind": kind,
        "decision_id": decision_id,
        "outcome": source["outcome"],
        "refund": dict(source["refund"]),
        "at": rfc3339(acting.now),
        "proposed_by": source.get("by"),
        "approved_by": acting.person if kind == "override" else None,
        "proposal_id": source.get("proposal_id"),
    }
    return _refund_stage(
        state, acting, refund, "determined", determination=determination, proposal=None
    )


def _confirm(state: ClaimState, acting: Acting, extra: Mapping[str, Any]) -> ClaimState:
    """One person confirms the engine: its decision as the ledger stands now is the determination.

    The service re-decides the latest revision with the order's current
    ``prior_claims`` and passes that recommendation in ``extra["recommendation"]``;
    without it (the pure table's own tests) the stored recommendation is confirmed.
    """
    recommendation = dict(extra.get("recommendation") or state.recommendation)
    if recommendation["outcome"] == "manual_review":
        raise InvalidAction(
            "nothing to confirm",
            {"kind": ["The recommendation is manual_review: propose an override."]},
        )
    source = {"outcome": recommendation["outcome"], "refund": recommendation["refund"],
              "by": acting.person}  # fmt: skip
    decided = _determination(state, acting, source, str(recommendation["decision_id"]), "confirm")
    return decided.moved(decided.status, recommendation=recommendation)


def _proposal(
    state: ClaimState, acting: Acting, extra: Mapping[str, Any], **fields: Any
) -> ClaimState:
    proposal = {
        # the service names it (a UUID); the pure table's own tests get a readable stand-in
        "proposal_id": str(extra.get("proposal_id") or f"p{state.revision}-{rfc3339(acting.now)}"),
        **fields,
        "by": acting.person,
        "revision": state.revision,
        "at": rfc3339(acting.now),
    }
    return state.moved("pending_approval", proposal=proposal)


def propose(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], extra: Mapping[str, Any]
) -> ClaimState:
    """``confirm`` the recommendation (a determination at once); an override or a settlement
    for a second person's approval.

    The override's document was built and checked by the service against the
    decisions API's override rules (the fee limit included); it arrives in
    ``extra["override"]``.
    """
    kind = body.get("kind")
    if kind == "confirm":
        return _confirm(state, acting, extra)
    if kind == "settle":
        return settle(state, acting, body, extra)
    document = extra["override"]
    amount = Decimal(str(document["refund"]["amount"]))
    within_ledger(amount, state, extra)
    return _proposal(
        state,
        acting,
        extra,
        kind="override",
        outcome=document["outcome"],
        refund=document["refund"],
        fee_reimbursement=document["fee_reimbursement"],
        justification=document["reasons"][0]["message"],
        document=dict(document),
    )


def settle(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], extra: Mapping[str, Any]
) -> ClaimState:
    """Staff propose a written agreement of both parties, with the agreed refund.

    A settlement moves money, so it waits for a second person's approval
    (lifecycle v1.1); ``settle`` is the alias of ``propose {"kind": "settle"}``.
    """
    errors: dict[str, list[str]] = {}
    amount = money(errors, "refund", body.get("refund"), state)
    terms = body.get("terms")
    if not isinstance(terms, str) or not terms.strip():
        errors["terms"] = ["Required: the written agreement's terms."]
    _raise(errors, "settlement")
    assert amount is not None
    within_ledger(amount, state, extra)
    refund = {"amount": str(amount), "currency": state.currency}
    proposed = _proposal(state, acting, extra, kind="settle", refund=refund, terms=terms)
    return proposed.moved("pending_approval", evidence_request=None)


def approve(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], extra: Mapping[str, Any]
) -> ClaimState:
    """A second person makes the proposal they reviewed the determination, or the settlement."""
    proposal = _reviewed(state, body)
    if proposal["kind"] == "settle":
        refund = dict(proposal["refund"])
        agreement = {"kind": "settlement", "refund": refund, "terms": proposal.get("terms"),
                     "at": rfc3339(acting.now), "proposal_id": proposal["proposal_id"],
                     "proposed_by": proposal["by"], "approved_by": acting.person}  # fmt: skip
        return _refund_stage(state, acting, Decimal(str(refund["amount"])), "settled",
                             agreement=agreement, proposal=None, evidence_request=None)  # fmt: skip
    return _determination(state, acting, proposal, str(extra["decision_id"]), "override")


def decline(state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any) -> ClaimState:
    """A second person declines the proposal they reviewed; staff look again."""
    _reviewed(state, body)
    return state.moved("awaiting_staff", proposal=None)


def refund_initiated(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any
) -> ClaimState:
    """The payout was started; its reference is kept."""
    refund = dict(state.refund or {})
    refund.update(payout_reference=body.get("payout_reference"), initiated_at=rfc3339(acting.now))
    return state.moved("refund_initiated", refund=refund)


def refund_completed(
    state: ClaimState, acting: Acting, body: Mapping[str, Any], _: Any
) -> ClaimState:
    """The payout arrived: the claim is closed as refunded."""
    refund = dict(state.refund or {})
    refund.update(completed_at=rfc3339(acting.now))
    return state.moved("refunded", refund=refund)


STEPS: dict[str, Step] = {
    "respond": respond,
    "accept": accept,
    "reject": reject,
    "escalate": escalate,
    "auto_escalate": escalate,
    "withdraw": withdraw,
    "submit_evidence": submit_evidence,
    "request_evidence": request_evidence,
    "lapse_evidence": lapse_evidence,
    "assign": assign,
    "note": note,
    "propose": propose,
    "approve": approve,
    "decline": decline,
    "settle": settle,
    "refund_initiated": refund_initiated,
    "refund_completed": refund_completed,
}
