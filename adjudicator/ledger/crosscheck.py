"""The order ledger's rows against the ``ledger.*`` entries that recorded them.

- Each ``ledger_entries`` row names the entry that recorded it
  (``audit_seq``): a ``ledger.<kind>`` entry about ``order:<order_id>``
  whose payload carries the row's id, order, currency, claim, kind and amount
  (a decimal string in major units); the entry's time is the row's. A row
  that differs, a row no entry recorded, and a movement entry whose row is
  gone are named.
- Each ``order_accounts`` row: its ``held`` and ``paid`` must be what its
  entries add up to (a hold adds to held, a release takes from it, a payout
  moves from held to paid), and its ``cap``, ``decided_cap`` and
  ``decision_id`` what the account's last ``ledger.cap`` entry says. An
  account no ``ledger.cap`` entry opened, and a recorded account that is gone,
  are named.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from adjudicator.audit.chain import format_time
from adjudicator.audit.crosscheck import earlier, first_entry_without_row
from adjudicator.audit.models import AuditEntryRow
from adjudicator.core.money import format_minor, to_minor
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow

if TYPE_CHECKING:
    from adjudicator.audit.crosscheck import Mismatch

MOVEMENT_ACTIONS = ("ledger.hold", "ledger.release", "ledger.payout")
CAP_ACTION = "ledger.cap"
_BATCH = 500


def _minor(value: Any, currency: str) -> int | None:
    """A payload's money string in minor units (``None`` when it is not money)."""
    try:
        return to_minor(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError):
        return None


def _money(minor: int, currency: str) -> str:
    try:
        return f"{format_minor(minor, currency)} {currency}"
    except ValueError:
        return f"{minor} (minor units) {currency}"


def _subject(order_id: Any) -> Any:
    return literal("order:").concat(order_id)


def _entry_differences(row: Any) -> list[str]:
    """What of a ledger entry row differs from its audit entry, each named."""
    payload, currency = row.payload, row.currency
    found = []
    for name, column, wanted in (
        ("kind", f"ledger.{row.kind}", row.action),
        ("order", f"order:{row.order_id}", row.subject),
        ("entry id", row.id, payload.get("entry_id")),
        ("order_id", row.order_id, payload.get("order_id")),
        ("currency", row.currency, payload.get("currency")),
        ("claim", row.claim_ref, payload.get("claim_ref")),
    ):
        if column != wanted:
            found.append(f"{name} {column!r} in the database, {wanted!r} in the log")
    if row.amount != _minor(payload.get("amount"), currency):
        found.append(
            f"amount {_money(row.amount, currency)} in the database, "
            f"{payload.get('amount')} {payload.get('currency')} in the log"
        )
    if format_time(row.at) != format_time(row.entry_at):
        found.append(f"time {format_time(row.at)} in the database, {format_time(row.entry_at)}")
    return found


def first_ledger_entry_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The ledger entry row that disagrees with the log at the earliest entry (or None)."""
    entry = aliased(AuditEntryRow)
    rows = (
        select(
            LedgerEntryRow.id, LedgerEntryRow.order_id, LedgerEntryRow.currency,
            LedgerEntryRow.claim_ref, LedgerEntryRow.kind, LedgerEntryRow.amount,
            LedgerEntryRow.at, LedgerEntryRow.audit_seq, entry.seq.label("entry_seq"),
            entry.action, entry.subject, entry.at.label("entry_at"), entry.payload,
        )
        .outerjoin(entry, and_(entry.seq == LedgerEntryRow.audit_seq, entry.seq <= head_seq))
        .order_by(LedgerEntryRow.id)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip
    best: Mismatch | None = None
    result = session.execute(rows)
    try:
        for row in result:
            name = f"ledger entry {row.id} ({row.kind} for claim {row.claim_ref})"
            if row.entry_seq is None:
                detail = f"{name} has no audit entry (entry {row.audit_seq})"
                best = earlier(best, (head_seq, "unrecorded", detail))
                continue
            changed = _entry_differences(row)
            if changed:
                detail = (
                    f"{name} was changed in the database after entry {row.entry_seq} "
                    "recorded it: " + "; ".join(changed)
                )
                best = earlier(best, (row.entry_seq, "changed", detail))
    finally:
        result.close()
    gone = first_entry_without_row(
        session,
        head_seq,
        AuditEntryRow.action.in_(MOVEMENT_ACTIONS),
        LedgerEntryRow.id,
        LedgerEntryRow.audit_seq == AuditEntryRow.seq,
    )
    if gone is not None:
        payload = gone.payload
        detail = (
            f"ledger entry {payload.get('entry_id')} ({gone.action} of {payload.get('amount')} "
            f"{payload.get('currency')} for claim {payload.get('claim_ref')}), recorded by "
            f"entry {gone.seq}, is missing"
        )
        best = earlier(best, (gone.seq, "deleted", detail))
    return best


def _account_query(head_seq: int) -> Any:
    """Each account with what its entries add up to and the seq of its last ledger.cap entry."""
    mine = and_(
        LedgerEntryRow.order_id == OrderAccountRow.order_id,
        LedgerEntryRow.currency == OrderAccountRow.currency,
    )
    held_delta = case(
        (LedgerEntryRow.kind == "hold", LedgerEntryRow.amount), else_=-LedgerEntryRow.amount
    )
    paid_delta = case((LedgerEntryRow.kind == "payout", LedgerEntryRow.amount), else_=0)
    held = select(func.coalesce(func.sum(held_delta), 0)).where(mine).scalar_subquery()
    paid = select(func.coalesce(func.sum(paid_delta), 0)).where(mine).scalar_subquery()
    last_move = select(func.max(LedgerEntryRow.audit_seq)).where(mine).scalar_subquery()
    cap_seq = (
        select(func.max(AuditEntryRow.seq))
        .where(
            AuditEntryRow.action == CAP_ACTION,
            AuditEntryRow.subject == _subject(OrderAccountRow.order_id),
            AuditEntryRow.payload["currency"].as_string() == OrderAccountRow.currency,
            AuditEntryRow.seq <= head_seq,
        )
        .scalar_subquery()
    )
    return (
        select(
            OrderAccountRow.order_id, OrderAccountRow.currency, OrderAccountRow.cap,
            OrderAccountRow.decided_cap, OrderAccountRow.held, OrderAccountRow.paid,
            OrderAccountRow.decision_id, held.label("entries_held"),
            paid.label("entries_paid"), last_move.label("last_move"),
            cap_seq.label("cap_seq"),
        )
        .order_by(OrderAccountRow.order_id, OrderAccountRow.currency)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip


def _account_mismatches(
    rows: Sequence[Any], caps: dict[int, dict[str, Any]], head_seq: int
) -> list[Mismatch]:
    found: list[Mismatch] = []
    for row in rows:
        currency = row.currency
        name = f"order {row.order_id}'s {currency} account"
        if row.cap_seq is None:
            detail = f"{name} has no ledger.cap entry"
            found.append((head_seq, "unrecorded", detail))
            continue
        sums = []
        for what, column, total in (
            ("held", row.held, int(row.entries_held)),
            ("paid", row.paid, int(row.entries_paid)),
        ):
            if column != total:
                sums.append(
                    f"{what} {_money(column, currency)} in the database, its entries add up "
                    f"to {_money(total, currency)}"
                )
        if sums:
            seq = row.last_move if row.last_move is not None else row.cap_seq
            detail = (
                f"{name} was changed in the database after entry {seq} recorded it: "
                + "; ".join(sums)
            )
            found.append((seq, "changed", detail))
        payload = caps.get(row.cap_seq, {})
        differs = []
        for what, column, wanted in (
            ("cap", row.cap, _minor(payload.get("cap"), currency)),
            ("decided_cap", row.decided_cap, _minor(payload.get("decided_cap"), currency)),
        ):
            if what in payload and column != wanted:
                differs.append(
                    f"{what} {_money(column, currency)} in the database, "
                    f"{payload.get(what)} {currency} in the log"
                )
        if row.decision_id != payload.get("decision_id"):
            differs.append(
                f"decision {row.decision_id} in the database, {payload.get('decision_id')} "
                "in the log"
            )
        if differs:
            detail = (
                f"{name} was changed in the database after entry {row.cap_seq} recorded its "
                "cap: " + "; ".join(differs)
            )
            found.append((row.cap_seq, "changed", detail))
    return found


def first_account_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The order account that disagrees with its entries or its last cap entry (or None)."""
    best: Mismatch | None = None
    result = session.execute(_account_query(head_seq))
    try:
        for rows in result.partitions():
            seqs = [row.cap_seq for row in rows if row.cap_seq is not None]
            caps = {
                seq: payload
                for seq, payload in session.execute(
                    select(AuditEntryRow.seq, AuditEntryRow.payload).where(
                        AuditEntryRow.seq.in_(seqs)
                    )
                )
            }
            for found in _account_mismatches(rows, caps, head_seq):
                best = earlier(best, found)
    finally:
        result.close()
    gone = first_entry_without_row(
        session,
        head_seq,
        AuditEntryRow.action == CAP_ACTION,
        OrderAccountRow.order_id,
        and_(
            _subject(OrderAccountRow.order_id) == AuditEntryRow.subject,
            OrderAccountRow.currency == AuditEntryRow.payload["currency"].as_string(),
        ),
    )
    if gone is not None:
        payload = gone.payload
        detail = (
            f"order {payload.get('order_id')}'s {payload.get('currency')} account, opened by "
            f"entry {gone.seq}, is missing"
        )
        best = earlier(best, (gone.seq, "deleted", detail))
    return best
