"""Hardening: request ids and idempotency scope.

- ``decisions``: an ``Idempotency-Key`` is unique per API key (``actor_key_id``,
  ``idempotency_key``), no longer across the service: two systems may pick the
  same key string.
- ``readiness_probe``: the one row ``/readyz`` rewrites to check the database
  takes writes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from adjudicator.db.models import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("uq_decisions_idempotency_key", type_="unique")
        batch.create_unique_constraint(
            "uq_decisions_idempotency_scope", ["actor_key_id", "idempotency_key"]
        )
    probe = op.create_table(
        "readiness_probe",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("checked_at", UtcDateTime(), nullable=False),
    )
    op.bulk_insert(probe, [{"id": 1, "checked_at": datetime(1970, 1, 1, tzinfo=UTC)}])


def downgrade() -> None:
    op.drop_table("readiness_probe")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("uq_decisions_idempotency_scope", type_="unique")
        batch.create_unique_constraint("uq_decisions_idempotency_key", ["idempotency_key"])
