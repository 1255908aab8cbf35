"""The readiness probe's table: one row ``/readyz`` rewrites to prove the database takes writes.

A ``SELECT 1`` answers on a database that is read-only (a standby, a full
disk, a revoked grant) or whose writers are stuck behind a lock; a service
that cannot store a decision is not ready. The probe updates this row in a
transaction of its own, away from the audit chain's head, so it never
queues behind or in front of a decision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base

PROBE_ID = 1


class ReadinessProbeRow(Base):
    """The row the readiness probe writes: when a process last proved it could write."""

    __tablename__ = "readiness_probe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    checked_at: Mapped[datetime]
