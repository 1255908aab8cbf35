"""The ruleset activation history and its requests against the ``ruleset.*`` entries.

The newest ``ruleset_activations`` row is the version every new decision is
made with, so a row inserted or edited by hand changes the rules without an
approval. The entries say what the history must be
(:mod:`adjudicator.governance.activation` writes both in one transaction):

- ``ruleset.activated``: an ``activation`` row (the approved request's
  version, digest and reason, approved by the entry's ``approved_by``),
  preceded by an ``initial`` row for the file's default (``previous``) when
  the history was empty;
- ``ruleset.rolled_back``: a ``rollback`` row returning to the version before
  the current one, with the entry's reason and actor.

Replaying them gives the rows in order; each is matched with the table in
``id`` order. A row that differs is named at its entry, a row no entry made
is unrecorded, an expected row that is gone is deleted. Each
``activation_requests`` row is held to its ``ruleset.activation_requested``
entry, and its approval to its ``ruleset.activation_approved`` entry (a
request set back to pending could be approved twice). A ``ruleset.*`` entry
without the fields the governed history writes (a log's older or foreign
form) makes no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.audit.chain import format_time
from adjudicator.audit.crosscheck import earlier
from adjudicator.audit.models import AuditEntryRow
from adjudicator.governance.models import ActivationRequestRow, RulesetActivationRow

if TYPE_CHECKING:
    from adjudicator.audit.crosscheck import Mismatch

RULESET_ACTIONS = (
    "ruleset.activation_requested",
    "ruleset.activation_approved",
    "ruleset.activated",
    "ruleset.rolled_back",
)

# What an entry of the activation history carries (others of that action make no row).
_HISTORY = {
    "ruleset.activated": {"request_id", "version", "digest", "previous"},
    "ruleset.rolled_back": {"version", "digest", "from"},
}


@dataclass(slots=True)
class Expected:
    """One activation row as the entries say it must be."""

    seq: int
    version: str
    digest: str
    kind: str
    previous: int | None  # index into the expected rows
    request_id: str | None
    reason: str | None
    at: datetime
    actor: dict[str, Any]
    check_reason: bool = True


def _actor(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _replay(session: Session, head_seq: int) -> tuple[list[Expected], dict[str, Any]]:
    """The activation rows the entries imply, and each request's entries by request id."""
    expected: list[Expected] = []
    requests: dict[str, dict[str, Any]] = {}
    entries = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.at, AuditEntryRow.action, AuditEntryRow.payload)
        .where(AuditEntryRow.action.in_(RULESET_ACTIONS), AuditEntryRow.seq <= head_seq)
        .order_by(AuditEntryRow.seq)
    )
    for seq, at, action, payload in entries:
        if action in _HISTORY and not _HISTORY[action] <= payload.keys():
            continue  # not written by the governed history (a hand-made or foreign entry)
        if action == "ruleset.activation_requested":
            requests[str(payload.get("request_id"))] = {"requested": (seq, payload)}
        elif action == "ruleset.activation_approved":
            requests.setdefault(str(payload.get("request_id")), {})["approved"] = (seq, payload)
        elif action == "ruleset.activated":
            approver = _actor(payload.get("approved_by"))
            if not expected:
                previous = _actor(payload.get("previous"))
                expected.append(
                    Expected(seq, str(previous.get("version")), str(previous.get("digest")),
                             "initial", None, None, None, at, approver, check_reason=False)
                )  # fmt: skip
            request = requests.get(str(payload.get("request_id")), {}).get("requested")
            reason = None if request is None else request[1].get("reason")
            expected.append(
                Expected(seq, str(payload.get("version")), str(payload.get("digest")),
                         "activation", len(expected) - 1, payload.get("request_id"), reason,
                         at, approver)
            )  # fmt: skip
        elif action == "ruleset.rolled_back":
            current = expected[-1] if expected else None
            target = None if current is None or current.previous is None else current.previous
            back = None if target is None else expected[target].previous
            expected.append(
                Expected(seq, str(payload.get("version")), str(payload.get("digest")),
                         "rollback", back, None, payload.get("reason"), at,
                         _actor(payload.get("actor")))
            )  # fmt: skip
    return expected, requests


def _differences(row: RulesetActivationRow, want: Expected, previous_id: int | None) -> list[str]:
    found = []
    for name, column, wanted in (
        ("version", row.version, want.version),
        ("digest", row.digest, want.digest),
        ("kind", row.kind, want.kind),
        ("previous_id", row.previous_id, previous_id),
        ("request_id", row.request_id, want.request_id),
        ("actor key", row.actor_key_id, want.actor.get("key_id")),
        ("actor name", row.actor_name, want.actor.get("name")),
    ):
        if column != wanted:
            found.append(f"{name} {column!r} in the database, {wanted!r} in the log")
    if want.check_reason and row.reason != want.reason:
        found.append(f"reason {row.reason!r} in the database, {want.reason!r} in the log")
    if format_time(row.activated_at) != format_time(want.at):
        found.append(
            f"activated at {format_time(row.activated_at)} in the database, "
            f"{format_time(want.at)} in the log"
        )
    return found


def _same_act(row: RulesetActivationRow, want: Expected) -> bool:
    """Whether ``row`` is the one ``want`` speaks of (however much of it was changed)."""
    if want.kind == "activation" and row.request_id is not None:
        return row.request_id == want.request_id
    return row.kind == want.kind and row.activated_at == want.at


def first_activation_mismatch(session: Session, head_seq: int) -> Mismatch | None:
    """The activation row that disagrees with the log at the earliest entry."""
    expected, requests = _replay(session, head_seq)
    rows = session.execute(select(RulesetActivationRow).order_by(RulesetActivationRow.id)).scalars()
    ids: dict[int, int] = {}  # index into expected -> the row's id
    best: Mismatch | None = None
    at = 0
    for row in rows:
        want = expected[at] if at < len(expected) else None
        if want is None or not _same_act(row, want):
            detail = (
                f"ruleset activation {row.id} ({row.kind} of {row.version} {row.digest}) "
                "has no ruleset.* entry"
            )
            best = earlier(best, (head_seq, "unrecorded", detail))
            continue
        ids[at] = row.id
        previous_id = None if want.previous is None else ids.get(want.previous)
        changed = _differences(row, want, previous_id)
        if changed:
            detail = (
                f"ruleset activation {row.id} was changed in the database after entry "
                f"{want.seq} recorded it: " + "; ".join(changed)
            )
            best = earlier(best, (want.seq, "changed", detail))
        at += 1
    for want in expected[at:]:
        detail = (
            f"the ruleset activation ({want.kind} of {want.version} {want.digest}) "
            f"recorded by entry {want.seq} is missing"
        )
        best = earlier(best, (want.seq, "deleted", detail))
    return earlier(best, _first_request_mismatch(session, requests, head_seq))


def _request_differences(row: ActivationRequestRow, entries: dict[str, Any]) -> list[str]:
    _, asked = entries["requested"]
    requester = _actor(asked.get("requested_by"))
    found = []
    for name, column, wanted in (
        ("version", row.version, asked.get("version")),
        ("digest", row.digest, asked.get("digest")),
        ("report", row.replay_id, asked.get("report")),
        ("report_digest", row.report_digest, asked.get("report_digest")),
        ("reason", row.reason, asked.get("reason")),
        ("requested_by key", row.requested_by_key_id, requester.get("key_id")),
        ("requested_by name", row.requested_by_name, requester.get("name")),
    ):
        if column != wanted:
            found.append(f"{name} {column!r} in the database, {wanted!r} in the log")
    approved = entries.get("approved")
    if approved is None and (row.status != "pending" or row.approved_by_name is not None):
        found.append(f"it is {row.status!r} in the database, but no entry approved it")
    elif approved is not None:
        approver = _actor(approved[1].get("approved_by"))
        if (row.status, row.approved_by_key_id, row.approved_by_name) != (
            "approved", approver.get("key_id"), approver.get("name")
        ):  # fmt: skip
            found.append(
                f"it is {row.status!r} (by {row.approved_by_name!r}) in the database, "
                f"approved by {approver.get('name')!r} in entry {approved[0]}"
            )
    return found


def _first_request_mismatch(
    session: Session, requests: dict[str, Any], head_seq: int
) -> Mismatch | None:
    best: Mismatch | None = None
    found = set()
    for row in session.execute(select(ActivationRequestRow)).scalars():
        found.add(row.id)
        entries = requests.get(row.id, {})
        if "requested" not in entries:
            detail = f"activation request {row.id} ({row.version}) has no request entry"
            best = earlier(best, (head_seq, "unrecorded", detail))
            continue
        changed = _request_differences(row, entries)
        if changed:
            seq = entries["requested"][0]
            detail = (
                f"activation request {row.id} was changed in the database after entry {seq} "
                "recorded it: " + "; ".join(changed)
            )
            best = earlier(best, (seq, "changed", detail))
    for request_id, entries in requests.items():
        if request_id not in found and "requested" in entries:
            seq = entries["requested"][0]
            detail = f"activation request {request_id}, recorded by entry {seq}, is missing"
            best = earlier(best, (seq, "deleted", detail))
    return best
