"""The order ledger: one cap account per order, held and paid never above the cap.

lifecycle.md v1.1: every claim on an order shares one cap, ``min(assurance
amount, covered payments)`` of the latest decision of any claim on it.
Granting money places a **hold**; ``refund_completed`` turns it into a
**payout**; a claim that leaves the refund stage unpaid **releases** it.

How the database keeps ``held + paid <= cap``:

- every grant is one conditional ``UPDATE order_accounts SET held = held + x
  WHERE ... AND held + paid + x <= cap``. On PostgreSQL a second transaction
  updating the same row waits for the first to commit and then re-evaluates
  the ``WHERE`` against the committed row (READ COMMITTED), so two claims
  granted at the same instant cannot both take the last of the cap; on SQLite
  the write lock (``BEGIN IMMEDIATE``) serialises them outright. No row
  updated means the cap cannot cover it: :class:`CapExhausted`, nothing stored;
- a CHECK constraint (``ck_order_accounts_within_cap``) refuses any write that
  would break the invariant, whatever code path made it;
- a decision that would lower the cap below what is already held and paid
  lowers it only to that (money granted is not taken back; nothing more fits).

What a claim holds follows from its state alone (:func:`claim_money`), so the
ledger's movement for an event is the difference between the claim's state
before and after it (:func:`movement`); :mod:`.reconcile` rebuilds the same
from the stored events. Every movement and cap change is an audit entry
(``ledger.hold`` / ``ledger.release`` / ``ledger.payout`` / ``ledger.cap``).
Callers hold the claim's row lock first, then the account (:func:`lock_account`),
then the audit head: always in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adjudicator.audit import chain
from adjudicator.core.lifecycle import REFUND, ClaimState
from adjudicator.core.lifecycle.errors import CapExhausted
from adjudicator.core.money import format_minor, to_minor
from adjudicator.db.actor import Actor
from adjudicator.db.errors import StoreError
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow


def order_subject(order_id: str) -> str:
    """The audit subject of an order's ledger entries."""
    return f"order:{order_id}"


def claim_money(state: ClaimState) -> tuple[Decimal, Decimal]:
    """What a claim in ``state`` holds and has been paid: ``(held, paid)``."""
    amount = Decimal(str((state.refund or {}).get("amount") or "0"))
    if state.status in REFUND:
        return amount, Decimal(0)
    if state.status == "refunded":
        return Decimal(0), amount
    return Decimal(0), Decimal(0)


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement a claim event makes on its order's account."""

    kind: str  # hold | release | payout
    amount: Decimal
    currency: str

    def to_dict(self) -> dict[str, str]:
        """The ``ledger`` member of the claim event's data."""
        return {"kind": self.kind, "amount": str(self.amount), "currency": self.currency}


def movement(before: ClaimState | None, after: ClaimState) -> Movement | None:
    """The account movement of a claim going from ``before`` to ``after`` (none: nothing moves)."""
    held_before, paid_before = (Decimal(0), Decimal(0)) if before is None else claim_money(before)
    held_after, paid_after = claim_money(after)
    currency = after.currency
    if paid_after > paid_before:
        return Movement("payout", paid_after - paid_before, currency)
    if held_after > held_before:
        return Movement("hold", held_after - held_before, currency)
    if held_after < held_before:
        return Movement("release", held_before - held_after, currency)
    return None


def gross_cap(document: Mapping[str, Any]) -> Decimal:
    """``min(assurance amount, covered payments)`` of a decision document (before prior refunds)."""
    money = document["money"]
    return max(
        min(Decimal(money["assurance_amount"]), Decimal(money["covered_payments"])), Decimal(0)
    )


def lock_account(session: Session, order_id: str, currency: str) -> OrderAccountRow | None:
    """The order's account, locked until the transaction ends (none yet: ``None``)."""
    query = (
        select(OrderAccountRow)
        .where(OrderAccountRow.order_id == order_id, OrderAccountRow.currency == currency)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one_or_none()


def remaining(account: OrderAccountRow | None) -> int | None:
    """What the account can still grant, in minor units (no account: ``None``)."""
    return None if account is None else account.cap - account.held - account.paid


@dataclass(slots=True)
class CapChange:
    """An account opened or its cap moved by a new decision: a ``ledger.cap`` audit entry."""

    account: OrderAccountRow
    decision_id: str

    def append(
        self, session: Session, head: chain.Head, now: datetime, actor: Actor, rid: str | None
    ) -> None:
        """Append the ``ledger.cap`` entry."""
        account = self.account
        payload = {
            "order_id": account.order_id,
            "currency": account.currency,
            "cap": format_minor(account.cap, account.currency),
            "decided_cap": format_minor(account.decided_cap, account.currency),
            "decision_id": self.decision_id,
        }
        chain.append(session, head, at=now, actor=actor, action="ledger.cap",
                     subject=order_subject(account.order_id), request_id=rid,
                     payload=payload)  # fmt: skip


def set_cap(
    session: Session, order_id: str, document: Mapping[str, Any], now: datetime
) -> CapChange | None:
    """Open the order's account, or move its cap to this decision's (never below held + paid)."""
    currency = str(document["refund"]["currency"])
    decision_id = str(document["decision_id"])
    wanted = to_minor(gross_cap(document), currency)
    account = lock_account(session, order_id, currency)
    if account is None:
        values = {"order_id": order_id, "currency": currency, "cap": wanted,
                  "decided_cap": wanted, "held": 0, "paid": 0, "decision_id": decision_id,
                  "updated_at": now}  # fmt: skip
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(OrderAccountRow).values(**values).on_conflict_do_nothing())
        account = lock_account(session, order_id, currency)
        assert account is not None
        if account.decision_id == decision_id:
            return CapChange(account, decision_id)
    cap = max(wanted, account.held + account.paid)
    if cap == account.cap and wanted == account.decided_cap:
        return None
    account.cap = cap
    account.decided_cap = wanted
    account.decision_id = decision_id
    account.updated_at = now
    session.flush()
    return CapChange(account, decision_id)


@dataclass(slots=True)
class LedgerChange:
    """A movement written to the account and its entry row; the audit entry follows."""

    entry: LedgerEntryRow
    account: OrderAccountRow

    def append(
        self, session: Session, head: chain.Head, now: datetime, actor: Actor, rid: str | None
    ) -> None:
        """Append the ``ledger.<kind>`` entry and note its seq on the entry row."""
        entry, account = self.entry, self.account
        money = {name: format_minor(value, entry.currency)
                 for name, value in (("amount", entry.amount), ("cap", account.cap),
                                     ("held", account.held), ("paid", account.paid))}  # fmt: skip
        payload = {"entry_id": entry.id, "order_id": entry.order_id, "currency": entry.currency,
                   "claim_ref": entry.claim_ref, "kind": entry.kind, **money}  # fmt: skip
        chain.append(session, head, at=now, actor=actor, action=f"ledger.{entry.kind}",
                     subject=order_subject(entry.order_id), request_id=rid,
                     payload=payload)  # fmt: skip
        entry.audit_seq = head.seq


_DELTAS = {
    "hold": {"held": +1, "paid": 0},
    "release": {"held": -1, "paid": 0},
    "payout": {"held": -1, "paid": +1},
}


def apply(
    session: Session, order_id: str, claim_ref: str, move: Movement, now: datetime
) -> LedgerChange:
    """Write ``move`` to the order's account; raises :class:`CapExhausted` when it cannot fit.

    The account row is changed by one conditional UPDATE (see the module
    docstring); the entry row is added with ``audit_seq`` 0 until the audit
    entry is appended.
    """
    amount = to_minor(move.amount, move.currency)
    account_of = OrderAccountRow
    where = [account_of.order_id == order_id, account_of.currency == move.currency]
    if move.kind == "hold":
        where.append(account_of.held + account_of.paid + amount <= account_of.cap)
    else:
        where.append(account_of.held >= amount)
    values: dict[str, Any] = {"updated_at": now}
    for name, sign in _DELTAS[move.kind].items():
        if sign:
            values[name] = getattr(account_of, name) + sign * amount
    statement = update(account_of).where(*where).values(**values)
    result = session.execute(statement.execution_options(synchronize_session=False))
    account = lock_account(session, order_id, move.currency)
    if result.rowcount != 1 or account is None:  # type: ignore[attr-defined]
        if move.kind != "hold":  # the claim's hold is not on the account: a bug, never a 409
            raise StoreError(f"order {order_id}'s account does not hold this claim's refund")
        left = remaining(account) or 0
        raise CapExhausted(str(move.amount), format_minor(max(left, 0), move.currency),
                           move.currency, order_id)  # fmt: skip
    entry = LedgerEntryRow(order_id=order_id, currency=move.currency, claim_ref=claim_ref,
                           kind=move.kind, amount=amount, at=now, audit_seq=0)  # fmt: skip
    session.add(entry)
    session.flush()
    return LedgerChange(entry, account)


def remaining_amount(session: Session, order_id: str, currency: str) -> Decimal | None:
    """What the order's cap can still grant, as money (no account yet: ``None``)."""
    account = session.execute(
        select(OrderAccountRow).where(
            OrderAccountRow.order_id == order_id, OrderAccountRow.currency == currency
        )
    ).scalar_one_or_none()
    left = remaining(account)
    return None if left is None else Decimal(format_minor(max(left, 0), currency))
