"""What a claim action needs from its order's ledger, under the claim's row lock.

- :func:`ledger_extra`: what the order has left, for the steps that refuse an
  offer, an override or a settlement above it (lifecycle v1.1: refused when
  made, and again when granted);
- :func:`confirm_decision`: a ``confirm`` grants the engine's decision made
  with ``prior_claims`` as the ledger stands now, not as it stood when the
  claim was opened or its evidence arrived. The account is locked first, so
  no other claim on the order is granted between this decision and its hold;
- :func:`move_ledger`: the hold, payout or release an accepted move makes
  (:func:`adjudicator.ledger.accounts.movement`), written to the account.

Lock order everywhere: the claim row, then the order's account, then the
audit head (:mod:`.claims_writes`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from adjudicator.claims.models import ClaimRevisionRow, ClaimRow
from adjudicator.claims.writes import NewDecision, prior_claims, recommendation
from adjudicator.core.lifecycle import ClaimState
from adjudicator.decisions.service import Decider
from adjudicator.ledger.accounts import (
    LedgerChange,
    apply,
    lock_account,
    movement,
    remaining_amount,
)


def ledger_extra(session: Session, row: ClaimRow, state: ClaimState) -> dict[str, Any]:
    """``{"remaining", "order_id"}``: what the order's cap can still grant (none: no account)."""
    left = remaining_amount(session, row.order_id, state.currency)
    return {"remaining": None if left is None else str(left), "order_id": row.order_id}


def new_proposal_id() -> dict[str, Any]:
    """The id a new proposal is known by (``approve``/``decline`` name it)."""
    return {"proposal_id": str(uuid.uuid4())}


def confirm_decision(
    session: Session, decider: Decider, row: ClaimRow, state: ClaimState, now: datetime
) -> tuple[dict[str, Any], list[NewDecision]]:
    """The recommendation a ``confirm`` grants now, and the decision to store when it is new.

    The latest revision is decided again only when the order's closed and
    refund-stage claims changed since it was decided (its ``as_of`` is kept:
    only the ledger moved); otherwise the stored recommendation stands.
    """
    lock_account(session, row.order_id, state.currency)
    latest = session.get(ClaimRevisionRow, (row.ref, state.revision))
    assert latest is not None
    case = dict(latest.case_document)
    priors = prior_claims(session, row.order_id, case.get("prior_claims"))
    if priors is None or priors == case.get("prior_claims"):
        return {"recommendation": dict(state.recommendation)}, []
    case["prior_claims"] = priors
    decision = decider.decide(case, None, decision_id=str(uuid.uuid4()), decided_at=now)
    document = decision.to_dict()
    return {"recommendation": recommendation(document)}, [NewDecision(document, case)]


def move_ledger(
    session: Session,
    row: ClaimRow,
    before: ClaimState,
    after: ClaimState,
    now: datetime,
    data: Mapping[str, Any],
) -> tuple[LedgerChange | None, dict[str, Any]]:
    """Write the move's hold/payout/release (``CapExhausted`` when a hold cannot fit).

    Returns the change (its audit entry is appended with the event's) and the
    event's data with the movement in ``data["ledger"]``.
    """
    move = movement(before, after)
    if move is None:
        return None, dict(data)
    change = apply(session, row.order_id, row.ref, move, now)
    return change, {**data, "ledger": move.to_dict()}
