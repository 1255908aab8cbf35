"""The security-relevant rows against the audit entries that recorded them.

The hash chain proves the audit log was not altered; these checks prove the
tables it speaks for were not either:

- decisions: each ``decision.created`` and ``decision.overridden`` entry
  carries the digest of the decision document and of its case document; a
  decision row whose documents no longer match, a recorded decision that is
  gone, or a decision no entry recorded is named;
- API keys: replaying the ``key.*`` entries gives each key's name, role, the
  user it is bound to (entries that carry ``user_id``) and whether it is
  revoked; a name, role or user changed or a revocation undone in the
  database, a key no entry created, or a created key that is gone is named;
- console users (:mod:`.users_crosscheck`): name, role, lock, password hash;
- ruleset activations and requests (:mod:`.activation_crosscheck`);
- claims (:mod:`.claims_crosscheck`): status, state, determination, refund;
- claim events and case revisions (:mod:`.claim_events_crosscheck`);
- the order ledger's entries and accounts (:mod:`.ledger_crosscheck`).

:data:`ROW_CHECKS` lists them; ``verify_audit`` runs each in turn once the
chain holds. Another table joins with one function ``(session, head_seq) ->
Mismatch | None`` appended there (see :func:`replay` and :func:`first_key_mismatch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.audit.models import AuditEntryRow
from adjudicator.claims.crosscheck import first_claim_mismatch
from adjudicator.claims.events_crosscheck import (
    first_event_mismatch,
    first_revision_mismatch,
)
from adjudicator.core.canonical import canonical_json, case_digest, sha256_hex
from adjudicator.decisions.models import DecisionRow
from adjudicator.governance.crosscheck import first_activation_mismatch
from adjudicator.identity.crosscheck import first_user_mismatch
from adjudicator.identity.keys import ROLES
from adjudicator.identity.models import ApiKeyRow
from adjudicator.ledger.crosscheck import (
    first_account_mismatch,
    first_ledger_entry_mismatch,
)

DECISION_ACTIONS = ("decision.created", "decision.overridden")
_BATCH = 500


def document_digest(document: dict[str, Any]) -> str:
    """``sha256:<hex>`` of a stored decision document's canonical JSON."""
    return "sha256:" + sha256_hex(canonical_json(document))


Mismatch = tuple[int, Literal["changed", "deleted", "unrecorded"], str]
RowCheck = Callable[[Session, int], "Mismatch | None"]


def first_unrecorded_change(session: Session, head_seq: int) -> Mismatch | None:
    """The first decision that disagrees with the log: ``(entry seq, problem, detail)``."""
    recorded = (
        select(
            AuditEntryRow.seq,
            AuditEntryRow.subject,
            AuditEntryRow.payload,
            DecisionRow.id,
            DecisionRow.outcome,
            DecisionRow.document,
            DecisionRow.case_document,
        )
        .join(DecisionRow, DecisionRow.id == AuditEntryRow.subject, isouter=True)
        .where(AuditEntryRow.action.in_(DECISION_ACTIONS), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    result = session.execute(recorded)
    try:
        for seq, subject, payload, found, outcome, document, case in result:
            mismatch = _compare(seq, subject, payload, found, outcome, document, case)
            if mismatch is not None:
                return mismatch
    finally:
        result.close()  # a server-side cursor on PostgreSQL: release it when leaving early
    unrecorded = (
        select(DecisionRow.id)
        .where(
            ~select(AuditEntryRow.seq)
            .where(
                AuditEntryRow.subject == DecisionRow.id,
                AuditEntryRow.action.in_(DECISION_ACTIONS),
            )
            .exists()
        )
        .limit(1)
    )
    stray = session.execute(unrecorded).scalar_one_or_none()
    if stray is not None:
        return head_seq, "unrecorded", f"decision {stray} has no audit entry"
    return None


def _compare(
    seq: int,
    subject: str,
    payload: dict[str, Any],
    found: str | None,
    outcome: str | None,
    document: dict[str, Any] | None,
    case: dict[str, Any] | None,
) -> Mismatch | None:
    if found is None or document is None or case is None:
        return seq, "deleted", f"decision {subject}, recorded by entry {seq}, is missing"
    wanted = payload.get("document_digest")
    if (
        outcome != payload.get("outcome")
        or (wanted is not None and document_digest(document) != wanted)
        or case_digest(case) != payload.get("case_digest")
    ):
        detail = (
            f"decision {subject} was changed after entry {seq} recorded it: "
            "its stored documents no longer match the digests in the entry"
        )
        return seq, "changed", detail
    return None


@dataclass(slots=True)
class Recorded:
    """What the chain says about one subject: the fields its entries set, and the last entry."""

    seq: int
    fields: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)  # action -> last entry seq


def replay(session: Session, head_seq: int, actions: tuple[str, ...]) -> dict[str, Recorded]:
    """Each subject of ``actions`` entries with the payload fields they set, in chain order."""
    query = (
        select(
            AuditEntryRow.seq, AuditEntryRow.action, AuditEntryRow.subject, AuditEntryRow.payload
        )
        .where(AuditEntryRow.action.in_(actions), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    subjects: dict[str, Recorded] = {}
    result = session.execute(query)
    try:
        for seq, action, subject, payload in result:
            recorded = subjects.setdefault(subject, Recorded(seq))
            recorded.seq = seq
            recorded.fields.update(payload)
            recorded.actions[action] = seq
    finally:
        result.close()
    return subjects


KEY_ACTIONS = ("key.created", "key.revoked")


def _rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else len(ROLES)


def first_key_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The first API key row that disagrees with the ``key.*`` entries (``(seq, problem, detail)``).

    Every mismatch is collected and the one at the earliest entry reported.
    """
    recorded = replay(session, head_seq, KEY_ACTIONS)
    rows = session.execute(
        select(
            ApiKeyRow.id, ApiKeyRow.name, ApiKeyRow.role, ApiKeyRow.revoked_at, ApiKeyRow.user_id
        ).order_by(ApiKeyRow.id)
    ).all()
    found = set()
    problems: list[Mismatch] = []
    for key_id, name, role, revoked_at, user_id in rows:
        found.add(key_id)
        entry = recorded.get(key_id)
        if entry is None or "key.created" not in entry.actions:
            problems.append((head_seq, "unrecorded", f"key {key_id} has no key.created entry"))
            continue
        created = entry.actions["key.created"]
        wanted = entry.fields.get("role")
        if role != wanted:
            how = "raised" if _rank(role) > _rank(str(wanted)) else "changed"
            detail = (
                f"key {key_id}: its role was {how} in the database from {wanted!r} "
                f"(entry {created}) to {role!r} with no audit entry"
            )
            problems.append((created, "changed", detail))
        if name != entry.fields.get("name"):
            detail = (
                f"key {key_id}: its name was changed in the database from "
                f"{entry.fields.get('name')!r} (entry {created}) to {name!r} with no audit entry"
            )
            problems.append((created, "changed", detail))
        # key.created entries written before keys were bound to users carry no user_id
        if "user_id" in entry.fields and user_id != entry.fields["user_id"]:
            detail = (
                f"key {key_id}: its user was changed in the database from "
                f"{entry.fields['user_id']!r} (entry {created}) to {user_id!r} with no audit entry"
            )
            problems.append((created, "changed", detail))
        revoked = entry.actions.get("key.revoked")
        if revoked is not None and revoked_at is None:
            detail = f"key {key_id}: its revocation (entry {revoked}) was undone in the database"
            problems.append((revoked, "changed", detail))
        elif revoked is None and revoked_at is not None:
            detail = f"key {key_id} is revoked in the database but no entry recorded it"
            problems.append((head_seq, "unrecorded", detail))
    for key_id, entry in recorded.items():
        if key_id not in found and "key.created" in entry.actions:
            detail = f"key {key_id}, created by entry {entry.actions['key.created']}, is missing"
            problems.append((entry.actions["key.created"], "deleted", detail))
    return min(problems, key=lambda p: p[0]) if problems else None


def first_decision_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """:func:`first_unrecorded_change` under the name the other checks follow."""
    return first_unrecorded_change(session, head_seq)


# Run in order by verify_audit once the chain holds; the first mismatch is reported.
ROW_CHECKS: list[RowCheck] = [
    first_decision_mismatch,
    first_key_mismatch,
    first_user_mismatch,
    first_activation_mismatch,
    first_event_mismatch,
    first_revision_mismatch,
    first_claim_mismatch,
    first_ledger_entry_mismatch,
    first_account_mismatch,
]


def first_row_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The first mismatch any of :data:`ROW_CHECKS` finds."""
    for check in ROW_CHECKS:
        mismatch = check(session, head_seq)
        if mismatch is not None:
            return mismatch
    return None
