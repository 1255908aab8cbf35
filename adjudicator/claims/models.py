"""The claim lifecycle's tables: claims, their case revisions, and their events.

- ``claims``: one row per claim, its state as JSON (:class:`adjudicator.core.lifecycle.ClaimState`)
  beside the columns a list filters and sorts on. ``open_key`` (a digest of
  order and claim id) is set while the claim is open and cleared when it
  closes, so a unique constraint keeps one open claim per ``(order_id,
  claim_id)`` and lets a new claim follow a closed one. ``due_sort`` is the
  next duty's due time (far future when none), the list's sort key;
  ``timer_due`` is when the worker must act (auto-escalation, evidence lapse).
  ``currency``, ``recommended_outcome`` and ``amount_claimed`` (the latest
  revision's, as its decimal string; none when the case names none) are what
  the console queue filters and shows without reading the state.
- ``claim_revisions``: every revision of the case document, with the decision
  the engine made on it.
- ``claim_events``: every accepted action in order, with the audit entry that
  recorded it and the ``Idempotency-Key`` it was sent with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base


class ClaimRow(Base):
    """One claim: its indexed summary and its full state."""

    __tablename__ = "claims"

    ref: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(200), index=True)
    claim_id: Mapped[str] = mapped_column(String(200))
    ground: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    recommended_outcome: Mapped[str] = mapped_column(String(32))
    amount_claimed: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    waiting_on: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer)
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[dict[str, Any]]
    clocks: Mapped[dict[str, Any]]
    filed_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    opened_by: Mapped[str | None] = mapped_column(String(64), index=True)
    next_due: Mapped[datetime | None]
    due_sort: Mapped[datetime]
    timer_due: Mapped[datetime | None] = mapped_column(index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_digest: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        Index("ix_claims_due_sort_ref", "due_sort", "ref"),
        Index("ix_claims_status_due_sort", "status", "due_sort", "ref"),
        Index("ix_claims_recommended_outcome_due_sort", "recommended_outcome", "due_sort", "ref"),
    )


class ClaimRevisionRow(Base):
    """One revision of a claim's case document and the decision made on it."""

    __tablename__ = "claim_revisions"

    claim_ref: Mapped[str] = mapped_column(ForeignKey("claims.ref"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    case_document: Mapped[dict[str, Any]]
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ClaimEventRow(Base):
    """One accepted action on a claim, in order, with its audit entry's seq."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    claim_ref: Mapped[str] = mapped_column(ForeignKey("claims.ref"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    party: Mapped[str] = mapped_column(String(16))
    actor_key_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    revision: Mapped[int] = mapped_column(Integer)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]]
    note: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_digest: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        UniqueConstraint("claim_ref", "seq", name="uq_claim_events_claim_ref_seq"),
        UniqueConstraint("claim_ref", "idempotency_key", name="uq_claim_events_claim_ref_key"),
    )
