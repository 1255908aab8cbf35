"""The decisions table: every decision, the engine's or a staff override.

Migrations own the schema; a test compares these classes with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base


class DecisionRow(Base):
    """One decision: the engine's, or a staff override linked to the one it replaces."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[str] = mapped_column(String(200), index=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    ruleset_version: Mapped[str] = mapped_column(String(64))
    ruleset_digest: Mapped[str] = mapped_column(String(80))
    case_digest: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_digest: Mapped[str | None] = mapped_column(String(80))
    document: Mapped[dict[str, Any]]
    case_document: Mapped[dict[str, Any]]
    overrides_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    justification: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_decisions_created_at_id", "created_at", "id"),
        # An Idempotency-Key is the client's: unique per API key, not across the service.
        UniqueConstraint("actor_key_id", "idempotency_key", name="uq_decisions_idempotency_scope"),
    )
