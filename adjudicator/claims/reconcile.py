"""``adjudicator money reconcile``: rebuild every order's ledger from the claim events.

Three records of the same money are compared, and every disagreement is named:

1. **the claim events** (rebuilt here): each event that moved money says so in
   ``data["ledger"]``; an event stored before the ledger existed is read by
   its move (into the refund stage: a hold of the claim's refund; to
   ``refunded``: its payout);
2. **the ledger rows**: ``ledger_entries`` per claim, and each order's account
   (``held``, ``paid``, and ``decided_cap`` against the latest decision of any
   claim on the order, found from the events that made one);
3. **the claim rows**: what each claim's state holds and was paid
   (:func:`adjudicator.ledger.accounts.claim_money`).

An order whose ``held + paid`` exceeds its latest decided cap is reported
too: it can come only from claims granted before the ledger existed
(migration 0009 carries them as they are) or from a later decision that
lowered the cap under money already granted. Nothing is ever "fixed" here.

The worker runs it hourly (:func:`reconcile_job`) and stores the count, which
``/metrics`` exports as ``adjudicator_money_discrepancies``.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from adjudicator.claims.models import ClaimEventRow, ClaimRow
from adjudicator.core.lifecycle import REFUND, ClaimState
from adjudicator.core.money import format_minor, to_minor
from adjudicator.db.database import Database
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.ledger.accounts import claim_money, gross_cap
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow, ReconcileRunRow

EVERY = timedelta(hours=1)
_DECIDING = ("open", "submit_evidence")  # with a confirm's new decision: what moves the cap
Money = dict[str, int]  # {"held": minor units, "paid": minor units}


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One disagreement: where, what, and the two values (money in major units)."""

    order_id: str
    currency: str
    claim_ref: str | None
    what: str
    expected: str
    found: str

    def message(self) -> str:
        """One line a person reads."""
        where = f"order {self.order_id} ({self.currency})"
        if self.claim_ref is not None:
            where += f", claim {self.claim_ref}"
        return f"{where}: {self.what}: expected {self.expected}, found {self.found}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "order_id": self.order_id,
            "currency": self.currency,
            "claim_ref": self.claim_ref,
            "what": self.what,
            "expected": self.expected,
            "found": self.found,
            "message": self.message(),
        }


@dataclass(slots=True)
class ReconcileReport:
    """What was compared and what disagreed."""

    orders: int = 0
    claims: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every record agrees."""
        return not self.discrepancies

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``money reconcile --json``)."""
        return {
            "ok": self.ok,
            "orders": self.orders,
            "claims": self.claims,
            "discrepancies": [d.to_dict() for d in self.discrepancies],
        }


@dataclass(slots=True)
class _Order:
    claims: dict[str, ClaimRow] = field(default_factory=dict)
    latest: tuple[int, str] | None = None  # (audit seq, decision id) of the cap's decision


def _from_events(
    session: Session, claims: dict[str, ClaimRow]
) -> tuple[dict[str, Money], dict[tuple[str, str], _Order]]:
    """Each claim's held/paid rebuilt from its events, and each order's latest decision."""
    rebuilt: dict[str, Money] = {ref: {"held": 0, "paid": 0} for ref in claims}
    orders: dict[tuple[str, str], _Order] = defaultdict(_Order)
    query = select(
        ClaimEventRow.claim_ref, ClaimEventRow.action, ClaimEventRow.from_status,
        ClaimEventRow.to_status, ClaimEventRow.data, ClaimEventRow.audit_seq,
    ).order_by(ClaimEventRow.claim_ref, ClaimEventRow.seq)  # fmt: skip
    seen: set[str] = set()  # decisions already counted (a confirm may grant an older one)
    for ref, action, source, target, data, seq in session.execute(query):
        row = claims[ref]
        order = orders[(row.order_id, row.currency)]
        order.claims[ref] = row
        money = rebuilt[ref]
        decision = data.get("decision_id")
        confirm = action == "propose" and data.get("kind") == "confirm"
        if decision and (action in _DECIDING or confirm) and decision not in seen:
            seen.add(str(decision))
            if order.latest is None or seq > order.latest[0]:
                order.latest = (seq, str(decision))
        moved = data.get("ledger")
        if moved is not None:
            amount = to_minor(Decimal(moved["amount"]), row.currency)
            kind = moved["kind"]
        elif target in REFUND and source not in REFUND:  # before the ledger: the move says it
            kind, amount = "hold", _refund(row)
        elif target == "refunded" and source in REFUND:
            kind, amount = "payout", _refund(row)
        else:
            continue
        money["held"] += amount if kind == "hold" else -amount
        money["paid"] += amount if kind == "payout" else 0
    return rebuilt, orders


def _refund(row: ClaimRow) -> int:
    amount = Decimal(str((row.state.get("refund") or {}).get("amount") or "0"))
    return to_minor(amount, row.currency)


def _entries(session: Session) -> dict[str, Money]:
    found: dict[str, Money] = defaultdict(lambda: {"held": 0, "paid": 0})
    for ref, kind, amount in session.execute(
        select(LedgerEntryRow.claim_ref, LedgerEntryRow.kind, LedgerEntryRow.amount)
    ):
        found[ref]["held"] += amount if kind == "hold" else -amount
        found[ref]["paid"] += amount if kind == "payout" else 0
    return found


def reconcile(store: Store) -> ReconcileReport:
    """Compare the events, the ledger rows and the claim rows of every order."""
    report = ReconcileReport()
    with store.db.read() as session:
        claims = {row.ref: row for row in session.execute(select(ClaimRow)).scalars()}
        rebuilt, orders = _from_events(session, claims)
        entries = _entries(session)
        accounts = {(a.order_id, a.currency): a
                    for a in session.execute(select(OrderAccountRow)).scalars()}  # fmt: skip
        report.orders, report.claims = len(orders), len(claims)
        for key, order in sorted(orders.items()):
            _check_order(session, report, key, order, rebuilt, entries, accounts.get(key))
        for key in sorted(set(accounts) - set(orders)):
            found = format_minor(accounts[key].held + accounts[key].paid, key[1])
            report.discrepancies.append(
                Discrepancy(key[0], key[1], None, "an account no claim opened", "none", found)
            )
    return report


def _check_order(
    session: Session,
    report: ReconcileReport,
    key: tuple[str, str],
    order: _Order,
    rebuilt: dict[str, Money],
    entries: dict[str, Money],
    account: OrderAccountRow | None,
) -> None:
    order_id, currency = key

    def note(ref: str | None, what: str, expected: int | str, found: int | str) -> None:
        shown = [format_minor(v, currency) if isinstance(v, int) else v for v in (expected, found)]
        report.discrepancies.append(Discrepancy(order_id, currency, ref, what, *shown))

    totals = {"held": 0, "paid": 0}
    for ref, row in sorted(order.claims.items()):
        events = rebuilt[ref]
        held, paid = (to_minor(v, currency) for v in claim_money(ClaimState.from_json(row.state)))
        for name, by_claim in (("held", held), ("paid", paid)):
            totals[name] += events[name]
            if entries.get(ref, {}).get(name, 0) != events[name]:
                note(ref, f"{name} by its ledger entries", events[name], entries[ref][name])
            if by_claim != events[name]:
                note(ref, f"{name} by the claim row", events[name], by_claim)
    if account is None:
        note(None, "the order has no ledger account", "an account", "none")
        return
    for name in ("held", "paid"):
        if getattr(account, name) != totals[name]:
            note(None, f"{name} on the account", totals[name], getattr(account, name))
    if order.latest is not None:
        document = session.get(DecisionRow, order.latest[1])
        if document is not None:
            decided = to_minor(gross_cap(document.document), currency)
            if account.decided_cap != decided:
                note(None, f"the cap of decision {order.latest[1]}", decided, account.decided_cap)
    granted = totals["held"] + totals["paid"]
    if granted > account.decided_cap:
        note(None, "held + paid within the decided cap", account.decided_cap, granted)


_last_run: weakref.WeakKeyDictionary[Database, datetime] = weakref.WeakKeyDictionary()


def reconcile_job(store: Store) -> int:
    """The worker's hourly run: store the result; return the number of discrepancies."""
    now = store.clock()
    last = _last_run.get(store.db)
    if last is not None and now - last < EVERY:
        return 0
    _last_run[store.db] = now
    report = reconcile(store)
    with store.db.write() as session:
        session.execute(insert(ReconcileRunRow).values(
            at=now, orders=report.orders, discrepancies=len(report.discrepancies),
            report=report.to_dict()))  # fmt: skip
    return len(report.discrepancies)


def last_run(store: Store) -> ReconcileRunRow | None:
    """The latest stored run (``/metrics`` reads it)."""
    with store.db.autocommit() as session:
        return session.execute(
            select(ReconcileRunRow).order_by(ReconcileRunRow.id.desc()).limit(1)
        ).scalar_one_or_none()
