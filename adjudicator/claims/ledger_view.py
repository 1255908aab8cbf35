"""Reading an order's ledger: ``GET /v1/orders/{order_id}/ledger`` and the console's panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from adjudicator.claims.models import ClaimRow
from adjudicator.claims.records import Viewer
from adjudicator.core.dates import rfc3339
from adjudicator.core.money import format_minor
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.store import Store
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One hold, release or payout, with the audit entry that recorded it."""

    claim_ref: str
    kind: str
    amount: str
    at: datetime
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"claim_ref": self.claim_ref, "kind": self.kind, "amount": self.amount,
                "at": rfc3339(self.at), "audit_seq": self.audit_seq}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LedgerView:
    """An order's cap account in one currency and its entries, oldest first."""

    order_id: str
    currency: str
    cap: str
    held: str
    paid: str
    remaining: str
    entries: tuple[LedgerEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        """lifecycle.md's ledger document."""
        return {
            "order_id": self.order_id,
            "currency": self.currency,
            "cap": self.cap,
            "held": self.held,
            "paid": self.paid,
            "remaining": self.remaining,
            "entries": [e.to_dict() for e in self.entries],
        }


def _view(account: OrderAccountRow, entries: list[LedgerEntryRow]) -> LedgerView:
    cur = account.currency
    left = max(min(account.cap, account.decided_cap) - account.held - account.paid, 0)
    listed = tuple(LedgerEntry(e.claim_ref, e.kind, format_minor(e.amount, cur), e.at,
                               e.audit_seq) for e in entries)  # fmt: skip
    return LedgerView(account.order_id, cur, format_minor(account.decided_cap, cur),
                      format_minor(account.held, cur), format_minor(account.paid, cur),
                      format_minor(left, cur), listed)  # fmt: skip


def order_ledgers(store: Store, order_id: str, viewer: Viewer) -> list[LedgerView]:
    """Every currency's account of the order (one in practice), for ``viewer``.

    Staff, auditors and admins see every order; a system sees the orders it
    filed claims on. Anything else, or an order with no claim, is ``NotFound``.
    """
    with store.db.read() as session:
        filers = select(ClaimRow.ref).where(ClaimRow.order_id == order_id)
        if not viewer.sees_all:
            filers = filers.where(ClaimRow.opened_by == viewer.key_id)
        if session.execute(filers.limit(1)).first() is None:
            raise NotFound("order", order_id[:40])
        accounts = session.execute(
            select(OrderAccountRow)
            .where(OrderAccountRow.order_id == order_id)
            .order_by(OrderAccountRow.currency)
        ).scalars().all()  # fmt: skip
        entries = session.execute(
            select(LedgerEntryRow)
            .where(LedgerEntryRow.order_id == order_id)
            .order_by(LedgerEntryRow.id)
        ).scalars().all()  # fmt: skip
        return [_view(a, [e for e in entries if e.currency == a.currency]) for a in accounts]


def order_ledger(
    store: Store, order_id: str, viewer: Viewer, currency: str | None = None
) -> LedgerView:
    """The order's ledger in ``currency`` (by default its only one)."""
    views = order_ledgers(store, order_id, viewer)
    if currency is not None:
        for view in views:
            if view.currency == currency:
                return view
        raise NotFound("order ledger", f"{order_id[:40]} in {currency[:3]}")
    if len(views) == 1:
        return views[0]
    if not views:
        raise NotFound("order ledger", order_id[:40])
    names = ", ".join(v.currency for v in views)
    raise InvalidRequest(
        "several currencies", {"currency": [f"The order has accounts in {names}: name one."]}
    )
