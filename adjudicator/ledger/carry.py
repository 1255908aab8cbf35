"""Carry the claims stored before the order ledger into it (migration 0009).

Each order with claims gets its account: the cap of the latest decision of any
claim on it; a claim in the refund stage becomes a hold, a refunded claim a
hold and its payout. Every entry is an audit entry by the actor
``migration 0009``, as later ones are by the people who grant.

An order already paid beyond its cap is carried as it is, never "fixed": its
``decided_cap`` is the decision's and its ``cap`` is raised to what it holds
and paid (so the CHECK constraint holds and nothing more can be granted), and
``adjudicator money reconcile`` reports it.

It reads and writes through plain table definitions of the columns it needs,
not the ORM models, so later migrations that add columns do not break it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from adjudicator.audit import chain
from adjudicator.core.money import format_minor, to_minor
from adjudicator.db.actor import Actor
from adjudicator.ledger.accounts import gross_cap

ACTOR = Actor(key_id=None, name="migration 0009", role="admin")
_CLAIMS = sa.table(
    "claims",
    sa.column("ref"),
    sa.column("order_id"),
    sa.column("currency"),
    sa.column("status"),
    sa.column("state", sa.JSON),
    sa.column("opened_at"),
)
_DECISIONS = sa.table("decisions", sa.column("id"), sa.column("document", sa.JSON))
_ACCOUNTS = sa.table(
    "order_accounts",
    *(sa.column(n) for n in ("order_id", "currency", "cap", "decided_cap", "held", "paid")),
    sa.column("decision_id"),
    sa.column("updated_at"),
)
_ENTRIES = sa.table(
    "ledger_entries",
    *(sa.column(n) for n in ("id", "order_id", "currency", "claim_ref", "kind", "amount")),
    sa.column("at"),
    sa.column("audit_seq"),
)
_HELD = ("refund_pending", "refund_initiated")


def carry_over(session: Session, now: datetime) -> int:
    """Open an account for every order with claims and enter their holds and payouts.

    Returns the number of accounts opened. Run inside the migration's transaction.
    """
    rows = session.execute(sa.select(_CLAIMS).order_by(_CLAIMS.c.opened_at, _CLAIMS.c.ref)).all()
    orders: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        orders[(row.order_id, row.currency)].append(row)
    if not orders:
        return 0
    head = chain.lock_head(session)
    for (order_id, currency), claims in orders.items():
        latest = claims[-1].state["recommendation"]["decision_id"]
        document = session.execute(
            sa.select(_DECISIONS.c.document).where(_DECISIONS.c.id == latest)
        ).scalar_one()
        decided = to_minor(gross_cap(document), currency)
        moves = []
        for claim in claims:
            amount = to_minor(Decimal(str((claim.state.get("refund") or {}).get("amount") or 0)),
                              currency)  # fmt: skip
            if amount > 0 and claim.status in _HELD:
                moves.append((claim.ref, "hold", amount))
            elif amount > 0 and claim.status == "refunded":
                moves += [(claim.ref, "hold", amount), (claim.ref, "payout", amount)]
        paid = sum(a for _, k, a in moves if k == "payout")
        held = sum(a for _, k, a in moves if k == "hold") - paid
        cap = max(decided, held + paid)
        session.execute(sa.insert(_ACCOUNTS).values(
            order_id=order_id, currency=currency, cap=cap, decided_cap=decided, held=held,
            paid=paid, decision_id=latest, updated_at=now))  # fmt: skip
        subject = f"order:{order_id}"
        chain.append(session, head, at=now, actor=ACTOR, action="ledger.cap", subject=subject,
                     request_id=None, payload={
                         "order_id": order_id, "currency": currency,
                         "cap": format_minor(cap, currency),
                         "decided_cap": format_minor(decided, currency),
                         "decision_id": latest})  # fmt: skip
        run = {"held": 0, "paid": 0}
        for claim_ref, kind, amount in moves:
            run["held"] += amount if kind == "hold" else -amount
            run["paid"] += amount if kind == "payout" else 0
            entry_id = session.execute(sa.insert(_ENTRIES).values(
                order_id=order_id, currency=currency, claim_ref=claim_ref, kind=kind,
                amount=amount, at=now, audit_seq=head.seq + 1,
            ).returning(_ENTRIES.c.id)).scalar_one()  # fmt: skip
            payload = {"entry_id": entry_id, "order_id": order_id, "currency": currency,
                       "claim_ref": claim_ref, "kind": kind,
                       "amount": format_minor(amount, currency),
                       "cap": format_minor(cap, currency),
                       "held": format_minor(run["held"], currency),
                       "paid": format_minor(run["paid"], currency)}  # fmt: skip
            chain.append(session, head, at=now, actor=ACTOR, action=f"ledger.{kind}",
                         subject=subject, request_id=None, payload=payload)  # fmt: skip
    return len(orders)
