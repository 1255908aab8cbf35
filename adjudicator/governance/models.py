"""The rules-governance tables: replays, activation requests, and the activation history.

- ``replays``: one impact-analysis job (rules-governance.md §5): what it
  replays, its status and progress, and when done its report, the report's
  digest and the CSV of every changed case. Nothing else is written by a replay.
- ``activation_requests``: an admin's request to activate a version, naming a
  replay report; approved (once) by a different admin.
- ``ruleset_activations``: append-only history of the active version. The
  newest row is the active version; ``previous_id`` points at the row that
  was active before it, so a rollback pops that stack. While the table is
  empty, the ruleset file's ``active`` is the active version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base


class ReplayRow(Base):
    """A replay job and, once it succeeded, its report."""

    __tablename__ = "replays"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    candidate_version: Mapped[str] = mapped_column(String(64))
    candidate_digest: Mapped[str] = mapped_column(String(80))
    baseline_version: Mapped[str] = mapped_column(String(64))
    baseline_digest: Mapped[str] = mapped_column(String(80))
    parameters: Mapped[dict[str, Any]]
    total: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any] | None]
    digest: Mapped[str | None] = mapped_column(String(80))
    csv: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    """When the job last showed life: created, planned, a chunk merged."""
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200))


class ActivationRequestRow(Base):
    """A request to activate ``version`` on the evidence of replay ``replay_id``."""

    __tablename__ = "activation_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(80))
    replay_id: Mapped[str] = mapped_column(ForeignKey("replays.id"), index=True)
    report_digest: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime]
    requested_by_key_id: Mapped[str | None] = mapped_column(String(32))
    requested_by_name: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    approved_by_key_id: Mapped[str | None] = mapped_column(String(32))
    approved_by_name: Mapped[str | None] = mapped_column(String(200))


class RulesetActivationRow(Base):
    """One change of the active version: the initial default, an activation, a rollback."""

    __tablename__ = "ruleset_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("ruleset_activations.id"))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("activation_requests.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    activated_at: Mapped[datetime]
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200))
