"""Which ruleset version is active, and the governed ways to change it (rules-governance.md §6).

Reading it is :mod:`.active`. Changing it:

- :func:`request_activation`: an admin names a version and a replay report;
- :func:`approve_activation`: a **different** admin approves; the approval
  needs a succeeded report for the version's exact digest, measured against
  the version active at that moment (same version and digest), finished
  within :data:`REPORT_MAX_AGE`. The approval activates the version;
- :func:`rollback`: one admin with a reason returns to the version that was
  active before the current one (the activation history is a stack).

Each of these is one write transaction that first locks the audit chain's
head, so governance acts are serialised with each other and with every audit
entry, and each appends its entries (``ruleset.activation_requested``,
``ruleset.activation_approved``, ``ruleset.activated``,
``ruleset.rolled_back``) carrying the versions, their digests, the report's
digest and the actors.

Errors: :class:`SelfApproval` (the API's 403) and :class:`GovernanceConflict`
(409, with a ``kind``: ``stale-report``, ``report-mismatch``,
``request-closed``, ``already-active``, ``nothing-to-roll-back``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adjudicator.audit import chain
from adjudicator.core.dates import rfc3339
from adjudicator.core.errors import UnknownRuleset
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest, NotFound, StoreError
from adjudicator.db.store import Store
from adjudicator.decisions.records import check_text, is_decision_id
from adjudicator.governance import active as _active
from adjudicator.governance.active import ActiveVersion, Versions
from adjudicator.governance.models import (
    ActivationRequestRow,
    ReplayRow,
    RulesetActivationRow,
)

REPORT_MAX_AGE = timedelta(days=7)
REASON_MAX = 2000


class SelfApproval(StoreError):
    """The admin who filed an activation request may not approve it."""


class GovernanceConflict(StoreError):
    """The act conflicts with the state of the rules (stale report, closed request, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ActivationRequest:
    """An activation request and, once approved, who approved it."""

    request_id: str
    version: str
    digest: str
    report: str
    report_digest: str
    reason: str
    status: str
    requested_at: datetime
    requested_by: str
    approved_at: datetime | None
    approved_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "version": self.version,
            "digest": self.digest,
            "report": self.report,
            "report_digest": self.report_digest,
            "reason": self.reason,
            "status": self.status,
            "requested_at": rfc3339(self.requested_at),
            "requested_by": self.requested_by,
            "approved_at": rfc3339(self.approved_at) if self.approved_at else None,
            "approved_by": self.approved_by,
        }


def _request(row: ActivationRequestRow) -> ActivationRequest:
    return ActivationRequest(
        request_id=row.id,
        version=row.version,
        digest=row.digest,
        report=row.replay_id,
        report_digest=row.report_digest,
        reason=row.reason,
        status=row.status,
        requested_at=row.requested_at,
        requested_by=row.requested_by_name,
        approved_at=row.approved_at,
        approved_by=row.approved_by_name,
    )


def _same_person(a_key: str | None, a_name: str, b: Actor) -> bool:
    if a_key is not None or b.key_id is not None:
        return a_key == b.key_id
    return a_name == b.name


def _check_reason(reason: str) -> str:
    errors: dict[str, list[str]] = {}
    reason = reason.strip()
    if not reason:
        errors["reason"] = ["Must not be empty."]
    else:
        check_text(errors, "reason", reason, REASON_MAX)
    if errors:
        raise InvalidRequest("invalid reason", errors)
    return reason


def _actor(key_id: str | None, name: str | None) -> dict[str, Any]:
    return {"key_id": key_id, "name": name}


def request_activation(
    store: Store,
    versions: Versions,
    version: str,
    *,
    report: str,
    reason: str,
    actor: Actor,
    request_id: str | None = None,
) -> ActivationRequest:
    """File a request to activate ``version`` on the evidence of replay ``report``.

    The report must be a succeeded replay of this version's digest (else a
    :class:`GovernanceConflict`); whether it is fresh and measured against the
    active version is checked when the request is approved.
    """
    ruleset = versions.get(version)
    reason = _check_reason(reason)
    if not is_decision_id(report):
        raise InvalidRequest("unknown report", {"report": ["No replay with that id."]})
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        replay = session.get(ReplayRow, report)
        if replay is None:
            raise InvalidRequest("unknown report", {"report": ["No replay with that id."]})
        if replay.status != "succeeded" or replay.digest is None:
            raise GovernanceConflict("report-mismatch", f"replay {report} has not succeeded")
        if replay.candidate_digest != ruleset.digest:
            raise GovernanceConflict(
                "report-mismatch",
                f"replay {report} measured {replay.candidate_version} {replay.candidate_digest}, "
                f"not {ruleset.version} {ruleset.digest}",
            )
        row = ActivationRequestRow(
            id=str(uuid.uuid4()),
            version=ruleset.version,
            digest=ruleset.digest,
            replay_id=report,
            report_digest=replay.digest,
            reason=reason,
            status="pending",
            requested_at=now,
            requested_by_key_id=actor.key_id,
            requested_by_name=actor.name,
            approved_at=None,
            approved_by_key_id=None,
            approved_by_name=None,
        )
        session.add(row)
        session.flush()
        chain.append(
            session, head, at=now, actor=actor, action="ruleset.activation_requested",
            subject=row.id, request_id=request_id,
            payload={
                "request_id": row.id, "version": row.version, "digest": row.digest,
                "report": report, "report_digest": replay.digest, "reason": reason,
                "requested_by": _actor(actor.key_id, actor.name),
            },
        )  # fmt: skip
    return _request(row)


def get_activation_request(store: Store, request_id: str) -> ActivationRequest:
    """The activation request with that id."""
    if not is_decision_id(request_id):
        raise NotFound("activation request", request_id[:40])
    with store.db.autocommit() as session:
        row = session.get(ActivationRequestRow, request_id)
    if row is None:
        raise NotFound("activation request", request_id)
    return _request(row)


def _check_evidence(
    replay: ReplayRow | None, row: ActivationRequestRow, active: ActiveVersion, now: datetime
) -> None:
    if replay is None or replay.status != "succeeded" or replay.digest != row.report_digest:
        raise GovernanceConflict(
            "report-mismatch", "the request's report is not a succeeded replay"
        )
    if replay.candidate_digest != row.digest:
        raise GovernanceConflict("report-mismatch", "the report measured another digest")
    if (replay.baseline_version, replay.baseline_digest) != (active.version, active.digest):
        raise GovernanceConflict(
            "stale-report",
            f"the report was measured against {replay.baseline_version} "
            f"{replay.baseline_digest}; the active version is {active.version} {active.digest}",
        )
    if replay.finished_at is None or now - replay.finished_at > REPORT_MAX_AGE:
        raise GovernanceConflict("stale-report", "the report is older than 7 days")


def approve_activation(
    store: Store,
    versions: Versions,
    activation_request: str,
    *,
    actor: Actor,
    request_id: str | None = None,
) -> ActivationRequest:
    """Approve a pending request and activate its version (a different admin than the requester)."""
    if not is_decision_id(activation_request):
        raise NotFound("activation request", activation_request[:40])
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        row = session.get(ActivationRequestRow, activation_request)
        if row is None:
            raise NotFound("activation request", activation_request)
        if _same_person(row.requested_by_key_id, row.requested_by_name, actor):
            raise SelfApproval("an activation request needs a different admin to approve it")
        if row.status != "pending":
            raise GovernanceConflict("request-closed", f"the request is already {row.status}")
        try:
            ruleset = versions.get(row.version)
        except UnknownRuleset:
            raise GovernanceConflict(
                "report-mismatch", f"version {row.version} is not loaded here"
            ) from None
        if ruleset.digest != row.digest:
            raise GovernanceConflict(
                "report-mismatch", f"version {row.version}'s files changed since the request"
            )
        active, current = _active.current(session, versions)
        if active.version == row.version:
            raise GovernanceConflict("already-active", f"version {row.version} is already active")
        replay = session.get(ReplayRow, row.replay_id)
        _check_evidence(replay, row, active, now)
        if (
            current is None
        ):  # the file's default becomes the first row, so rollback can return to it
            current = RulesetActivationRow(
                version=active.version, digest=active.digest, kind="initial", previous_id=None,
                request_id=None, reason="the ruleset file's default", activated_at=now,
                actor_key_id=actor.key_id, actor_name=actor.name,
            )  # fmt: skip
            session.add(current)
            session.flush()
        session.add(
            RulesetActivationRow(
                version=row.version, digest=row.digest, kind="activation", previous_id=current.id,
                request_id=row.id, reason=row.reason, activated_at=now,
                actor_key_id=actor.key_id, actor_name=actor.name,
            )
        )  # fmt: skip
        row.status, row.approved_at = "approved", now
        row.approved_by_key_id, row.approved_by_name = actor.key_id, actor.name
        payload = {
            "request_id": row.id,
            "version": row.version,
            "digest": row.digest,
            "previous": {"version": active.version, "digest": active.digest},
            "report": row.replay_id,
            "report_digest": row.report_digest,
            "requested_by": _actor(row.requested_by_key_id, row.requested_by_name),
            "approved_by": _actor(actor.key_id, actor.name),
        }
        for action, subject in (
            ("ruleset.activation_approved", row.id),
            ("ruleset.activated", row.version),
        ):
            chain.append(
                session, head, at=now, actor=actor, action=action, subject=subject,
                request_id=request_id, payload=payload,
            )  # fmt: skip
    return _request(row)


def rollback(
    store: Store,
    versions: Versions,
    *,
    reason: str,
    actor: Actor,
    request_id: str | None = None,
) -> ActiveVersion:
    """Return to the version active before the current one; one admin, with a reason."""
    reason = _check_reason(reason)
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        current = _active.newest(session)
        if current is None or current.previous_id is None:
            raise GovernanceConflict("nothing-to-roll-back", "no earlier version to return to")
        target = session.get(RulesetActivationRow, current.previous_id)
        assert target is not None  # a foreign key
        try:
            loaded = versions.get(target.version)
        except UnknownRuleset:
            loaded = None
        if loaded is None or loaded.digest != target.digest:
            raise GovernanceConflict(
                "report-mismatch",
                f"version {target.version} {target.digest} is not loaded here as it was",
            )
        evidence = (
            session.get(ActivationRequestRow, current.request_id) if current.request_id else None
        )
        session.add(
            RulesetActivationRow(
                version=target.version, digest=target.digest, kind="rollback",
                previous_id=target.previous_id, request_id=None, reason=reason,
                activated_at=now, actor_key_id=actor.key_id, actor_name=actor.name,
            )
        )  # fmt: skip
        chain.append(
            session, head, at=now, actor=actor, action="ruleset.rolled_back",
            subject=target.version, request_id=request_id,
            payload={
                "version": target.version, "digest": target.digest,
                "from": {"version": current.version, "digest": current.digest},
                "reason": reason,
                "rolled_back_request": current.request_id,
                "report_digest": evidence.report_digest if evidence else None,
                "actor": _actor(actor.key_id, actor.name),
            },
        )  # fmt: skip
    return ActiveVersion(target.version, target.digest, "rollback", now)
