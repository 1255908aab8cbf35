"""Every claim row against the last claim-event entry that recorded its state.

Each claim event appends an entry (action = the event type, ``claim.*``;
subject = the claim's ref) whose payload carries the claim's status and
revision after the event, the event's number (``event_seq``) and, since the
money change, ``state_digest``: the digest of the claim's whole state after
the event. So the row must hold what its latest such entry says:

- its status, revision and event count as the entry records them;
- its state JSON, whose digest must be the entry's ``state_digest`` (entries
  written before it was recorded carry none: only the fields above are held
  then); the indexed columns beside the state must agree with the state;
- its determination, against the ``decision.*`` entry of the decision it
  names (outcome and refund), whatever the age of the claim's entries.

A claim row no entry recorded, and a recorded claim whose row is gone, are
named too. The events and revisions are :mod:`.claim_events_crosscheck`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session, aliased

from adjudicator.audit.crosscheck import earlier
from adjudicator.audit.models import AuditEntryRow
from adjudicator.claims.models import ClaimRow
from adjudicator.core.canonical import canonical_json, sha256_hex

if TYPE_CHECKING:
    from adjudicator.audit.crosscheck import Mismatch

CLAIM_EVENT_ACTIONS = "claim.%"  # every claim.* entry records one claim event
DECISION_ACTIONS = ("decision.created", "decision.overridden")
_BATCH = 500


def state_digest(state: Any) -> str:
    """``sha256:<hex>`` of a claim state's canonical JSON (as claim-event entries record it)."""
    return "sha256:" + sha256_hex(canonical_json(state))


def _money(value: Any) -> str:
    """A ``{"amount", "currency"}`` as ``"<amount> <currency>"`` (``none`` when absent)."""
    if not isinstance(value, dict):
        return "none"
    return f"{value.get('amount')} {value.get('currency')}"


def _same_amount(a: Any, b: Any) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return bool(a == b)


def _last_entries(head_seq: int) -> Any:
    """The seq of each claim's latest claim-event entry up to ``head_seq``."""
    return (
        select(AuditEntryRow.subject.label("ref"), func.max(AuditEntryRow.seq).label("seq"))
        .where(AuditEntryRow.action.like(CLAIM_EVENT_ACTIONS), AuditEntryRow.seq <= head_seq)
        .group_by(AuditEntryRow.subject)
        .subquery()
    )


def _columns(row: Row[Any], state: dict[str, Any]) -> list[str]:
    """The indexed columns that disagree with the claim's own state JSON."""
    recommendation = state.get("recommendation")
    outcome = recommendation.get("outcome") if isinstance(recommendation, dict) else None
    found = []
    for name, column, wanted in (
        ("status", row.status, state.get("status")),
        ("revision", row.revision, state.get("revision")),
        ("currency", row.currency, state.get("currency")),
        ("assignee", row.assignee, state.get("assignee")),
        ("recommended_outcome", row.recommended_outcome, outcome),
    ):
        if column != wanted:
            found.append(f"its {name} column says {column!r}, its state {wanted!r}")
    return found


def _summary(state: dict[str, Any]) -> str:
    """The money of a claim state in a few words: status, refund, determination."""
    words = f"status {state.get('status')!r}, refund {_money(state.get('refund'))}"
    determination = state.get("determination")
    if isinstance(determination, dict):
        words += (
            f", determination {determination.get('outcome')} "
            f"{_money(determination.get('refund'))} (decision {determination.get('decision_id')})"
        )
        refund = state.get("refund")
        granted = determination.get("refund")
        if (
            isinstance(refund, dict)
            and isinstance(granted, dict)
            and not _same_amount(refund.get("amount"), granted.get("amount"))
        ):
            words += "; the refund is not the amount the determination granted"
    return words


def _against_entry(row: Row[Any]) -> Mismatch | None:
    """The claim row against its latest claim-event entry (``row`` carries both)."""
    ref, seq, payload = row.ref, row.entry_seq, row.payload
    found = []
    for name, column, wanted in (
        ("status", row.status, payload.get("to_status")),
        ("revision", row.revision, payload.get("revision")),
        ("event count", row.event_count, payload.get("event_seq")),
    ):
        if column != wanted:
            found.append(f"{name} {column!r} in the database, {wanted!r} in the log")
    state = row.state if isinstance(row.state, dict) else {}
    wanted_digest = payload.get("state_digest")
    if wanted_digest is not None and state_digest(row.state) != wanted_digest:
        found.append(f"its state no longer matches the entry's state_digest ({_summary(state)})")
    elif wanted_digest is None and state.get("status") != payload.get("to_status"):
        found.append(f"its state says status {state.get('status')!r}")
    found.extend(_columns(row, state))
    if not found:
        return None
    detail = (
        f"claim {ref} (order {row.order_id}) was changed in the database after entry {seq} "
        f"({row.entry_action}) recorded it: " + "; ".join(found)
    )
    return seq, "changed", detail


def _determinations(session: Session, rows: Sequence[Row[Any]], head_seq: int) -> list[Mismatch]:
    """Each determination in ``rows`` against the entry of the decision it names."""
    named: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in rows:
        determination = row.state.get("determination") if isinstance(row.state, dict) else None
        if isinstance(determination, dict):
            named[str(determination.get("decision_id"))] = (row.ref, determination)
    if not named:
        return []
    entries = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.subject, AuditEntryRow.payload).where(
            AuditEntryRow.action.in_(DECISION_ACTIONS),
            AuditEntryRow.subject.in_(list(named)),
            AuditEntryRow.seq <= head_seq,
        )
    ).all()
    recorded = {subject: (seq, payload) for seq, subject, payload in entries}
    problems: list[Mismatch] = []
    for decision_id, (ref, determination) in named.items():
        entry = recorded.get(decision_id)
        if entry is None:
            detail = (
                f"claim {ref}: its determination names decision {decision_id}, "
                "which no decision entry recorded"
            )
            problems.append((head_seq, "unrecorded", detail))
            continue
        seq, payload = entry
        refund, wanted = determination.get("refund"), payload.get("refund")
        if determination.get("outcome") != payload.get("outcome") or not (
            isinstance(refund, dict)
            and isinstance(wanted, dict)
            and _same_amount(refund.get("amount"), wanted.get("amount"))
            and refund.get("currency") == wanted.get("currency")
        ):
            detail = (
                f"claim {ref}: its determination ({determination.get('outcome')}, refund "
                f"{_money(refund)}) differs from decision {decision_id} as entry {seq} recorded "
                f"it ({payload.get('outcome')}, refund {_money(wanted)})"
            )
            problems.append((seq, "changed", detail))
    return problems


def first_claim_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The claim row that disagrees with the log at the earliest entry (or None)."""
    last = _last_entries(head_seq)
    entry = aliased(AuditEntryRow)
    query = (
        select(
            ClaimRow.ref, ClaimRow.order_id, ClaimRow.status, ClaimRow.revision,
            ClaimRow.event_count, ClaimRow.currency, ClaimRow.assignee,
            ClaimRow.recommended_outcome, ClaimRow.state,
            entry.seq.label("entry_seq"), entry.action.label("entry_action"), entry.payload,
        )
        .outerjoin(last, last.c.ref == ClaimRow.ref)
        .outerjoin(entry, entry.seq == last.c.seq)
        .order_by(ClaimRow.ref)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip
    best: Mismatch | None = None
    result = session.execute(query)
    try:
        for rows in result.partitions():
            for row in rows:
                if row.entry_seq is None:
                    detail = f"claim {row.ref} (order {row.order_id}) has no claim-event entry"
                    best = earlier(best, (head_seq, "unrecorded", detail))
                else:
                    best = earlier(best, _against_entry(row))
            for found in _determinations(session, rows, head_seq):
                best = earlier(best, found)
    finally:
        result.close()
    gone = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.subject)
        .outerjoin(ClaimRow, ClaimRow.ref == AuditEntryRow.subject)
        .where(
            AuditEntryRow.action.like(CLAIM_EVENT_ACTIONS),
            AuditEntryRow.seq <= head_seq,
            ClaimRow.ref.is_(None),
        )
        .order_by(AuditEntryRow.seq)
        .limit(1)
    ).first()
    if gone is not None:
        detail = f"claim {gone.subject}, recorded by entry {gone.seq}, is missing"
        best = earlier(best, (gone.seq, "deleted", detail))
    return best
