"""Helpers for the money tests: drive claims on one order, read its ledger, count stored rows.

Every claim here is worked example 1 of rules.md (refund 20000.00 USD, assurance
20000.00, covered payments 20000.00) filed on one order, so the order's cap is
20000.00 and each claim alone would be granted all of it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from claimkit import STAFF_A, STAFF_B, SYSTEM, filed_case
from sqlalchemy import func, select

from adjudicator import Adjudicator
from adjudicator.audit.models import AuditEntryRow
from adjudicator.claims.ledger_view import order_ledger
from adjudicator.claims.models import ClaimEventRow, ClaimRow
from adjudicator.claims.records import ClaimRecord
from adjudicator.claims.service import Viewer, act, get_claim, open_claim
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow
from adjudicator.webhooks.models import OutboxRow

CAP = Decimal("20000.00")  # min(assurance 20000.00, covered payments 6000.00 + 14000.00)
STAFF = Viewer(STAFF_A.key_id, "staff")
# Ada's own API key: another credential, the same person as STAFF_A's console login.
STAFF_A_API_KEY = Actor(key_id="key-ada-api", name="Ada (API key)", role="staff", user_id=1)
UNBOUND_STAFF = Actor(key_id="key-legacy", name="legacy staff key", role="staff")
ESCALATION_WAIT = timedelta(hours=73)  # past escalation_allowed_from (filed_at + 72 h)


def the_other(staff: Actor) -> Actor:
    """The other staff member (four eyes)."""
    return STAFF_B if staff.user_id == STAFF_A.user_id else STAFF_A


def open_on(store: Store, adjudicator: Adjudicator, order_id: str, claim_id: str, **kw: Any) -> str:
    """Open worked example 1 as claim ``claim_id`` on ``order_id``; its claim_ref."""
    case = filed_case(order_id=order_id, claim_id=claim_id, **kw)
    record, created = open_claim(store, adjudicator, case, SYSTEM)
    assert created
    return record.ref


def offer(store: Store, adjudicator: Adjudicator, ref: str, amount: str) -> ClaimRecord:
    """The supplier offers a refund of ``amount`` USD."""
    body = {"kind": "refund", "refund": {"amount": amount, "currency": "USD"}, "message": "ok"}
    return act(store, adjudicator, ref, "respond", body, SYSTEM, party="supplier")[0]


def buyer(store: Store, adjudicator: Adjudicator, ref: str, action: str) -> ClaimRecord:
    """The buyer takes ``action`` (accept, reject, escalate, withdraw) with an empty body."""
    return act(store, adjudicator, ref, action, {}, SYSTEM, party="buyer")[0]


def confirm(
    store: Store, adjudicator: Adjudicator, ref: str, staff: Actor = STAFF_A
) -> ClaimRecord:
    """Staff confirm the engine's recommendation (the one one-person money act)."""
    return act(store, adjudicator, ref, "propose", {"kind": "confirm"}, staff)[0]


def override_body(
    amount: str, *, outcome: str = "upheld_partial", fee: str | None = None
) -> dict[str, Any]:
    """A ``propose`` body for an override refunding ``amount`` USD."""
    body: dict[str, Any] = {
        "kind": "override",
        "outcome": outcome,
        "refund": {"amount": amount, "currency": "USD"},
        "justification": "the parties' evidence",
    }
    if fee is not None:
        body["fee_reimbursement"] = {"amount": fee, "currency": "USD"}
    return body


def settle_body(amount: str) -> dict[str, Any]:
    """A ``propose`` body for a settlement of ``amount`` USD."""
    return {
        "kind": "settle",
        "refund": {"amount": amount, "currency": "USD"},
        "terms": "signed agreement of both parties",
    }


def proposal_id(record: ClaimRecord) -> str:
    """The id of the claim's pending proposal."""
    assert record.state.proposal is not None
    return str(record.state.proposal["proposal_id"])


def approve(
    store: Store, adjudicator: Adjudicator, ref: str, reviewed: str, staff: Actor
) -> ClaimRecord:
    """``staff`` approve the proposal ``reviewed``."""
    return act(store, adjudicator, ref, "approve", {"proposal_id": reviewed}, staff)[0]


def refund_initiated(store: Store, adjudicator: Adjudicator, ref: str) -> ClaimRecord:
    """The upstream system started the payout."""
    body = {"payout_reference": f"PAY-{ref[:8]}"}
    return act(store, adjudicator, ref, "refund_initiated", body, SYSTEM)[0]


def refund_completed(store: Store, adjudicator: Adjudicator, ref: str) -> ClaimRecord:
    """The payout arrived."""
    return act(store, adjudicator, ref, "refund_completed", {}, SYSTEM)[0]


def claim(store: Store, ref: str) -> dict[str, Any]:
    """The claim resource as staff see it now."""
    return get_claim(store, ref, STAFF).to_dict()


def ledger(store: Store, order_id: str) -> dict[str, Any]:
    """``GET /v1/orders/{order_id}/ledger`` as staff see it."""
    return order_ledger(store, order_id, STAFF).to_dict()


def counts(store: Store) -> dict[str, Any]:
    """How many rows of each kind are stored, and every account's (cap, held, paid)."""
    with store.db.read() as session:

        def number(model: Any) -> int:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())

        accounts = session.execute(
            select(OrderAccountRow.order_id, OrderAccountRow.cap, OrderAccountRow.held,
                   OrderAccountRow.paid).order_by(OrderAccountRow.order_id)
        ).all()  # fmt: skip
        states = session.execute(select(ClaimRow.ref, ClaimRow.state).order_by(ClaimRow.ref)).all()
        return {
            "events": number(ClaimEventRow),
            "ledger_entries": number(LedgerEntryRow),
            "audit_entries": number(AuditEntryRow),
            "decisions": number(DecisionRow),
            "outbox": number(OutboxRow),
            "accounts": [tuple(a) for a in accounts],
            "claim_states": [tuple(s) for s in states],
        }


def audit_entry(store: Store, seq: int) -> AuditEntryRow:
    """The audit entry with ``seq``."""
    with store.db.read() as session:
        row = session.execute(select(AuditEntryRow).where(AuditEntryRow.seq == seq)).scalar_one()
        session.expunge(row)
        return row
